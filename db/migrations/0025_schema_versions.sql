-- Schema versions: a review pins the version of each document schema it collects, every
-- submitted version records the version it was checked against, and a draft the version it
-- was written against. Everything before this migration was written against version 1.
-- The defaults are version 1 for rows written without one; the service pins a new review at
-- the schema versions current when it is created.
ALTER TABLE reviews
    ADD COLUMN schema_versions jsonb NOT NULL
        DEFAULT '{"national_report": 1, "stakeholder_input": 1, "consultation_response": 1}';

ALTER TABLE submission_versions
    ADD COLUMN schema_version integer NOT NULL DEFAULT 1 CHECK (schema_version >= 1);

ALTER TABLE submission_drafts
    ADD COLUMN schema_version integer NOT NULL DEFAULT 1 CHECK (schema_version >= 1);
