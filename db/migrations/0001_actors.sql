-- People and systems that use reviewflow, and the answers to idempotent requests.

CREATE TABLE actors (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    email text,
    role text NOT NULL CHECK (role IN ('admin', 'secretariat', 'focal_point', 'stakeholder', 'observer')),
    regions text[] NOT NULL DEFAULT '{}',
    country text CHECK (country ~ '^[A-Z]{3}$'),
    organisation text,
    stakeholder_category text,
    token_hash text NOT NULL UNIQUE,
    created_by uuid REFERENCES actors (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'focal_point' OR country IS NOT NULL),
    CHECK (role <> 'stakeholder' OR (organisation IS NOT NULL AND stakeholder_category IS NOT NULL)),
    CHECK (role <> 'secretariat' OR cardinality(regions) > 0)
);

CREATE INDEX actors_role ON actors (role);

-- A retried POST with the same Idempotency-Key returns the first answer and creates nothing.
CREATE TABLE idempotent_requests (
    actor_id uuid NOT NULL REFERENCES actors (id),
    key text NOT NULL,
    request_hash text NOT NULL,
    status integer NOT NULL,
    response jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, key)
);
