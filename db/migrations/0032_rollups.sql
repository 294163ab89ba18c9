-- Review cycles and the roll-up of a cycle's published regional reports for the International
-- Migration Review Forum.

-- The cycle a review belongs to ("2020-2021"): by default the four-year round its call for
-- inputs opens in (2020 + 4k), or the one named when it was created.
ALTER TABLE reviews ADD COLUMN cycle text CHECK (cycle ~ '^[0-9]{4}-[0-9]{4}$');

-- The round (2020 + 4k) of the instant's year, as domain/cycles.py computes it.
CREATE FUNCTION review_cycle_of(opens timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (2020 + (greatest(extract(year FROM opens AT TIME ZONE 'UTC')::int, 2020) - 2020) / 4 * 4)::text
           || '-' ||
           (2021 + (greatest(extract(year FROM opens AT TIME ZONE 'UTC')::int, 2020) - 2020) / 4 * 4)::text
$$;
UPDATE reviews
   SET cycle = review_cycle_of(coalesce((timeline ->> 'call_opens_at')::timestamptz, created_at));
ALTER TABLE reviews ALTER COLUMN cycle SET NOT NULL;

-- A row written without its cycle (by an older process during an upgrade, or in bulk) gets
-- its default.
CREATE FUNCTION reviews_default_cycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.cycle IS NULL THEN
        -- A timeline without its opening (only ever written by hand) counts from today.
        NEW.cycle := review_cycle_of(
            coalesce((NEW.timeline ->> 'call_opens_at')::timestamptz, now()));
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER reviews_default_cycle BEFORE INSERT ON reviews
    FOR EACH ROW EXECUTE FUNCTION reviews_default_cycle();
CREATE INDEX reviews_by_cycle ON reviews (cycle, region);

-- One roll-up per cycle; its id is the cycle.
CREATE TABLE rollups (
    cycle text PRIMARY KEY CHECK (cycle ~ '^[0-9]{4}-[0-9]{4}$'),
    title text NOT NULL,
    created_by uuid NOT NULL REFERENCES actors (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Every compiled version, stored in its final bytes. `sources` names the regional report
-- versions it was compiled from ([{review_id, region, version, content_hash}]).
CREATE TABLE rollup_versions (
    cycle text NOT NULL REFERENCES rollups (cycle),
    version integer NOT NULL CHECK (version >= 1),
    content_hash text NOT NULL,
    sources jsonb NOT NULL,
    json text NOT NULL,
    html text NOT NULL,
    markdown text NOT NULL,
    pdf bytea,
    compiled_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'superseded')),
    published_at timestamptz,
    published_by uuid REFERENCES actors (id),
    PRIMARY KEY (cycle, version)
);
-- At most one public version per roll-up: publishing a newer one supersedes it.
CREATE UNIQUE INDEX rollup_versions_published ON rollup_versions (cycle) WHERE status = 'published';

-- The roll-up's audit trail. A sibling of review_events rather than rows in it: those belong
-- to a review (a foreign key, the review's notifications and webhooks read them), and a
-- roll-up is no review.
CREATE TABLE rollup_events (
    seq bigserial PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    cycle text NOT NULL REFERENCES rollups (cycle),
    type text NOT NULL,
    actor_id uuid,
    at timestamptz NOT NULL,
    data jsonb NOT NULL DEFAULT '{}',
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rollup_events_by_cycle ON rollup_events (cycle, seq);
