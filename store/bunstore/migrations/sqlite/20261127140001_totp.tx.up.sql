-- TOTP second factors. secret is sealed by keel with a key that is not in
-- the database; last_step is the time step of the last accepted code.
-- confirmed_at is NULL while enrolment is pending.
CREATE TABLE totp (
    user_id      TEXT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       BLOB      NOT NULL,
    confirmed_at TIMESTAMP,
    last_step    INTEGER   NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

--bun:split

-- Recovery codes, hashed; a used one is deleted.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);
