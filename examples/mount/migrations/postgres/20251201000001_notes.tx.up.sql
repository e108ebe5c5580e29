-- The mount example's own tables, beside keel's. keel's migrations run
-- first (they create users); a user's profile and notes go with the user
-- (ON DELETE CASCADE).
CREATE TABLE profiles (
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle       text NOT NULL,
    display_name text NOT NULL
);

--bun:split

CREATE UNIQUE INDEX profiles_handle_key ON profiles (handle);

--bun:split

CREATE TABLE notes (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL
);

--bun:split

CREATE INDEX notes_user_id_created_at_idx ON notes (user_id, created_at DESC, id DESC);
