-- The server's own secrets (the key that signs device tokens), shared by
-- every process on this database. Whoever reads this table can make device
-- tokens, which exempt a client from an account's lockout but never stand
-- in for a password.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
