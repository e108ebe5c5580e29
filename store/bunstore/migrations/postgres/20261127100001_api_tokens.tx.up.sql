-- Personal API tokens. Only the token's SHA-256 is kept; last_used_at is
-- NULL until the token is first used.
CREATE TABLE api_tokens (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    scope        text        NOT NULL,
    token_hash   text        NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    expires_at   timestamptz NOT NULL
);

--bun:split

CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);

--bun:split

CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

--bun:split

CREATE INDEX api_tokens_expires_at_idx ON api_tokens (expires_at);
