-- The triggers of the item_counts migration, as they were. A keel that
-- counts in its own statements must not run on this schema: it would count
-- its writes twice.
CREATE FUNCTION item_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO item_counts AS c (owner_id, shard, n)
    SELECT owner_id, pg_backend_pid() % 16, count(*) FROM new_items GROUP BY owner_id
    ON CONFLICT (owner_id, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

--bun:split

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
