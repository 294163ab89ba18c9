-- The webhook delivery log keeps a class of error, not its text: the text named hosts, ports
-- and resolved addresses, which let a subscriber map what the sender can reach.
UPDATE delivery_attempts SET error = CASE
    WHEN error ~ '^HTTP [0-9]{3}$' THEN 'http_' || substr(error, 6, 1) || 'xx'
    WHEN error ~ '^(refused_by_policy|timeout|tls|dns|connection_refused|connection_error|http_[345]xx)$' THEN error
    WHEN error ~ '(refused: |resolves to )' THEN 'refused_by_policy'
    ELSE 'connection_error'
END
WHERE error IS NOT NULL;

UPDATE deliveries SET last_error = CASE
    WHEN last_error ~ '^HTTP [0-9]{3}$' THEN 'http_' || substr(last_error, 6, 1) || 'xx'
    WHEN last_error ~ '^(refused_by_policy|timeout|tls|dns|connection_refused|connection_error|http_[345]xx)$' THEN last_error
    WHEN last_error ~ '(refused: |resolves to )' THEN 'refused_by_policy'
    WHEN last_error IN ('the webhook was deleted', 'the sender stopped during the last attempt') THEN last_error
    ELSE 'connection_error'
END
WHERE channel = 'webhook' AND last_error IS NOT NULL;

-- Stored answers to Idempotency-Keys expire (REVIEWFLOW_IDEMPOTENCY_DAYS): found by age.
CREATE INDEX idempotent_requests_by_age ON idempotent_requests (created_at);
