-- A published review's evidence pack (reports/evidence.py), built once from what PostgreSQL
-- keeps and stored here, so that it outlives Temporal's history and the retention of anything
-- it was built from, and every download has the same bytes. One per published report version.
CREATE TABLE evidence_packs (
    review_id text NOT NULL REFERENCES reviews (id),
    report_version integer NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bytes bytea NOT NULL,
    built_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, report_version),
    FOREIGN KEY (review_id, report_version) REFERENCES reports (review_id, version)
);
