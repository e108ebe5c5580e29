-- The mount example's own tables, beside keel's. keel's migrations run
-- first (they create users); a user's profile and notes go with the user
-- (ON DELETE CASCADE, which bunstore's foreign_keys PRAGMA enforces). IDs
-- are UUID text and times bun's UTC text, as in keel's tables.
CREATE TABLE profiles (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle       TEXT NOT NULL,
    display_name TEXT NOT NULL
);

--bun:split

CREATE UNIQUE INDEX profiles_handle_key ON profiles (handle);

--bun:split

CREATE TABLE notes (
    id         TEXT      PRIMARY KEY,
    user_id    TEXT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);

--bun:split

CREATE INDEX notes_user_id_created_at_idx ON notes (user_id, created_at DESC, id DESC);
