-- Email verification and confirmed email changes. Accounts that exist
-- before this migration start unverified, as new ones do.
ALTER TABLE users ADD COLUMN is_verified boolean NOT NULL DEFAULT false;

--bun:split

-- Single-use tokens (email verification, email change, the second step of
-- a two-factor login), hashed; a token works only for its purpose.
CREATE TABLE one_time_tokens (
    token_hash text        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL,
    email      text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

--bun:split

CREATE INDEX one_time_tokens_user_id_purpose_idx ON one_time_tokens (user_id, purpose);

--bun:split

CREATE INDEX one_time_tokens_expires_at_idx ON one_time_tokens (expires_at);
