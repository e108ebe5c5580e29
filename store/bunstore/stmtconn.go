package bunstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync/atomic"

	"github.com/uptrace/bun/driver/pgdriver"
)

// stmtConnector makes the connections of a pool that runs the hot queries
// (prepared.go) as prepared statements: each connection prepares one the
// first time it is asked to run it and keeps it for its life, so that
// database/sql's DB.QueryContext runs it as it runs any query. This
// replaced one *sql.Stmt per query per pool, whose every use took that
// Stmt's mutex to find the statement of the connection it was given: with
// 8 cores, an eighth of a request's CPU went to that lock, which every
// request of the process shared. What requests still share is the pool
// itself (database/sql's DB.conn), which any path through database/sql
// takes; a connection's statements are only ever used by the goroutine
// that holds the connection, so they need no lock. The pool's limits,
// its replacing of broken connections and Close all stay database/sql's.
//
// The alternatives keep a shared lock or cost connections: a lock-free map
// of *sql.Stmt keeps the Stmt's own mutex, taken twice a call, and a pool
// of *sql.Conn of our own, each with its statements, takes connections out
// of database/sql's pool, which bun's other queries then lack. With this
// connector, the SQLite timestamps of scanTime and the pooled scan targets,
// BenchmarkHotReads' FindSession+Item on a SQLite file went from 62µs to
// 31µs at -cpu 8 on 2 cores (medians of 6), and the Stmt's lock left the
// mutex profile.
type stmtConnector struct {
	driver.Connector
	// queries are the texts of the hot queries as the dialect sends them,
	// indexed by hotQuery: a connection prepares those and no other.
	queries *[numHotQueries]string
	// broken reports whether an error of a prepared statement leaves its
	// connection unusable.
	broken func(error) bool
	// prepared records which queries some connection prepared (for the
	// tests).
	prepared [numHotQueries]atomic.Bool
}

func newStmtConnector(c driver.Connector, queries *[numHotQueries]string, broken func(error) bool) *stmtConnector {
	return &stmtConnector{Connector: c, queries: queries, broken: broken}
}

// fullConn is what both drivers' connections implement and database/sql
// uses; stmtConn forwards all of it.
type fullConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// Connect returns a connection that prepares the hot queries, or the
// driver's own connection if it lacks one of fullConn's methods (which
// then runs them unprepared).
func (c *stmtConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	fc, ok := dc.(fullConn)
	if !ok {
		return dc, nil
	}
	return &stmtConn{fullConn: fc, c: c}, nil
}

// preparedStmt is what both drivers' statements implement.
type preparedStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

// stmtConn is a connection with its prepared hot queries. database/sql
// uses a connection from one goroutine at a time, so its fields need no
// lock.
type stmtConn struct {
	fullConn
	c     *stmtConnector
	stmts [numHotQueries]preparedStmt
	// inTx is set while a transaction is open: its queries go to the
	// driver as they are (a transaction may have rows open while it runs
	// another query, so a statement that returns rows could be in use),
	// but for its executions of the hot write, which leaves no rows open
	// (SQLite's group commit runs CreateItem in a transaction).
	inTx bool
	// bad is set when a prepared statement broke the connection:
	// database/sql then closes it instead of putting it back in the pool.
	bad bool
}

// stmt returns the prepared statement of query, preparing it on first use,
// or nil when query is no hot query or cannot be prepared (the schema is
// not migrated yet: the driver then runs it unprepared and reports why it
// fails).
func (cn *stmtConn) stmt(ctx context.Context, query string, exec bool) preparedStmt {
	if (cn.inTx && !exec) || cn.bad {
		return nil
	}
	// Six comparisons of strings that differ in length, or that are the
	// same constant (whose pointers are compared first), cost less than
	// hashing the query.
	for i, q := range cn.c.queries {
		if q != query {
			continue
		}
		if st := cn.stmts[i]; st != nil {
			return st
		}
		ds, err := cn.fullConn.PrepareContext(ctx, query)
		if err != nil {
			return nil
		}
		st, ok := ds.(preparedStmt)
		if !ok {
			ds.Close()
			return nil
		}
		cn.stmts[i] = st
		cn.c.prepared[i].Store(true)
		return st
	}
	return nil
}

func (cn *stmtConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st := cn.stmt(ctx, query, false)
	if st == nil {
		return cn.fullConn.QueryContext(ctx, query, args)
	}
	rows, err := st.QueryContext(ctx, args)
	if err != nil && cn.c.broken(err) {
		// The hot queries that return rows only read: database/sql runs
		// the query again on another connection, and closes this one.
		cn.bad = true
		return nil, driver.ErrBadConn
	}
	return rows, err
}

func (cn *stmtConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st := cn.stmt(ctx, query, true)
	if st == nil {
		return cn.fullConn.ExecContext(ctx, query, args)
	}
	res, err := st.ExecContext(ctx, args)
	if err != nil && cn.c.broken(err) {
		// A write may have been applied before the connection broke, so
		// it is not run again: the error is the caller's, and database/sql
		// closes the connection.
		cn.bad = true
	}
	return res, err
}

func (cn *stmtConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := cn.fullConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	cn.inTx = true
	return &stmtConnTx{Tx: tx, cn: cn}, nil
}

func (cn *stmtConn) ResetSession(ctx context.Context) error {
	if cn.bad {
		return driver.ErrBadConn
	}
	return cn.fullConn.ResetSession(ctx)
}

func (cn *stmtConn) IsValid() bool { return !cn.bad && cn.fullConn.IsValid() }

// Close closes the statements, then the connection; the statements' errors
// do not matter once the connection goes. Those of a broken connection
// are left to go with it: the server's end of them has gone already.
func (cn *stmtConn) Close() error {
	valid := cn.IsValid()
	for i, st := range cn.stmts {
		if st != nil && valid {
			st.Close()
		}
		cn.stmts[i] = nil
	}
	return cn.fullConn.Close()
}

// stmtConnTx ends a stmtConn's transaction.
type stmtConnTx struct {
	driver.Tx
	cn *stmtConn
}

func (tx *stmtConnTx) Commit() error {
	tx.cn.inTx = false
	return tx.Tx.Commit()
}

func (tx *stmtConnTx) Rollback() error {
	tx.cn.inTx = false
	return tx.Tx.Rollback()
}

// pgBroken reports whether err, from a pgdriver statement, leaves the
// connection unusable, as pgdriver decides for its own queries (which, but
// for a prepared statement's, close the connection then): anything but an
// error the server reported, and the server's FATAL or PANIC errors (a
// backend that pg_terminate_backend ended answers FATAL 57P01), or a
// cancelled statement.
func pgBroken(err error) bool {
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) {
		return true
	}
	switch pgErr.Field('V') {
	case "FATAL", "PANIC":
		return true
	}
	return pgErr.Field('C') == "57014"
}

// sqliteBroken is SQLite's: a library in the process, whose connections
// do not break.
func sqliteBroken(error) bool { return false }
