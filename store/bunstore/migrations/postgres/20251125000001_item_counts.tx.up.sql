-- Each owner's number of items, kept by triggers in the transaction that
-- inserts or deletes the item, so that a list's exact total is a sum of at
-- most 16 rows instead of a count(*) of every item of the owner. The count
-- is split over 16 shard rows per owner: an insert adds to the shard of its
-- connection (the backend pid modulo 16), so that concurrent inserts of one
-- owner's items, from a pool of connections, lock different rows instead of
-- waiting for each other's commits on one. A shard may go negative (a
-- delete takes from any shard of the owner); their sum is exact.
CREATE TABLE item_counts (
    owner_id uuid     NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    shard    smallint NOT NULL,
    n        bigint   NOT NULL,
    PRIMARY KEY (owner_id, shard)
);

--bun:split

-- Statement-level triggers with transition tables: a statement that
-- inserts or deletes many items of an owner (a bulk load, the cascade of
-- deleting the owner) changes its count once, not once per row (in one
-- transaction, each update of one row would walk the row's growing chain
-- of versions: quadratic).
CREATE FUNCTION item_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO item_counts AS c (owner_id, shard, n)
    SELECT owner_id, pg_backend_pid() % 16, count(*) FROM new_items GROUP BY owner_id
    ON CONFLICT (owner_id, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

--bun:split

-- A delete takes from the shard of its connection when the owner has
-- that row, else from the owner's first row (one exists: the owner's
-- items were counted). When the owner itself is being deleted, the cascade
-- may have removed the rows already; then there is nothing left to count.
CREATE FUNCTION item_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE item_counts AS c SET n = c.n - d.k
    FROM (SELECT owner_id, count(*) AS k FROM old_items GROUP BY owner_id) AS d
    WHERE c.owner_id = d.owner_id
      AND c.shard = (SELECT s.shard FROM item_counts AS s WHERE s.owner_id = d.owner_id
                     ORDER BY s.shard = pg_backend_pid() % 16 DESC, s.shard LIMIT 1);
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER items_count_insert AFTER INSERT ON items
    REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION item_counts_insert();

--bun:split

CREATE TRIGGER items_count_delete AFTER DELETE ON items
    REFERENCING OLD TABLE AS old_items
    FOR EACH STATEMENT EXECUTE FUNCTION item_counts_delete();

--bun:split

-- keel never moves an item to another owner; a manual UPDATE that does
-- moves its count too (row by row: transition tables cannot go with a
-- column list, and without one every UpdateItem would pay for them).
CREATE FUNCTION item_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE item_counts AS c SET n = c.n - 1
    WHERE c.owner_id = OLD.owner_id
      AND c.shard = (SELECT s.shard FROM item_counts AS s WHERE s.owner_id = OLD.owner_id
                     ORDER BY s.shard = pg_backend_pid() % 16 DESC, s.shard LIMIT 1);
    INSERT INTO item_counts AS c (owner_id, shard, n)
    VALUES (NEW.owner_id, pg_backend_pid() % 16, 1)
    ON CONFLICT (owner_id, shard) DO UPDATE SET n = c.n + 1;
    RETURN NULL;
END
$$;

--bun:split

CREATE TRIGGER items_count_move AFTER UPDATE OF owner_id ON items
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION item_counts_move();

--bun:split

-- The backfill. CREATE TRIGGER locked items against writes until this
-- transaction ends, so no insert or delete falls between the triggers and
-- this count.
INSERT INTO item_counts (owner_id, shard, n)
SELECT owner_id, 0, count(*) FROM items GROUP BY owner_id;
