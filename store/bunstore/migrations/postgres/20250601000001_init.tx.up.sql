-- The keel schema for PostgreSQL. Times are timestamptz (microseconds, UTC on
-- the wire); IDs are UUIDv7 made by keel.
CREATE TABLE users (
    id                  uuid        PRIMARY KEY,
    email               text        NOT NULL,
    full_name           text,
    is_active           boolean     NOT NULL,
    is_superuser        boolean     NOT NULL,
    password_hash       text        NOT NULL,
    password_changed_at timestamptz NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);

--bun:split

-- keel lower-cases and trims emails, so the column holds the normalised form.
CREATE UNIQUE INDEX users_email_key ON users (email);

--bun:split

CREATE INDEX users_created_at_id_idx ON users (created_at DESC, id DESC);

--bun:split

CREATE TABLE items (
    id          uuid        PRIMARY KEY,
    title       text        NOT NULL,
    description text,
    owner_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

--bun:split

CREATE INDEX items_owner_id_created_at_id_idx ON items (owner_id, created_at DESC, id DESC);

--bun:split

CREATE INDEX items_created_at_id_idx ON items (created_at DESC, id DESC);

--bun:split

CREATE TABLE sessions (
    token_hash text        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data       bytea       NOT NULL,
    expiry     timestamptz NOT NULL
);

--bun:split

CREATE INDEX sessions_user_id_idx ON sessions (user_id);

--bun:split

CREATE INDEX sessions_expiry_idx ON sessions (expiry);

--bun:split

CREATE TABLE reset_tokens (
    token_hash text        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

--bun:split

CREATE INDEX reset_tokens_user_id_idx ON reset_tokens (user_id);

--bun:split

CREATE INDEX reset_tokens_expires_at_idx ON reset_tokens (expires_at);

--bun:split

CREATE TABLE counters (
    key      text        PRIMARY KEY,
    count    bigint      NOT NULL,
    reset_at timestamptz NOT NULL
);

--bun:split

CREATE INDEX counters_reset_at_idx ON counters (reset_at);
