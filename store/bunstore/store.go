package bunstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"modernc.org/sqlite"

	"github.com/keel-dev/keel"
)

// Store is a keel.Store kept in PostgreSQL or SQLite through bun. Make one
// with Open or New; its methods are safe for concurrent use.
type Store struct {
	handle

	// writeDB and readDB are the pools behind the handle's writer and
	// reader (one *bun.DB for PostgreSQL and in-memory SQLite);
	// transactions begin on writeDB.
	writeDB, readDB *bun.DB

	// pgDSN, kept by Open for PostgreSQL, lets Migrate open a pool of its
	// own without pgdriver's read timeout: a migration (CREATE INDEX on a
	// big table) may take longer than a request should.
	pgDSN string
	hooks []bun.QueryHook

	closeOnce sync.Once
	closeErr  error
	owned     bool // Close closes writeDB and readDB
}

var _ keel.Store = (*Store)(nil)

// handle has the data methods (keel.Tx). A Store's handle runs them on the
// Store's pools; InTx hands fn a handle bound to its transaction.
type handle struct {
	// writer runs the writes and reader the reads: the pools, or both the
	// transaction.
	writer, reader bun.IDB
	dialect        dialect.Name
	inTx           bool

	// readStmts and writeStmts run the prepared hot queries (prepared.go)
	// on the reader's and the writer's pool (one hotPool when they are one
	// pool). Both are nil, and every query goes through bun, in a Store
	// made by New or withoutPreparedStatements, and inside a transaction.
	readStmts, writeStmts *hotPool

	// committer groups the single-statement writes made outside a
	// transaction (groupcommit.go); nil, and they run on writer, but on
	// the Store of an SQLite file that Open made.
	committer *groupCommitter
}

var _ keel.Tx = (*handle)(nil)

// Option tunes Open.
type Option func(*config)

type config struct {
	hooks      []bun.QueryHook
	unprepared bool
}

// WithQueryHook adds a bun query hook (bundebug, bunotel, ...) to the store's
// databases. The hook sees every query, the prepared hot queries included
// (prepared.go): those reach it as bun's raw queries do, with the SQL and
// its arguments but no bun.Query or Model, so that tracing them keeps the
// prepared path.
func WithQueryHook(h bun.QueryHook) Option {
	return func(c *config) { c.hooks = append(c.hooks, h) }
}

// withoutPreparedStatements makes every query go through bun: the tests
// run the conformance suite over both paths.
func withoutPreparedStatements() Option {
	return func(c *config) { c.unprepared = true }
}

// prepare reports whether a Store opened with c prepares its hot queries.
func (c config) prepare() bool { return !c.unprepared }

// The pools' settings.
const (
	pgMaxOpenConns         = 10
	pgConnMaxLifetime      = 30 * time.Minute // so failovers and load balancers are followed
	pgConnMaxIdleTime      = 5 * time.Minute
	sqliteBusyTimeoutMilli = 5000
)

// Open connects to the database at rawURL and returns a Store on it. The
// scheme picks the dialect:
//
//	postgres://user:password@host:5432/db?sslmode=verify-full
//	postgresql://...                 (the same)
//	sqlite:///var/lib/keel/keel.db   (an absolute path; sqlite:keel.db is relative)
//	sqlite::memory:                  (a database that lives as long as the Store)
//
// PostgreSQL URLs take pgdriver's parameters (sslmode, sslrootcert,
// connect_timeout, read_timeout, application_name, ...); any other
// parameter is sent to the server as a run-time parameter, e.g.
// search_path=keel to keep the tables in the schema keel. Give sslmode:
// without it pgdriver tries TLS without verifying the certificate. SQLite
// URLs take modernc.org/sqlite's parameters (_pragma=..., _txlock=...); a
// PRAGMA given there replaces Open's default of the same name.
//
// Open checks that the database answers (Unavailable when it does not) but
// does not migrate it: call Migrate. Errors never repeat the URL, which may
// hold a password. The README's "PostgreSQL and SQLite" section describes
// the pools and settings Open chooses.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	var (
		s   *Store
		err error
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		s, err = openPostgres(rawURL, c)
	case strings.HasPrefix(rawURL, "sqlite:"):
		s, err = openSQLite(ctx, strings.TrimPrefix(rawURL, "sqlite:"), c)
	default:
		return nil, keel.Errorf(keel.Invalid, "unsupported database URL: want postgres://, postgresql:// or sqlite:")
	}
	if err != nil {
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openPostgres opens one pool for reads, writes and transactions. pgdriver
// gives up on a query after 10 seconds without an answer (read_timeout in
// the URL changes it), and the store answers Unavailable.
func openPostgres(rawURL string, c config) (s *Store, err error) {
	if _, err := url.Parse(rawURL); err != nil {
		// url.Error repeats the URL; keep only that parsing failed.
		return nil, keel.Errorf(keel.Invalid, "invalid PostgreSQL URL")
	}
	defer func() {
		// pgdriver.WithDSN panics on a URL it cannot use (a bad sslmode, a
		// missing root certificate, ...).
		if r := recover(); r != nil {
			s, err = nil, keel.Wrap(fmt.Errorf("bunstore: %v", r), keel.Invalid, "invalid PostgreSQL URL")
		}
	}()
	var (
		connector driver.Connector = pgdriver.NewConnector(pgdriver.WithDSN(rawURL))
		conns     *stmtConnector
	)
	if c.prepare() {
		conns = newStmtConnector(connector, &hotSQLs[dialect.PG].texts, pgBroken)
		connector = conns
	}
	sqldb := sql.OpenDB(connector)
	sqldb.SetMaxOpenConns(pgMaxOpenConns)
	sqldb.SetMaxIdleConns(pgMaxOpenConns)
	sqldb.SetConnMaxLifetime(pgConnMaxLifetime)
	sqldb.SetConnMaxIdleTime(pgConnMaxIdleTime)
	db := withHooks(bun.NewDB(sqldb, pgdialect.New()), c)
	s = &Store{handle: handle{writer: db, reader: db, dialect: dialect.PG}, writeDB: db, readDB: db, owned: true, pgDSN: rawURL, hooks: c.hooks}
	if c.prepare() {
		s.readStmts = newHotPool(sqldb, conns, db, c.hooks)
		s.writeStmts = s.readStmts
	}
	return s, nil
}

// sqliteDefaults are the PRAGMAs every SQLite connection gets, unless the URL
// sets the same PRAGMA itself: a busy timeout (a write that waits longer for
// another process is Unavailable), foreign keys (the ON DELETE CASCADE of
// items, sessions, reset tokens and API tokens needs them), WAL, and
// synchronous=NORMAL, which in WAL mode survives a crash of the process (a
// power loss may take the last transactions, and never corrupts the file).
var sqliteDefaults = []struct{ name, pragma string }{
	{"busy_timeout", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeoutMilli)},
	{"foreign_keys", "foreign_keys(1)"},
	{"journal_mode", "journal_mode(WAL)"},
	{"synchronous", "synchronous(NORMAL)"},
}

