-- Drafts of submissions, saved from the web form: what a focal point or stakeholder has typed
-- so far, kept per review, kind and subject (the country, or the organisation's id) so that
-- colleagues of the same country or organisation share one. A draft is not a submission:
-- nothing reads it but the form.
CREATE TABLE submission_drafts (
    review_id text NOT NULL REFERENCES reviews (id),
    kind text NOT NULL CHECK (kind IN ('national_report', 'stakeholder_input')),
    subject text NOT NULL,
    -- As typed: possibly incomplete or invalid by the document's schema.
    content jsonb NOT NULL,
    updated_by uuid NOT NULL REFERENCES actors (id),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, kind, subject)
);
