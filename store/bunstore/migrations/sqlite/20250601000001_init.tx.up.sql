-- The keel schema for SQLite. Times are TEXT in the format of bun,
-- 2006-01-02 15:04:05.999999+00:00, always UTC, so comparing and ordering
-- them as text is comparing and ordering them as times; the TIMESTAMP type
-- name makes the driver hand them back as time.Time. UUIDs are their
-- canonical text; booleans 0/1.
CREATE TABLE users (
    id                  TEXT      PRIMARY KEY,
    email               TEXT      NOT NULL,
    full_name           TEXT,
    is_active           BOOLEAN   NOT NULL,
    is_superuser        BOOLEAN   NOT NULL,
    password_hash       TEXT      NOT NULL,
    password_changed_at TIMESTAMP NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);

--bun:split

-- keel lower-cases and trims emails, so the column holds the normalised form.
CREATE UNIQUE INDEX users_email_key ON users (email);

--bun:split

CREATE INDEX users_created_at_id_idx ON users (created_at DESC, id DESC);

--bun:split

CREATE TABLE items (
    id          TEXT      PRIMARY KEY,
    title       TEXT      NOT NULL,
    description TEXT,
    owner_id    TEXT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

--bun:split

CREATE INDEX items_owner_id_created_at_id_idx ON items (owner_id, created_at DESC, id DESC);

--bun:split

CREATE INDEX items_created_at_id_idx ON items (created_at DESC, id DESC);

--bun:split

CREATE TABLE sessions (
    token_hash TEXT      PRIMARY KEY,
    user_id    TEXT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data       BLOB      NOT NULL,
    expiry     TIMESTAMP NOT NULL
);

--bun:split

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

--bun:split

CREATE INDEX sessions_expiry_idx ON sessions (expiry);

--bun:split

CREATE TABLE reset_tokens (
    token_hash TEXT      PRIMARY KEY,
    user_id    TEXT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

--bun:split

CREATE INDEX reset_tokens_user_id_idx ON reset_tokens (user_id);

--bun:split

CREATE INDEX reset_tokens_expires_at_idx ON reset_tokens (expires_at);

--bun:split

CREATE TABLE counters (
    key      TEXT      PRIMARY KEY,
    count    INTEGER   NOT NULL,
    reset_at TIMESTAMP NOT NULL
);

--bun:split

CREATE INDEX counters_reset_at_idx ON counters (reset_at);
