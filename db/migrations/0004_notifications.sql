-- Notifications: who wants what, webhook subscriptions, and one delivery per
-- (event, channel, recipient), the log that keeps every message sent once.

ALTER TABLE actors
    ADD COLUMN language text NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2}$'),
    ADD COLUMN notifications text NOT NULL DEFAULT 'all' CHECK (notifications IN ('all', 'essential'));

-- Whether an actor who asked for essential notifications only may skip reminders too.
ALTER TABLE reviews ADD COLUMN reminders_optional boolean NOT NULL DEFAULT false;

CREATE TABLE webhooks (
    id uuid PRIMARY KEY,
    owner uuid NOT NULL REFERENCES actors (id),
    url text NOT NULL,
    events text[] NOT NULL,
    -- Kept to sign each delivery (HMAC needs the secret itself); never shown again.
    secret text NOT NULL,
    -- Scope: one review, or every review of these regions.
    review_id text REFERENCES reviews (id),
    regions text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz,
    CHECK (review_id IS NOT NULL OR cardinality(regions) > 0)
);

-- Which events have been turned into deliveries. A per-event mark rather than a cursor over
-- seq: a transaction may commit an event with a lower seq after a higher one was read.
ALTER TABLE review_events ADD COLUMN expanded_at timestamptz;
UPDATE review_events SET expanded_at = recorded_at;  -- nothing from before is announced
CREATE INDEX review_events_to_expand ON review_events (seq) WHERE expanded_at IS NULL;

CREATE TABLE deliveries (
    -- md5(event, channel, recipient) as a uuid: the same message always has the same id,
    -- which is also its Message-ID or webhook delivery id.
    id uuid PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES review_events (id),
    channel text NOT NULL CHECK (channel IN ('email', 'webhook')),
    -- The actor (email) or the webhook (webhook) it goes to, and where.
    recipient uuid NOT NULL,
    address text NOT NULL,
    template text NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    sent_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, channel, recipient)
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_by_recipient ON deliveries (recipient, created_at);

CREATE TABLE delivery_attempts (
    delivery_id uuid NOT NULL REFERENCES deliveries (id),
    attempt integer NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    status_code integer,
    error text,
    duration_ms integer NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
