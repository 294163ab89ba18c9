-- The time zone a person reads deadlines in (an IANA name); deadlines are stored in UTC.
ALTER TABLE actors
    ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) BETWEEN 1 AND 64);
