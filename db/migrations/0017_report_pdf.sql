-- Every report version is also stored as PDF, rendered from its HTML when it is compiled and
-- frozen with it at publication: a version's PDF, once stored, never changes.
--
-- Versions compiled before this column existed have none (NULL). Their PDF is rendered from
-- their stored, frozen HTML the first time it is asked for and stored then, once: the HTML's
-- bytes are what was compiled (and, for a published version, approved), so the PDF says the
-- same thing; nothing else of the row changes.
ALTER TABLE reports ADD COLUMN pdf bytea;

-- Published reports listed on the public pages, newest first.
CREATE INDEX reports_published_at ON reports (published_at DESC) WHERE status = 'published';
