-- What a user sees of their sessions: an ID to name one by (random, never
-- the token or its hash), when it began and was last used, and the client
-- address and user agent of its login (cleaned and truncated by keel, shown
-- and never trusted). SQLite cannot add a NOT NULL column without a
-- constant default, so the table is rebuilt; sessions from before this
-- migration get a random (version 4) ID and the migration's time as both
-- times, in bun's text form.
CREATE TABLE sessions_new (
    token_hash   TEXT      PRIMARY KEY,
    id           TEXT      NOT NULL,
    user_id      TEXT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data         BLOB      NOT NULL,
    expiry       TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    client_addr  TEXT      NOT NULL,
    user_agent   TEXT      NOT NULL
);

--bun:split

INSERT INTO sessions_new (token_hash, id, user_id, data, expiry, created_at, last_used_at, client_addr, user_agent)
SELECT token_hash,
       lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
           substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random() % 4), 1) ||
           substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
       user_id, data, expiry,
       strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'),
       '', ''
FROM sessions;

--bun:split

DROP TABLE sessions;

--bun:split

ALTER TABLE sessions_new RENAME TO sessions;

--bun:split

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

--bun:split

CREATE INDEX sessions_expiry_idx ON sessions (expiry);

--bun:split

CREATE UNIQUE INDEX sessions_id_key ON sessions (id);
