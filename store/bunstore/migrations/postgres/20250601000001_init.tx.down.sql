DROP TABLE counters;

--bun:split

DROP TABLE reset_tokens;

--bun:split

DROP TABLE sessions;

--bun:split

DROP TABLE items;

--bun:split

DROP TABLE users;
