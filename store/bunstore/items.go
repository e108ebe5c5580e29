package bunstore

import (
	"context"
	"database/sql"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/keel-dev/keel"
)

var msgItemNotFound = keel.ErrItemNotFound.Message

// CreateItem inserts it (in a group commit on an SQLite file). NotFound
// (the foreign key) when its owner does not exist. On PostgreSQL the same
// statement counts the item (sqlCreateItemCounted); on SQLite a trigger
// does.
func (h *handle) CreateItem(ctx context.Context, it *keel.Item) error {
	if p := h.writeStmts; p != nil {
		args := []any{it.ID, it.Title, it.Description, it.OwnerID, h.timeArg(it.CreatedAt), h.timeArg(it.UpdatedAt)}
		_, err := h.write(ctx, func(ctx context.Context, conn bun.IConn) (sql.Result, error) {
			// The statement is prepared by the connection (stmtconn.go)
			// when the text and the arguments reach it apart: through the
			// round's *sql.Tx or the raw pool, never bun's DB, which
			// writes the arguments into the text.
			exec := p.db.ExecContext
			if tx, ok := conn.(*sql.Tx); ok {
				exec = tx.ExecContext
			}
			var res sql.Result
			err := p.observe(ctx, qCreateItem, args, func(ctx context.Context) (sql.Result, error) {
				var err error
				res, err = exec(ctx, p.sql.texts[qCreateItem], args...)
				return res, err
			})
			return res, err
		})
		return storeError("create item", err, msgUserNotFound, "")
	}
	if h.dialect == dialect.PG {
		_, err := h.writer.NewRaw(sqlCreateItemCounted, it.ID, it.Title, it.Description, it.OwnerID, h.timeArg(it.CreatedAt), h.timeArg(it.UpdatedAt)).Exec(ctx)
		return storeError("create item", err, msgUserNotFound, "")
	}
	_, err := h.write(ctx, func(ctx context.Context, conn bun.IConn) (sql.Result, error) {
		return h.writer.NewInsert().Conn(conn).Model(toItemRow(it)).Exec(ctx)
	})
	return storeError("create item", err, msgUserNotFound, "")
}

// Item returns the item with the id.
func (h *handle) Item(ctx context.Context, id uuid.UUID) (*keel.Item, error) {
	if p := h.readStmts; p != nil {
		sc := itemScans.Get().(*itemScan)
		defer itemScans.Put(sc)
		if err := p.queryRow(ctx, qItem, []any{id}, sc.dest[:6]); err != nil {
			return nil, storeError("item", err, msgItemNotFound, "")
		}
		return sc.row.item(), nil
	}
	var row itemRow
	if err := h.lockInTx(h.reader.NewSelect().Model(&row).Where("i.id = ?", id)).Scan(ctx); err != nil {
		return nil, storeError("item", err, msgItemNotFound, "")
	}
	return row.item(), nil
}

// ListItems returns a page of the items that match f, newest first, and
// their total count, from the (owner_id, created_at DESC, id DESC) or the
// (created_at DESC, id DESC) index.
func (h *handle) ListItems(ctx context.Context, f keel.ItemFilter, p keel.Page) ([]*keel.Item, int, error) {
	if f.OwnerID != uuid.Nil && h.readStmts != nil {
		return h.ownerItems(ctx, f, p)
	}
	var rows []itemRow
	q := h.reader.NewSelect().Model(&rows)
	if f.OwnerID != uuid.Nil {
		q = q.Where("i.owner_id = ?", f.OwnerID)
	}
	if a := p.After; a != nil {
		// A row comparison, which both dialects answer from the index.
		q = q.Where("(i.created_at, i.id) < (?, ?)", h.timeArg(a.CreatedAt), a.ID)
	}
	q = q.OrderExpr("i.created_at DESC, i.id DESC")
	if err := page(q, p).Scan(ctx); err != nil {
		return nil, 0, storeError("list items", err, "", "")
	}
	total, err := h.itemCount(ctx, f, p, len(rows))
	if err != nil {
		return nil, 0, storeError("count items", err, "", "")
	}
	items := make([]*keel.Item, len(rows))
	for i := range rows {
		items[i] = rows[i].item()
	}
	return items, total, nil
}

