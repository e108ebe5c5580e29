-- Each owner's number of items, kept by triggers in the transaction that
-- inserts or deletes the item, so that a list's exact total is one row
-- instead of a count of every item of the owner. SQLite runs one write
-- transaction at a time, so one row per owner (shard 0) serialises
-- nothing more; the shard column keeps the schema of PostgreSQL's.
CREATE TABLE item_counts (
    owner_id TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shard    INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (owner_id, shard)
);

--bun:split

CREATE TRIGGER items_count_insert AFTER INSERT ON items BEGIN
    INSERT INTO item_counts (owner_id, shard, n) VALUES (NEW.owner_id, 0, 1)
    ON CONFLICT (owner_id, shard) DO UPDATE SET n = n + 1;
END;

--bun:split

-- When the owner itself is being deleted, the cascade may have removed
-- its row already; then there is nothing left to count.
CREATE TRIGGER items_count_delete AFTER DELETE ON items BEGIN
    UPDATE item_counts SET n = n - 1 WHERE owner_id = OLD.owner_id AND shard = 0;
END;

--bun:split

-- keel never moves an item to another owner; a manual UPDATE that does
-- moves its count too.
CREATE TRIGGER items_count_move AFTER UPDATE OF owner_id ON items
WHEN OLD.owner_id IS NOT NEW.owner_id BEGIN
    UPDATE item_counts SET n = n - 1 WHERE owner_id = OLD.owner_id AND shard = 0;
    INSERT INTO item_counts (owner_id, shard, n) VALUES (NEW.owner_id, 0, 1)
    ON CONFLICT (owner_id, shard) DO UPDATE SET n = n + 1;
END;

--bun:split

INSERT INTO item_counts (owner_id, shard, n)
SELECT owner_id, 0, count(*) FROM items WHERE true GROUP BY owner_id;
