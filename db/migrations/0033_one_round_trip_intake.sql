-- A submission request is stored in one round trip, and the annexes' lock is taken by one
-- function wherever it is needed, so the subject's key is written once.

-- Hold a subject's annexes still until the transaction ends: attaching, removing, and sending
-- a version with them all take it.
CREATE FUNCTION lock_annex_subject(review text, kind text, subject text) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtextextended('annexes/' || review || '/' || kind || '/' || subject, 0))
$$;

-- Store a submission request once per request id: its submission (made the first time the
-- subject submits), the request pending with its content (or rejected without it, when
-- `rejection` is given), the subject's annexes as they are now for a pending one; then the
-- request as it now stands and whether this call stored it. One statement, so one
-- transaction; each statement inside sees what the one before did and what others committed
-- meanwhile (the annexes are read after their lock is held).
CREATE FUNCTION store_submission_request(
    p_request_id uuid, p_new_submission_id uuid, p_review_id text, p_kind text, p_subject text,
    p_content jsonb, p_fingerprint text, p_submitted_by uuid, p_organisation text,
    p_rejection jsonb, p_schema_version integer)
RETURNS TABLE (inserted boolean, request_id uuid, submission_id uuid, review_id text, kind text,
               subject text, status text, version integer, late boolean, fingerprint text,
               rejection jsonb, received_at timestamptz, schema_version integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    stored_submission uuid;
    stored_now boolean;
BEGIN
    INSERT INTO submissions AS s (id, review_id, kind, subject)
    VALUES (p_new_submission_id, p_review_id, p_kind, p_subject)
    ON CONFLICT (review_id, kind, subject) DO UPDATE SET kind = EXCLUDED.kind
    RETURNING s.id INTO stored_submission;

    INSERT INTO submission_versions (request_id, submission_id, status, content, fingerprint,
                                     submitted_by, organisation, rejection, decided_at,
                                     schema_version)
    VALUES (p_request_id, stored_submission,
            CASE WHEN p_rejection IS NULL THEN 'pending' ELSE 'rejected' END,
            p_content, p_fingerprint, p_submitted_by, p_organisation, p_rejection,
            CASE WHEN p_rejection IS NULL THEN NULL ELSE now() END, p_schema_version)
    ON CONFLICT (request_id) DO NOTHING
    RETURNING true INTO stored_now;

    IF stored_now AND p_content IS NOT NULL THEN
        PERFORM lock_annex_subject(p_review_id, p_kind, p_subject);
        INSERT INTO submission_version_annexes (request_id, annex_id)
        SELECT p_request_id, a.id FROM annexes a
        WHERE a.review_id = p_review_id AND a.kind = p_kind AND a.subject = p_subject
          AND a.removed_at IS NULL
        ON CONFLICT DO NOTHING;
    END IF;

    RETURN QUERY
    SELECT coalesce(stored_now, false), v.request_id, v.submission_id, s.review_id, s.kind,
           s.subject, v.status, v.version, v.late, v.fingerprint, v.rejection, v.received_at,
           v.schema_version
    FROM submission_versions v JOIN submissions s ON s.id = v.submission_id
    WHERE v.request_id = p_request_id;
END
$$;
