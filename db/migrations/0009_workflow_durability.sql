-- Change requests reach a report only once the review's workflow took them, and the
-- synthesis is stored in parts of bounded size instead of one document.

-- Set by the compilation that includes the request: a request stored by the API whose
-- Update never reached the workflow stays unaccepted and is never merged.
ALTER TABLE report_change_requests ADD COLUMN accepted boolean NOT NULL DEFAULT false;
UPDATE report_change_requests SET accepted = true
WHERE id IN (SELECT change_request_id FROM reports WHERE change_request_id IS NOT NULL);

-- The synthesis beyond its head (`syntheses.content`): objectives and recommendations, each
-- part bounded in size, read in `position` order a page at a time.
CREATE TABLE synthesis_parts (
    review_id text NOT NULL REFERENCES syntheses (review_id),
    position integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('objective', 'recommendations')),
    content jsonb NOT NULL,
    PRIMARY KEY (review_id, position)
);
