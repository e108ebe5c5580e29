-- The state of authentication flows that span two requests (an OpenID
-- Connect authorization, a WebAuthn ceremony), keyed by the hash of the
-- client's secret, single-use and short-lived.
CREATE TABLE auth_flows (
    key_hash   text        PRIMARY KEY,
    kind       text        NOT NULL,
    user_id    uuid        REFERENCES users (id) ON DELETE CASCADE,
    data       bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

--bun:split

CREATE INDEX auth_flows_user_id_idx ON auth_flows (user_id);

--bun:split

CREATE INDEX auth_flows_expires_at_idx ON auth_flows (expires_at);
