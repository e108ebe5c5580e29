DROP INDEX sessions_id_key;

--bun:split

ALTER TABLE sessions
    DROP COLUMN id,
    DROP COLUMN created_at,
    DROP COLUMN last_used_at,
    DROP COLUMN client_addr,
    DROP COLUMN user_agent;
