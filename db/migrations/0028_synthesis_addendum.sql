-- The addendum to a review's synthesis: the versions accepted once the synthesis the
-- consultees read had been made. Decided as each version is accepted (db.submissions.accept),
-- under the same (advisory) lock the synthesis is made under, so each version is in the
-- synthesis or in its addendum, never in both nor in neither.
ALTER TABLE submission_versions ADD COLUMN after_synthesis boolean NOT NULL DEFAULT false;

-- Versions accepted during a consultation opened before this migration: after its opening.
UPDATE submission_versions v SET after_synthesis = true
FROM submissions s, review_events e
WHERE v.submission_id = s.id AND v.status = 'accepted'
  AND e.review_id = s.review_id AND e.type = 'consultation.opened' AND v.decided_at > e.at;

CREATE INDEX submission_versions_after_synthesis ON submission_versions (submission_id, version)
    WHERE after_synthesis;
