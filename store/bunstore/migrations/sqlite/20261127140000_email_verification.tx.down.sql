DROP TABLE one_time_tokens;

--bun:split

ALTER TABLE users DROP COLUMN is_verified;
