-- Signing in to the web pages: one-time links sent by email, the sessions they start, and the
-- sign-in requests counted to limit how often anyone asks for a link.

-- A link is stored as the SHA-256 of its token: whoever reads the table cannot sign in.
CREATE TABLE sign_in_links (
    token_hash text PRIMARY KEY,
    actor_id uuid NOT NULL REFERENCES actors (id),
    purpose text NOT NULL CHECK (purpose IN ('sign_in', 'invitation')),
    -- The page to open once signed in (a path on this site); NULL: the person's tasks.
    next_path text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- Set when the link is used: it works once.
    used_at timestamptz
);

CREATE INDEX sign_in_links_expiry ON sign_in_links (expires_at);

-- A session is stored as the SHA-256 of the token its cookie holds.
CREATE TABLE web_sessions (
    token_hash text PRIMARY KEY,
    actor_id uuid NOT NULL REFERENCES actors (id),
    -- What every form that changes something carries back.
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX web_sessions_by_actor ON web_sessions (actor_id);
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen_at);

-- One row per sign-in request admitted, under two keys (the SHA-256 of the address asked for,
-- and of the client's address), kept only as long as the limit's window.
CREATE TABLE sign_in_requests (
    key text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX sign_in_requests_by_key ON sign_in_requests (key, at);
CREATE INDEX sign_in_requests_at ON sign_in_requests (at);

-- Sign-in finds accounts by address, whatever its case.
CREATE INDEX actors_email ON actors (lower(email)) WHERE email IS NOT NULL;
