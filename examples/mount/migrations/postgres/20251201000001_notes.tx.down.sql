DROP TABLE notes;

--bun:split

DROP TABLE profiles;
