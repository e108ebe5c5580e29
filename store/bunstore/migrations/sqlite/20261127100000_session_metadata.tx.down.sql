DROP INDEX sessions_id_key;

--bun:split

ALTER TABLE sessions DROP COLUMN id;

--bun:split

ALTER TABLE sessions DROP COLUMN created_at;

--bun:split

ALTER TABLE sessions DROP COLUMN last_used_at;

--bun:split

ALTER TABLE sessions DROP COLUMN client_addr;

--bun:split

ALTER TABLE sessions DROP COLUMN user_agent;