// sqliteDSN turns the part of a sqlite: URL after the scheme into a
// modernc.org/sqlite data source name, and reports whether it names an
// in-memory database.
func sqliteDSN(rest string) (dsn string, memory bool, err error) {
	path, rawQuery, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", false, keel.Errorf(keel.Invalid, "invalid SQLite URL query")
	}
	switch {
	case path == ":memory:":
		memory = true
	case strings.HasPrefix(path, "//"):
		path = path[2:] // sqlite:///abs/path → /abs/path; sqlite://rel → rel
	}
	if !memory {
		if path, err = url.PathUnescape(path); err != nil || path == "" || strings.Contains(path, "?") {
			return "", false, keel.Errorf(keel.Invalid, "invalid SQLite URL: want sqlite:///path/to/file.db or sqlite::memory:")
		}
	}
	set := map[string]bool{}
	for _, p := range q["_pragma"] {
		name, _, _ := strings.Cut(p, "(")
		name, _, _ = strings.Cut(name, "=")
		set[strings.ToLower(strings.TrimSpace(name))] = true
	}
	for _, d := range sqliteDefaults {
		if memory && d.name == "journal_mode" {
			continue // an in-memory database journals in memory
		}
		if !set[d.name] {
			q.Add("_pragma", d.pragma)
		}
	}
	if q.Get("_txlock") == "" {
		// Transactions take the write lock when they begin, so two of them
		// never deadlock upgrading a read lock (which SQLite answers with
		// SQLITE_BUSY at once, without waiting for the busy timeout).
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode(), memory, nil
}

func openSQLite(ctx context.Context, rest string, c config) (*Store, error) {
	dsn, memory, err := sqliteDSN(rest)
	if err != nil {
		return nil, err
	}
	// One writer connection: SQLite allows one writer at a time anyway, and
	// queueing writers in database/sql's pool (instead of in SQLite's busy
	// handler, which polls and is not fair) means no "database is locked"
	// between the goroutines of this process. Other processes wait for the
	// busy timeout. The connection never expires: for :memory: it is the
	// database.
	wsql, wconns, err := openSQLiteDB(dsn, c)
	if err != nil {
		return nil, err
	}
	wsql.SetMaxOpenConns(1)
	wsql.SetMaxIdleConns(1)
	wsql.SetConnMaxLifetime(0)
	wsql.SetConnMaxIdleTime(0)
	wdb := withHooks(bun.NewDB(wsql, sqlitedialect.New()), c)
	s := &Store{handle: handle{writer: wdb, reader: wdb, dialect: dialect.SQLite}, writeDB: wdb, readDB: wdb, owned: true, hooks: c.hooks}
	if c.prepare() {
		s.readStmts = newHotPool(wsql, wconns, wdb, c.hooks)
		s.writeStmts = s.readStmts
	}
	if memory {
		// Every connection to :memory: is a database of its own, so the
		// single writer connection serves the reads too: calls run one at
		// a time, and one made outside InTx while a transaction is open
		// waits for it.
		return s, nil
	}
	// Open the file (and switch it to WAL) on the writer before the readers
	// see it.
	if err := wsql.PingContext(ctx); err != nil {
		wsql.Close()
		return nil, storeError("open sqlite", err, "", "")
	}
	// In WAL mode readers neither block the writer nor wait for it, so they
	// get a pool of their own, of GOMAXPROCS connections (at least 4);
	// query_only makes a write sent to it by mistake fail instead of racing
	// the writer.
	rsql, rconns, err := openSQLiteDB(dsn+"&_query_only=1", c)
	if err != nil {
		wsql.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rsql.SetMaxOpenConns(n)
	rsql.SetMaxIdleConns(n)
	rdb := withHooks(bun.NewDB(rsql, sqlitedialect.New()), c)
	s.reader, s.readDB = rdb, rdb
	if c.prepare() {
		s.readStmts = newHotPool(rsql, rconns, rdb, c.hooks)
	}
	s.committer = newGroupCommitter(wsql)
	return s, nil
}

// openSQLiteDB opens a pool on dsn whose connections prepare the hot
// queries (conns, nil when c prepares none).
func openSQLiteDB(dsn string, c config) (db *sql.DB, conns *stmtConnector, err error) {
	connector, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, nil, keel.Wrap(fmt.Errorf("bunstore: open sqlite: %w", err), keel.Invalid, "invalid SQLite URL")
	}
	if c.prepare() {
		conns = newStmtConnector(connector, &hotSQLs[dialect.SQLite].texts, sqliteBroken)
		connector = conns
	}
	return sql.OpenDB(connector), conns, nil
}

