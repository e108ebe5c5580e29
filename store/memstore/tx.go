package memstore

import (
	"context"
	"sync"

	"github.com/keel-dev/keel"
)

// txn is a running transaction: it holds the db's write lock from InTx's
// start to its end, and keeps the log that undoes its writes.
type txn struct {
	mu   sync.Mutex // serialises the transaction's own calls
	undo undoLog
	done bool
}

// InTx runs fn with a keel.Tx whose writes all stay when fn returns nil
// and all go when fn returns an error (which InTx returns) or panics (the
// panic goes on after the rollback). The transaction holds the write lock:
// other callers wait until it ends, and fn must call only the Tx it
// receives. The Tx fails every call once InTx has returned.
func (s *Store) InTx(ctx context.Context, fn func(tx keel.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return cancelled(err)
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	if s.db.closed {
		return errClosed
	}
	t := &txn{}
	committed := false
	// Runs when fn returns, panics or calls runtime.Goexit (t.Fatal).
	defer func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if !committed {
			t.undo.rollbackTo(0)
		}
		t.undo = undoLog{}
		t.done = true
	}()
	if err := fn(&handle{db: s.db, tx: t}); err != nil {
		return err
	}
	committed = true
	return nil
}

// undoLog records, for each change, the function that reverts it.
type undoLog struct{ fns []func() }

func (u *undoLog) push(f func()) { u.fns = append(u.fns, f) }

func (u *undoLog) mark() int { return len(u.fns) }

// rollbackTo reverts every change recorded after mark, newest first.
func (u *undoLog) rollbackTo(mark int) {
	for i := len(u.fns) - 1; i >= mark; i-- {
		u.fns[i]()
		u.fns[i] = nil
	}
	u.fns = u.fns[:mark]
}

// set sets m[k] = v and records how to undo it.
func set[K comparable, V any](u *undoLog, m map[K]V, k K, v V) {
	old, had := m[k]
	m[k] = v
	u.push(func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}

// del deletes m[k], records how to undo it, and reports whether it was there.
func del[K comparable, V any](u *undoLog, m map[K]V, k K) bool {
	old, had := m[k]
	if !had {
		return false
	}
	delete(m, k)
	u.push(func() { m[k] = old })
	return true
}

// index is a one-to-many index: parent → set of children.
type index[P, C comparable] map[P]map[C]struct{}

func (x index[P, C]) add(u *undoLog, p P, c C) {
	children, ok := x[p]
	if !ok {
		children = make(map[C]struct{})
		set(u, x, p, children)
	}
	set(u, children, c, struct{}{})
}

func (x index[P, C]) remove(u *undoLog, p P, c C) {
	children, ok := x[p]
	if !ok {
		return
	}
	del(u, children, c)
	if len(children) == 0 {
		del(u, x, p)
	}
}
