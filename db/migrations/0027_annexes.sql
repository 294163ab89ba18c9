-- Annexes: files (PDF or DOCX) attached to a national report or a stakeholder input.
--
-- The bytes are kept once per content, by their SHA-256, in `file_blobs` (services/files.py
-- reads and writes them; an object store could hold them instead). `annexes` says which file
-- is attached to which submission subject (review, kind and subject, as the drafts are), under
-- the name it was sent with and the type its content has. Annexes are attached while drafting;
-- each version sent records, in `submission_version_annexes`, the annexes it was sent with, so
-- removing one later never changes what an earlier version holds.
CREATE TABLE file_blobs (
    sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size bigint NOT NULL CHECK (size >= 0),
    content bytea NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE annexes (
    id uuid PRIMARY KEY,
    review_id text NOT NULL REFERENCES reviews (id),
    kind text NOT NULL CHECK (kind IN ('national_report', 'stakeholder_input')),
    subject text NOT NULL,
    -- As sent, made safe for display (services/annexes.py); never used as a path.
    file_name text NOT NULL,
    -- As found in the content, whatever the name or the request said.
    media_type text NOT NULL,
    size bigint NOT NULL CHECK (size >= 0),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uploaded_by uuid NOT NULL REFERENCES actors (id),
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    -- Set when removed from the draft after a version was sent with it: that version keeps it.
    removed_at timestamptz
);

-- The purge of files no annex names (db/retention.py) looks them up by hash.
CREATE INDEX annexes_by_file ON annexes (sha256);

CREATE INDEX annexes_of_subject ON annexes (review_id, kind, subject, uploaded_at, id)
    WHERE removed_at IS NULL;

CREATE TABLE submission_version_annexes (
    request_id uuid NOT NULL REFERENCES submission_versions (request_id),
    annex_id uuid NOT NULL REFERENCES annexes (id),
    PRIMARY KEY (request_id, annex_id)
);

CREATE INDEX submission_version_annexes_by_annex ON submission_version_annexes (annex_id);
