-- Consultation meetings of a review: stakeholder consultations, the intergovernmental review
-- meeting and its round tables. Who registered (an organisation for its people, a country
-- for its delegation; one registration each), who waits for a place, who attended, and the
-- meeting's summary.
CREATE TABLE review_sessions (
    id uuid PRIMARY KEY,
    review_id text NOT NULL REFERENCES reviews (id),
    kind text NOT NULL CHECK (kind IN ('stakeholder_consultation', 'review_meeting', 'round_table')),
    title text NOT NULL,
    -- A round table's review meeting, and its cluster.
    meeting_id uuid REFERENCES review_sessions (id),
    cluster integer CHECK (cluster BETWEEN 1 AND 4),
    mode text NOT NULL CHECK (mode IN ('online', 'in_person', 'hybrid')),
    link text,
    place text,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
    agenda jsonb NOT NULL DEFAULT '[]',
    capacity integer CHECK (capacity > 0),
    audience text NOT NULL CHECK (audience IN ('stakeholders', 'member_states', 'both')),
    status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    cancel_reason text,
    created_by uuid NOT NULL REFERENCES actors (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_sessions_by_review ON review_sessions (review_id, starts_at);

CREATE TABLE session_registrations (
    id uuid PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES review_sessions (id),
    -- 'organisation:<id>' or 'country:<ISO3>': one registration each.
    party text NOT NULL,
    registered_by uuid NOT NULL REFERENCES actors (id),
    people jsonb NOT NULL,
    headcount integer NOT NULL CHECK (headcount >= 1),
    status text NOT NULL CHECK (status IN ('registered', 'waitlisted')),
    -- The waiting list's order.
    queued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    attended boolean,
    -- Of a delegation: the positions in `people` of the delegates who attended.
    attended_people jsonb,
    UNIQUE (session_id, party)
);
CREATE INDEX session_registrations_by_account ON session_registrations (registered_by);

CREATE TABLE session_summaries (
    session_id uuid PRIMARY KEY REFERENCES review_sessions (id),
    review_id text NOT NULL REFERENCES reviews (id),
    kind text NOT NULL CHECK (kind IN ('rapporteur_summary', 'chair_summary')),
    text text NOT NULL,
    text_sha256 text NOT NULL,
    written_by uuid NOT NULL REFERENCES actors (id),
    written_by_role text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_summaries_by_review ON session_summaries (review_id);
