-- Drafting and clearance within a State: a focal point's colleagues draft the national report
-- with it (accounts of the role 'drafter', of the same country), every save of the draft is
-- kept as a revision, and a revision is cleared before the report is sent.
ALTER TABLE actors DROP CONSTRAINT actors_role_check;
ALTER TABLE actors ADD CONSTRAINT actors_role_check
    CHECK (role IN ('admin', 'secretariat', 'focal_point', 'stakeholder', 'observer', 'drafter'));
ALTER TABLE actors ADD CONSTRAINT actors_drafter_country CHECK (role <> 'drafter' OR country IS NOT NULL);

-- The drafters a focal point added to its country's team for a review: they see that review
-- and draft its national report.
CREATE TABLE review_drafters (
    review_id text NOT NULL REFERENCES reviews (id),
    country text NOT NULL CHECK (country ~ '^[A-Z]{3}$'),
    drafter uuid NOT NULL REFERENCES actors (id),
    added_by uuid NOT NULL REFERENCES actors (id),
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, drafter)
);
CREATE INDEX review_drafters_by_drafter ON review_drafters (drafter);

-- Every save of a national report's draft that changed it, numbered per draft from 1. The
-- revisions stay when the draft is sent (and its row deleted): the history of the report.
CREATE TABLE draft_revisions (
    review_id text NOT NULL REFERENCES reviews (id),
    kind text NOT NULL CHECK (kind IN ('national_report', 'stakeholder_input')),
    subject text NOT NULL,
    number integer NOT NULL CHECK (number >= 1),
    content jsonb NOT NULL,
    -- SHA-256 of the content's canonical JSON: what a clearance names.
    content_hash text NOT NULL,
    saved_by uuid NOT NULL REFERENCES actors (id),
    saved_at timestamptz NOT NULL DEFAULT now(),
    clearance_requested_by uuid REFERENCES actors (id),
    clearance_requested_at timestamptz,
    cleared_by uuid REFERENCES actors (id),
    cleared_at timestamptz,
    PRIMARY KEY (review_id, kind, subject, number)
);

-- The colleague who clears a country's national report in a review, when the focal point
-- names one (else a focal point of the country clears it).
CREATE TABLE clearing_officers (
    review_id text NOT NULL REFERENCES reviews (id),
    country text NOT NULL CHECK (country ~ '^[A-Z]{3}$'),
    officer uuid NOT NULL REFERENCES actors (id),
    named_by uuid NOT NULL REFERENCES actors (id),
    named_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, country)
);
CREATE INDEX actors_drafters ON actors (country, lower(email)) WHERE role = 'drafter';
