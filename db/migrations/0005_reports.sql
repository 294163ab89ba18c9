-- Compiled reports, one row per version, stored in their final bytes: a published version is
-- frozen, and every later read returns exactly what was approved.

CREATE TABLE report_change_requests (
    id uuid PRIMARY KEY,
    review_id text NOT NULL REFERENCES reviews (id),
    -- The version the secretariat asked to change.
    version integer NOT NULL,
    note text NOT NULL,
    -- Editorial text per section ("overview", "cluster-2", "objective-7", ...).
    editorial jsonb NOT NULL DEFAULT '{}',
    requested_by uuid NOT NULL REFERENCES actors (id),
    requested_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reports (
    review_id text NOT NULL REFERENCES reviews (id),
    version integer NOT NULL,
    content_hash text NOT NULL,
    json text NOT NULL,
    html text NOT NULL,
    markdown text NOT NULL,
    change_request_id uuid REFERENCES report_change_requests (id),
    compiled_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    published_at timestamptz,
    published_by uuid REFERENCES actors (id),
    note text,
    PRIMARY KEY (review_id, version)
);

-- At most one published version per review.
CREATE UNIQUE INDEX reports_published ON reports (review_id) WHERE status = 'published';
