-- Personal API tokens. Only the token's SHA-256 is kept; last_used_at is
-- NULL until the token is first used.
CREATE TABLE api_tokens (
    id           TEXT      PRIMARY KEY,
    user_id      TEXT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT      NOT NULL,
    scope        TEXT      NOT NULL,
    token_hash   TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    expires_at   TIMESTAMP NOT NULL
);

--bun:split

CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);

--bun:split

CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

--bun:split

CREATE INDEX api_tokens_expires_at_idx ON api_tokens (expires_at);
