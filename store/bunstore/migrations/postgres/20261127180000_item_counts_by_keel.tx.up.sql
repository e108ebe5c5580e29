-- keel now keeps item_counts in the statements that write items
-- (CreateItem and DeleteItem each add to the count in the same statement
-- as the insert or delete: a data-modifying WITH, see bunstore's
-- prepared.go), so the statement-level insert and delete triggers go.
-- They cost every insert a transition table, a plpgsql call and a second
-- statement planned and run in the server: about 7% of the server's
-- CPU per CreateItem (BenchmarkCreateItem's pg-cpu-µs/op).
--
-- What still keeps the count: deleting a user removes its count rows by
-- the foreign key's cascade (its items go by theirs), and the
-- items_count_move trigger still moves the count of an item whose owner
-- an UPDATE changes (keel never does; that trigger never fires for keel's
-- updates). What no longer does: an INSERT INTO items or DELETE FROM items
-- that does not go through keel. Such a write must change item_counts too
-- (any shard row of the owner: the count is their sum), or be followed by
-- a recount of the owners it touched, in one transaction:
--
--   DELETE FROM item_counts WHERE owner_id = $1;
--   INSERT INTO item_counts (owner_id, shard, n)
--   SELECT $1, 0, count(*) FROM items WHERE owner_id = $1;
DROP TRIGGER items_count_insert ON items;

--bun:split

DROP TRIGGER items_count_delete ON items;

--bun:split

DROP FUNCTION item_counts_insert();

--bun:split

DROP FUNCTION item_counts_delete();
