-- The languages a review's report is written in: one or two of the six UN languages, chosen
-- when the review is created and changeable until a version of its report is compiled. Each
-- version is rendered in each of them.
ALTER TABLE reviews ADD COLUMN report_languages text[] NOT NULL DEFAULT '{en}'
    CHECK (cardinality(report_languages) BETWEEN 1 AND 2
           AND report_languages <@ ARRAY['ar', 'zh', 'en', 'fr', 'ru', 'es']
           AND (cardinality(report_languages) = 1
                OR report_languages[1] <> report_languages[2]));

-- The language of a version's HTML, Markdown and PDF in its own row: the review's first. (Its
-- JSON is the same in every language.) Versions compiled before are in English.
ALTER TABLE reports ADD COLUMN language text NOT NULL DEFAULT 'en';

-- A version in the review's other language: written with the version, in the same
-- transaction, and frozen with it (its PDF, rendered from this HTML after, stored once and
-- never changed).
CREATE TABLE report_renderings (
    review_id text NOT NULL,
    version integer NOT NULL,
    language text NOT NULL CHECK (language IN ('ar', 'zh', 'en', 'fr', 'ru', 'es')),
    html text NOT NULL,
    markdown text NOT NULL,
    pdf bytea,
    PRIMARY KEY (review_id, version, language),
    FOREIGN KEY (review_id, version) REFERENCES reports (review_id, version)
);
