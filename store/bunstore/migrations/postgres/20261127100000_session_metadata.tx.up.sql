-- What a user sees of their sessions: an ID to name one by (random, never
-- the token or its hash), when it began and was last used, and the client
-- address and user agent of its login (cleaned and truncated by keel, shown
-- and never trusted). Sessions from before this migration get a random ID
-- and the migration's time as both times.
ALTER TABLE sessions
    ADD COLUMN id           uuid,
    ADD COLUMN created_at   timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_used_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN client_addr  text        NOT NULL DEFAULT '',
    ADD COLUMN user_agent   text        NOT NULL DEFAULT '';

--bun:split

UPDATE sessions SET id = gen_random_uuid();

--bun:split

-- keel writes every column; the defaults only served the rows above.
ALTER TABLE sessions
    ALTER COLUMN id SET NOT NULL,
    ALTER COLUMN created_at DROP DEFAULT,
    ALTER COLUMN last_used_at DROP DEFAULT,
    ALTER COLUMN client_addr DROP DEFAULT,
    ALTER COLUMN user_agent DROP DEFAULT;

--bun:split

CREATE UNIQUE INDEX sessions_id_key ON sessions (id);
