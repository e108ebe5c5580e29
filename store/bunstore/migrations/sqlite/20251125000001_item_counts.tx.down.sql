DROP TRIGGER items_count_move;

--bun:split

DROP TRIGGER items_count_delete;

--bun:split

DROP TRIGGER items_count_insert;

--bun:split

DROP TABLE item_counts;
