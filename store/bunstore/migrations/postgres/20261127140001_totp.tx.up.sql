-- TOTP second factors. secret is sealed by keel with a key that is not in
-- the database; last_step is the time step of the last accepted code.
-- confirmed_at is NULL while enrolment is pending.
CREATE TABLE totp (
    user_id      uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       bytea       NOT NULL,
    confirmed_at timestamptz,
    last_step    bigint      NOT NULL,
    created_at   timestamptz NOT NULL
);

--bun:split

-- Recovery codes, hashed; a used one is deleted.
CREATE TABLE recovery_codes (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash text NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
