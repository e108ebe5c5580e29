-- The audit log: security events, appended and never changed, deleted
-- once older than the retention. The user ids refer to no table, so that
-- events outlive the users they are about. detail is NULL or a JSON object
-- of strings, as text.
CREATE TABLE audit_events (
    id          TEXT      PRIMARY KEY,
    kind        TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    actor_id    TEXT,
    user_id     TEXT,
    client_addr TEXT      NOT NULL,
    user_agent  TEXT      NOT NULL,
    request_id  TEXT      NOT NULL,
    detail      TEXT
);

--bun:split

-- Every list is newest first; retention deletes from the old end.
CREATE INDEX audit_events_created_at_id_idx ON audit_events (created_at DESC, id DESC);

--bun:split

CREATE INDEX audit_events_user_id_created_at_id_idx ON audit_events (user_id, created_at DESC, id DESC);

--bun:split

CREATE INDEX audit_events_kind_created_at_id_idx ON audit_events (kind, created_at DESC, id DESC);