func withHooks(db *bun.DB, c config) *bun.DB {
	for _, h := range c.hooks {
		db = db.WithQueryHook(h)
	}
	return db
}

// New returns a Store on db, a *bun.DB with the pgdialect or sqlitedialect
// dialect that the caller configured and keeps owning: Close does not close
// it. For SQLite, give db the PRAGMAs Open sets (busy_timeout(5000),
// foreign_keys(1), journal_mode(WAL), synchronous(NORMAL)) and either one
// connection or _txlock=immediate. Every query of such a Store goes
// through bun (and so through db's query hooks).
func New(db *bun.DB) (*Store, error) {
	name := db.Dialect().Name()
	if name != dialect.PG && name != dialect.SQLite {
		return nil, keel.Errorf(keel.Invalid, "unsupported bun dialect %s: want pg or sqlite", name)
	}
	return &Store{handle: handle{writer: db, reader: db, dialect: name}, writeDB: db, readDB: db}, nil
}

// DB returns the *bun.DB the store writes to.
func (s *Store) DB() *bun.DB { return s.writeDB }

// Pools returns the store's connection pools by name, for their
// statistics (sql.DB.Stats; prometheus's collectors.NewDBStatsCollector
// exports them): "main", the one pool of PostgreSQL, of an in-memory SQLite
// database and of a Store from New; or, for an SQLite file, "write" (its
// one writer connection) and "read" (its readers).
func (s *Store) Pools() map[string]*sql.DB {
	if s.readDB == s.writeDB {
		return map[string]*sql.DB{"main": s.writeDB.DB}
	}
	return map[string]*sql.DB{"write": s.writeDB.DB, "read": s.readDB.DB}
}

// Dialect returns the name of the store's SQL dialect (pg or sqlite).
func (s *Store) Dialect() dialect.Name { return s.dialect }

// Close closes the connections of a Store made by Open, after the writes
// queued for a group commit have run. It does nothing on a Store from New. A closed Store answers every call with an Internal
// error: using it is a bug, not an outage.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	s.closeOnce.Do(func() {
		if s.committer != nil {
			s.committer.close() // runs the writes queued already
		}
		var errs []error
		if s.readDB != s.writeDB {
			errs = append(errs, s.readDB.Close())
		}
		errs = append(errs, s.writeDB.Close())
		s.closeErr = storeError("close", errors.Join(errs...), "", "")
	})
	return s.closeErr
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return storeError("ping", s.readDB.PingContext(ctx), "", "")
}

// DeleteExpired removes, in one transaction, the sessions, reset tokens,
// API tokens, one-time tokens, authentication flows and counters that
// expired at or before now.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	err := s.atomically(ctx, func(db bun.IDB) error {
		total = 0
		for _, q := range []*bun.DeleteQuery{
			db.NewDelete().Model((*sessionRow)(nil)).Where("expiry <= ?", now),
			db.NewDelete().Model((*resetTokenRow)(nil)).Where("expires_at <= ?", now),
			db.NewDelete().Model((*oneTimeTokenRow)(nil)).Where("expires_at <= ?", now),
			db.NewDelete().Model((*apiTokenRow)(nil)).Where("expires_at <= ?", now),
			db.NewDelete().Model((*authFlowRow)(nil)).Where("expires_at <= ?", now),
			db.NewDelete().Model((*counterRow)(nil)).Where("reset_at <= ?", now),
		} {
			res, err := q.Exec(ctx)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, storeError("delete expired", err, "", "")
	}
	return total, nil
}

// requireRow returns NotFound (with msg) when res reports no row.
func requireRow(op string, res sql.Result, msg string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return storeError(op, err, "", "")
	}
	if n == 0 {
		return notFound(op, msg)
	}
	return nil
}
