-- WebAuthn: each user's user handle (random, opaque, never the user's id),
-- and the passkeys users registered.
CREATE TABLE webauthn_user_handles (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle  BLOB NOT NULL
);

--bun:split

CREATE UNIQUE INDEX webauthn_user_handles_handle_key ON webauthn_user_handles (handle);

--bun:split

CREATE TABLE passkeys (
    id              TEXT      PRIMARY KEY,
    user_id         TEXT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   BLOB      NOT NULL,
    name            TEXT      NOT NULL,
    public_key      BLOB      NOT NULL,
    transports      TEXT      NOT NULL,
    aaguid          BLOB      NOT NULL,
    sign_count      INTEGER   NOT NULL,
    user_present    BOOLEAN   NOT NULL,
    user_verified   BOOLEAN   NOT NULL,
    backup_eligible BOOLEAN   NOT NULL,
    backup_state    BOOLEAN   NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    last_used_at    TIMESTAMP
);

--bun:split

CREATE UNIQUE INDEX passkeys_credential_id_key ON passkeys (credential_id);

--bun:split

CREATE INDEX passkeys_user_id_created_at_id_idx ON passkeys (user_id, created_at DESC, id DESC);
