-- Email verification and confirmed email changes. Accounts that exist
-- before this migration start unverified, as new ones do.
ALTER TABLE users ADD COLUMN is_verified BOOLEAN NOT NULL DEFAULT 0;

--bun:split

-- Single-use tokens (email verification, email change, the second step of
-- a two-factor login), hashed; a token works only for its purpose.
CREATE TABLE one_time_tokens (
    token_hash TEXT      PRIMARY KEY,
    user_id    TEXT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT      NOT NULL,
    email      TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

--bun:split

CREATE INDEX one_time_tokens_user_id_purpose_idx ON one_time_tokens (user_id, purpose);

--bun:split

CREATE INDEX one_time_tokens_expires_at_idx ON one_time_tokens (expires_at);
