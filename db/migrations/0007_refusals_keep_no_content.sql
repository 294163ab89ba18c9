-- A refused request to submit keeps its refusal, not its content: a client sending a 2 MB
-- document again and again after the call has closed must not fill the database.
ALTER TABLE submission_versions ALTER COLUMN content DROP NOT NULL;
UPDATE submission_versions SET content = NULL WHERE status = 'rejected';
ALTER TABLE submission_versions
    ADD CONSTRAINT submission_versions_refusals_keep_no_content
    CHECK ((status = 'rejected') = (content IS NULL));
