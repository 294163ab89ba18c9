-- People: the accounts an admin or a secretariat manages, listed by name a page at a time, and
-- the CSV imports waiting for their confirmation.

-- An admin lists every account, a secretariat those it created, by name then id: walking these
-- indexes, a page costs about its own rows however many accounts there are.
CREATE INDEX actors_by_name ON actors (name, id);
CREATE INDEX actors_created_by_name ON actors (created_by, name, id) WHERE created_by IS NOT NULL;

-- An uploaded CSV between its preview and its confirmation: kept on the server, for the person
-- who uploaded it only, so the confirmation applies exactly what the preview showed.
CREATE TABLE account_imports (
    id uuid PRIMARY KEY,
    actor_id uuid NOT NULL REFERENCES actors (id),
    content text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX account_imports_by_actor ON account_imports (actor_id, created_at);
