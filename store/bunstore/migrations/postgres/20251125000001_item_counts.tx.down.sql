DROP TRIGGER items_count_move_in ON items;

--bun:split

DROP TRIGGER items_count_move ON items;

--bun:split

DROP TRIGGER items_count_delete ON items;

--bun:split

DROP TRIGGER items_count_insert ON items;

--bun:split

DROP FUNCTION item_counts_sub();

--bun:split

DROP FUNCTION item_counts_add();

--bun:split

DROP TABLE item_counts;
