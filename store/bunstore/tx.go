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

// TxDB returns the bun transaction behind tx, a keel.Tx that a bunstore
// Store's InTx handed out (a before hook's, or the one of
// keel.Service.InTx), so that a program writes its own tables in keel's
// transaction: they commit together or not at all. ok is false for any
// other keel.Tx (another store's, or a Store itself, which is no
// transaction). Use the returned bun.IDB only until the transaction ends,
// and only with the context keel gave the hook or function, as the Tx.
//
//	func createProfile(ctx context.Context, tx keel.Tx, e keel.Event) error {
//		if e.Kind != keel.EventSignedUp {
//			return nil
//		}
//		db, ok := bunstore.TxDB(tx)
//		if !ok {
//			return errors.New("profiles need bunstore")
//		}
//		_, err := db.NewInsert().Model(&Profile{UserID: e.UserID}).Exec(ctx)
//		return err
//	}
func TxDB(tx keel.Tx) (db bun.IDB, ok bool) {
	h, ok := tx.(*handle)
	if !ok || !h.inTx {
		return nil, false
	}
	return h.writer, true
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
