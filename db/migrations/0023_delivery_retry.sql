-- A delivery that failed for good may be put back by its review's secretariat with a fresh
-- budget of attempts: `attempts` keeps counting (a sender's writes are fenced by it), and the
-- budget counts those since `attempt_base`.
ALTER TABLE deliveries ADD COLUMN attempt_base integer NOT NULL DEFAULT 0;

-- A review's failed deliveries, listed for its secretariat, through their events.
CREATE INDEX deliveries_failed ON deliveries (event_id) WHERE status = 'failed';
