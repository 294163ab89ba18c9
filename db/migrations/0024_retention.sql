-- Retention (services/retention.py): each purge finds its expired rows by an index, a batch
-- at a time. A sign-in link ends when used or expired, whichever came first.
CREATE INDEX delivery_attempts_by_age ON delivery_attempts (at);
DROP INDEX sign_in_links_expiry;
CREATE INDEX sign_in_links_ended ON sign_in_links (least(used_at, expires_at));
