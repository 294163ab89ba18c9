-- Reviews (the read model the API lists from), their submissions and their audit trail.
-- The workflow is the source of truth for process state; activities keep these rows current.

CREATE TABLE reviews (
    id text PRIMARY KEY,
    region text NOT NULL,
    title text NOT NULL,
    member_states text[] NOT NULL,
    timeline jsonb NOT NULL,
    reminder_days integer[] NOT NULL,
    late_submissions text NOT NULL CHECK (late_submissions IN ('reject', 'accept_flagged')),
    -- NULL: open to every stakeholder; otherwise the invited stakeholder actors.
    stakeholders uuid[],
    phase text NOT NULL,
    deadlines jsonb NOT NULL,
    country_extensions jsonb NOT NULL DEFAULT '{}',
    created_by uuid NOT NULL REFERENCES actors (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX reviews_region_phase ON reviews (region, phase, created_at, id);

-- One row per thing submitted: a member State's national report, or one organisation's input.
CREATE TABLE submissions (
    id uuid PRIMARY KEY,
    review_id text NOT NULL REFERENCES reviews (id),
    kind text NOT NULL CHECK (kind IN ('national_report', 'stakeholder_input')),
    -- ISO3 country for a national report; the organisation for a stakeholder input.
    subject text NOT NULL,
    latest_version integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (review_id, kind, subject)
);

-- Every request to submit: pending until the review's workflow decides, then accepted (with
-- the next version number) or rejected (with the answer the submitter got).
CREATE TABLE submission_versions (
    request_id uuid PRIMARY KEY,
    submission_id uuid NOT NULL REFERENCES submissions (id),
    version integer,
    status text NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    late boolean NOT NULL DEFAULT false,
    content jsonb NOT NULL,
    fingerprint text NOT NULL,
    submitted_by uuid NOT NULL REFERENCES actors (id),
    organisation text,
    received_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    rejection jsonb,
    UNIQUE (submission_id, version),
    CHECK ((status = 'accepted') = (version IS NOT NULL))
);

CREATE INDEX submission_versions_by_submitter ON submission_versions (submitted_by);

CREATE TABLE review_events (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    review_id text NOT NULL REFERENCES reviews (id),
    type text NOT NULL,
    actor_id uuid,
    at timestamptz NOT NULL,
    data jsonb NOT NULL DEFAULT '{}',
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX review_events_by_review ON review_events (review_id, seq);