// ownerItems is ListItems for one owner in one round trip (the page and
// the count together), through the prepared qOwnerItems or, with p.After,
// qOwnerItemsAfter.
func (h *handle) ownerItems(ctx context.Context, f keel.ItemFilter, p keel.Page) ([]*keel.Item, int, error) {
	pool := h.readStmts
	limit, offset := max(p.Limit, 1), max(p.Offset, 0)
	q, args := qOwnerItems, []any{f.OwnerID, f.OwnerID, limit, offset}
	if a := p.After; a != nil {
		q, args = qOwnerItemsAfter, []any{f.OwnerID, f.OwnerID, h.timeArg(a.CreatedAt), a.ID, limit, offset}
	}
	sc := itemScans.Get().(*itemScan)
	defer itemScans.Put(sc)
	items := make([]*keel.Item, 0, limit)
	total := 0
	err := pool.observe(ctx, q, args, func(ctx context.Context) (sql.Result, error) {
		rows, err := pool.db.QueryContext(ctx, pool.sql.texts[q], args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(sc.dest[:]...); err != nil {
				return nil, err
			}
			items = append(items, sc.row.item())
			total = int(sc.total)
		}
		return nil, rows.Err()
	})
	if err != nil {
		return nil, 0, storeError("list items", err, "", "")
	}
	if len(items) == 0 {
		// An empty page carries no count: ask for it (none is needed on
		// the first page).
		if total, err = h.itemCount(ctx, f, p, 0); err != nil {
			return nil, 0, storeError("count items", err, "", "")
		}
	}
	return items, total, nil
}

// itemCount returns the number of items that match f, given that the page
// p of them held n. It sums the rows of item_counts, which keel's own
// statements keep on PostgreSQL (CreateItem, DeleteItem) and triggers on
// SQLite, in the transaction of every insert and delete of an item (see
// the item_counts migrations): at most 16 rows per owner on PostgreSQL, one on
// SQLite, where a count(*) would read every item of the owner. Without an
// owner it sums every owner's rows, which are fewer than the items. Like
// count, it skips the query when the page tells the total.
func (h *handle) itemCount(ctx context.Context, f keel.ItemFilter, p keel.Page, n int) (int, error) {
	if total, ok := pageTotal(p, n); ok {
		return total, nil
	}
	q := h.reader.NewSelect().TableExpr("item_counts AS c").ColumnExpr("CAST(coalesce(sum(c.n), 0) AS bigint)")
	if f.OwnerID != uuid.Nil {
		q = q.Where("c.owner_id = ?", f.OwnerID)
	}
	var total int64
	err := q.Scan(ctx, &total)
	return int(total), err
}

// UpdateItem replaces Title, Description and UpdatedAt of the item.
func (h *handle) UpdateItem(ctx context.Context, it *keel.Item) error {
	res, err := h.write(ctx, func(ctx context.Context, conn bun.IConn) (sql.Result, error) {
		return h.writer.NewUpdate().Conn(conn).Model(toItemRow(it)).
			Column("title", "description", "updated_at").
			WherePK().
			Exec(ctx)
	})
	if err != nil {
		return storeError("update item", err, msgItemNotFound, "")
	}
	return requireRow("update item", res, msgItemNotFound)
}

// DeleteItem deletes the item. On PostgreSQL the same statement takes it
// from its owner's count (sqlDeleteItemCounted); SQLite's trigger does.
func (h *handle) DeleteItem(ctx context.Context, id uuid.UUID) error {
	res, err := h.write(ctx, func(ctx context.Context, conn bun.IConn) (sql.Result, error) {
		if h.dialect == dialect.PG {
			return h.writer.NewRaw(sqlDeleteItemCounted, id).Conn(conn).Exec(ctx)
		}
		return h.writer.NewDelete().Conn(conn).Model((*itemRow)(nil)).Where("id = ?", id).Exec(ctx)
	})
	if err != nil {
		return storeError("delete item", err, "", "")
	}
	return requireRow("delete item", res, msgItemNotFound)
}
