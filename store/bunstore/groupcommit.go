package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"
)

// Group commit. An SQLite file has one writer, and a write made outside a
// transaction used to be a transaction of its own: its COMMIT (a WAL
// append and its system calls) for every INSERT, one after the other,
// however many cores wait. A Store opened on an SQLite file instead hands
// such writes to its committer, a goroutine that takes every write waiting
// (at most maxGroupWrites), runs them in one BEGIN IMMEDIATE ... COMMIT,
// each inside a SAVEPOINT of its own, and only then answers each caller
// with its own result. A write that fails (a missing owner, a unique
// conflict) is rolled back to its savepoint, so it never takes its
// neighbours down; a COMMIT that fails fails every write of the round
// with its error (a write that failed on its own keeps its own error).
//
// The committer takes the writer connection for a round and gives it back
// at COMMIT, like any transaction, so InTx and the committer queue for it
// in database/sql's pool and never wait for each other. PostgreSQL, which
// has many writers, in-memory SQLite and transactions write directly (see
// handle.write).

// maxGroupWrites bounds a round, so that a write waits at most for one
// round of others before its own round begins.
const maxGroupWrites = 128

// errStoreClosed answers a write handed to a closed Store's committer:
// Internal, as every call on a closed Store.
var errStoreClosed = errors.New("the store is closed")

// writeFunc runs one write on conn: the round's *sql.Tx, or the writer
// (the handle's own). A bun query runs on conn with .Conn(conn).
type writeFunc func(ctx context.Context, conn bun.IConn) (sql.Result, error)

// The states of a groupWrite: the committer and the caller race to move
// it out of writeQueued, and whoever wins decides whether it runs.
const (
	writeQueued    int32 = iota
	writeTaken           // the committer runs it; the caller waits for done
	writeAbandoned       // the caller's context ended first; it never runs
)

type groupWrite struct {
	ctx   context.Context
	run   writeFunc
	state atomic.Int32

	done chan struct{} // closed when res and err are final
	res  sql.Result
	err  error
}

type groupCommitter struct {
	// db is the writer pool (one connection), without bun: the round's
	// BEGIN, SAVEPOINTs and COMMIT belong to no caller, so the query
	// hooks, which see every caller's own statement, do not see them.
	db *sql.DB

	mu     sync.Mutex
	queue  []*groupWrite
	closed bool

	wake    chan struct{} // capacity 1: "the queue may have grown"
	stopped chan struct{} // closed when run returns

	// onRound, for the tests, sees the number of writes of every round
	// that reached its COMMIT, and the COMMIT's error.
	onRound func(writes int, err error)
}

func newGroupCommitter(db *sql.DB) *groupCommitter {
	g := &groupCommitter{db: db, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go g.loop()
	return g
}

// do runs fn in the next round and returns its result once that round
// has committed.
//
// A write whose ctx ends while it is queued (the round waiting for the
// writer included) never runs, and do returns the context's error. Once
// the committer has taken it into a round that holds the writer, it runs
// whatever ctx does, and a cancellation does not undo it (fn gets ctx
// without its cancellation): an interrupted statement would roll the whole
// round back, neighbours included. Its caller then waits for the COMMIT,
// at most a round away, and learns the truth about its write.
func (g *groupCommitter) do(ctx context.Context, fn writeFunc) (sql.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &groupWrite{ctx: ctx, run: fn, done: make(chan struct{})}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil, errStoreClosed
	}
	g.queue = append(g.queue, w)
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
	select {
	case <-w.done:
		return w.res, w.err
	case <-ctx.Done():
		if w.state.CompareAndSwap(writeQueued, writeAbandoned) {
			return nil, ctx.Err()
		}
		<-w.done
		return w.res, w.err
	}
}

// close stops taking writes, lets the committer run the writes queued
// already, and waits for it to return.
func (g *groupCommitter) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
	<-g.stopped
}

func (g *groupCommitter) loop() {
	defer close(g.stopped)
	var round []*groupWrite
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroupWrites)
		round = append(round[:0], g.queue[:n]...)
		rest := copy(g.queue, g.queue[n:])
		clear(g.queue[rest:])
		g.queue = g.queue[:rest]
		closed := g.closed
		g.mu.Unlock()
		if n == 0 {
			if closed {
				return
			}
			<-g.wake
			continue
		}
		g.commit(round)
		clear(round)
	}
}

// commit runs one round: BEGIN IMMEDIATE, the writes still wanted, each
// in a savepoint, and COMMIT; then it answers their callers.
func (g *groupCommitter) commit(round []*groupWrite) {
	// The round belongs to no caller: no caller's cancellation may end it.
	ctx := context.Background()
	tx, err := g.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the URL's _txlock
	ran := round[:0]
	for _, w := range round {
		// A write is taken only once the round holds the writer, so that
		// its caller may still leave while the round waits for it.
		if !w.state.CompareAndSwap(writeQueued, writeTaken) {
			continue // abandoned: its caller has returned
		}
		if cerr := w.ctx.Err(); cerr != nil && err == nil {
			w.err = cerr
			close(w.done)
			continue
		}
		ran = append(ran, w)
		if err == nil {
			err = runInSavepoint(ctx, tx, w)
		}
	}
	if tx != nil {
		if err == nil {
			err = tx.Commit()
		} else {
			_ = tx.Rollback()
		}
	}
	if g.onRound != nil && len(ran) > 0 {
		g.onRound(len(ran), err)
	}
	for _, w := range ran {
		if err != nil && w.err == nil {
			// Nothing of the round was kept (or the write never ran).
			w.res, w.err = nil, err
		}
		close(w.done)
	}
}

// runInSavepoint runs w in a savepoint of tx, and rolls back to it when w
// fails. Its error is the round's (a savepoint statement that failed);
// w's own is in w.err.
func runInSavepoint(ctx context.Context, tx *sql.Tx, w *groupWrite) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT keel_write"); err != nil {
		return err
	}
	w.res, w.err = w.run(context.WithoutCancel(w.ctx), tx)
	if w.err != nil {
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO keel_write"); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, "RELEASE keel_write")
	return err
}

// write runs fn, one write statement made outside a transaction: through
// the committer on an SQLite file, directly on the writer anywhere else.
func (h *handle) write(ctx context.Context, fn writeFunc) (sql.Result, error) {
	if h.committer == nil {
		return fn(ctx, h.writer)
	}
	return h.committer.do(ctx, fn)
}
