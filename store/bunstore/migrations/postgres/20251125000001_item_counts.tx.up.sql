-- Each owner's number of items, kept by triggers in the transaction that
-- inserts or deletes the item, so that a list's exact total is a sum of at
-- most 16 rows instead of a count(*) of every item of the owner. The count
-- is split over 16 shard rows per owner: an insert adds to the shard of its
-- connection (the backend pid modulo 16), so that concurrent inserts of one
-- owner's items, from a pool of connections, lock different rows instead of
-- waiting for each other's commits on one. A shard may go negative (a
-- delete takes from any shard); their sum is exact.
CREATE TABLE item_counts (
    owner_id uuid     NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shard    smallint NOT NULL,
    n        bigint   NOT NULL,
    PRIMARY KEY (owner_id, shard)
);

--bun:split

CREATE FUNCTION item_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO item_counts AS c (owner_id, shard, n)
    VALUES (NEW.owner_id, pg_backend_pid() % 16, 1)
    ON CONFLICT (owner_id, shard) DO UPDATE SET n = c.n + 1;
    RETURN NULL;
END
$$;

--bun:split

-- A delete takes one from the shard of its connection when the owner has
-- that row, else from any row of the owner (one exists: the owner's items
-- were counted). When the owner itself is being deleted, the cascade may
-- have removed the rows already; then there is nothing left to count.
CREATE FUNCTION item_counts_sub() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE item_counts SET n = n - 1
    WHERE owner_id = OLD.owner_id AND shard = pg_backend_pid() % 16;
    IF NOT FOUND THEN
        UPDATE item_counts SET n = n - 1
        WHERE owner_id = OLD.owner_id
          AND shard = (SELECT min(shard) FROM item_counts WHERE owner_id = OLD.owner_id);
    END IF;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER items_count_insert AFTER INSERT ON items
    FOR EACH ROW EXECUTE FUNCTION item_counts_add();

--bun:split

CREATE TRIGGER items_count_delete AFTER DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION item_counts_sub();

--bun:split

-- keel never moves an item to another owner; a manual UPDATE that does
-- moves its count too.
CREATE TRIGGER items_count_move AFTER UPDATE OF owner_id ON items
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION item_counts_sub();

--bun:split

CREATE TRIGGER items_count_move_in AFTER UPDATE OF owner_id ON items
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION item_counts_add();

--bun:split

-- The backfill. CREATE TRIGGER locked items against writes until this
-- transaction ends, so no insert or delete falls between the triggers and
-- this count.
INSERT INTO item_counts (owner_id, shard, n)
SELECT owner_id, 0, count(*) FROM items GROUP BY owner_id;
