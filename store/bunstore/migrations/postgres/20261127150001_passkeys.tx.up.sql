-- WebAuthn: each user's user handle (random, opaque, never the user's id),
-- and the passkeys users registered.
CREATE TABLE webauthn_user_handles (
    user_id uuid  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle  bytea NOT NULL
);

--bun:split

CREATE UNIQUE INDEX webauthn_user_handles_handle_key ON webauthn_user_handles (handle);

--bun:split

CREATE TABLE passkeys (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   bytea       NOT NULL,
    name            text        NOT NULL,
    public_key      bytea       NOT NULL,
    transports      text        NOT NULL,
    aaguid          bytea       NOT NULL,
    sign_count      bigint      NOT NULL,
    user_present    boolean     NOT NULL,
    user_verified   boolean     NOT NULL,
    backup_eligible boolean     NOT NULL,
    backup_state    boolean     NOT NULL,
    created_at      timestamptz NOT NULL,
    last_used_at    timestamptz
);

--bun:split

CREATE UNIQUE INDEX passkeys_credential_id_key ON passkeys (credential_id);

--bun:split

CREATE INDEX passkeys_user_id_created_at_id_idx ON passkeys (user_id, created_at DESC, id DESC);
