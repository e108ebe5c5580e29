DROP TRIGGER items_count_move ON items;

--bun:split

DROP TRIGGER items_count_delete ON items;

--bun:split

DROP TRIGGER items_count_insert ON items;

--bun:split

DROP FUNCTION item_counts_move();

--bun:split

DROP FUNCTION item_counts_delete();

--bun:split

DROP FUNCTION item_counts_insert();

--bun:split

DROP TABLE item_counts;
