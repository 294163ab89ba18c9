-- The stakeholder consultation: the synthesis it is about, and one task per person consulted.

ALTER TABLE reviews
    ADD COLUMN consult_focal_points boolean NOT NULL DEFAULT false,
    ADD COLUMN escalation jsonb;

-- Who a review consults: its invited stakeholders (or, for an open review, every stakeholder of
-- its region), and its member States' focal points when the review says so.
CREATE VIEW review_consultees AS
SELECT r.id AS review_id, a.id AS actor_id, a.role, a.organisation, a.stakeholder_category, a.country
FROM reviews r
JOIN actors a ON
    (a.role = 'stakeholder' AND CASE WHEN r.stakeholders IS NULL THEN r.region = ANY (a.regions)
                                     ELSE a.id = ANY (r.stakeholders) END)
    OR (r.consult_focal_points AND a.role = 'focal_point' AND a.country = ANY (r.member_states));

CREATE TABLE syntheses (
    review_id text PRIMARY KEY REFERENCES reviews (id),
    content jsonb NOT NULL,
    content_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tasks (
    id uuid PRIMARY KEY,
    review_id text NOT NULL REFERENCES reviews (id),
    kind text NOT NULL CHECK (kind IN ('consultation')),
    -- Who was consulted; the task may since have been delegated to a colleague (assignee).
    invitee uuid NOT NULL REFERENCES actors (id),
    assignee uuid NOT NULL REFERENCES actors (id),
    organisation text,
    stakeholder_category text,
    country text,
    due_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'expired', 'cancelled')),
    response jsonb,
    response_hash text,
    completed_at timestamptz,
    completed_by uuid REFERENCES actors (id),
    reminders_sent integer NOT NULL DEFAULT 0,
    last_reminded_at timestamptz,
    delegations jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (review_id, invitee),
    CHECK ((status = 'completed') = (response IS NOT NULL))
);

CREATE INDEX tasks_by_assignee ON tasks (assignee, status);
CREATE INDEX tasks_by_review_status ON tasks (review_id, status);
