-- The audit log: security events, appended and never changed, deleted
-- once older than the retention. The user ids refer to no table, so that
-- events outlive the users they are about. detail is NULL or a JSON object
-- of strings.
CREATE TABLE audit_events (
    id          uuid        PRIMARY KEY,
    kind        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    actor_id    uuid,
    user_id     uuid,
    client_addr text        NOT NULL,
    user_agent  text        NOT NULL,
    request_id  text        NOT NULL,
    detail      jsonb
);

--bun:split

-- Every list is newest first; retention deletes from the old end.
CREATE INDEX audit_events_created_at_id_idx ON audit_events (created_at DESC, id DESC);

--bun:split

CREATE INDEX audit_events_user_id_created_at_id_idx ON audit_events (user_id, created_at DESC, id DESC);

--bun:split

CREATE INDEX audit_events_kind_created_at_id_idx ON audit_events (kind, created_at DESC, id DESC);
