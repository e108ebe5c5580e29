package bunstore

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/keel-dev/keel"
)

// InTx runs fn in one transaction (BEGIN IMMEDIATE on SQLite), with a
// keel.Tx bound to it.
//
// Inside fn, use only that Tx: on SQLite a write through the Store waits
// for the writer connection, which the transaction holds until fn returns,
// so it waits forever.
func (s *Store) InTx(ctx context.Context, fn func(tx keel.Tx) error) error {
	var fnErr error
	err := s.writeDB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		fnErr = fn(&handle{writer: tx, reader: tx, dialect: s.dialect, inTx: true})
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	return storeError("transaction", err, "", "")
}

// lockInTx makes a read of one user or item inside InTx lock the row
// until the transaction ends (SELECT ... FOR UPDATE), on PostgreSQL: keel
// reads a row, changes it and writes it back in one transaction, and under
// READ COMMITTED two such transactions would otherwise overwrite each
// other. SQLite needs nothing: its transactions begin IMMEDIATE and so run
// one at a time.
func (h *handle) lockInTx(q *bun.SelectQuery) *bun.SelectQuery {
	if h.inTx && h.dialect == dialect.PG {
		return q.For("UPDATE")
	}
	return q
}

// atomically runs fn in a transaction: the handle's own, or a new one.
func (h *handle) atomically(ctx context.Context, fn func(db bun.IDB) error) error {
	if h.inTx {
		return fn(h.writer)
	}
	return h.writer.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(tx) })
}
