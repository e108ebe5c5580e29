// Package bunstore keeps keel's data in PostgreSQL or SQLite through Bun
// (github.com/uptrace/bun). PostgreSQL (pgdialect + pgdriver) is the
// production store that several keel processes share; SQLite
// (sqlitedialect + modernc.org/sqlite, pure Go, so the binary needs no cgo
// and cross-compiles) is the embedded default: one file.
//
// # Opening
//
// Open picks the dialect from the URL:
//
//	postgres://user:password@host:5432/db?sslmode=verify-full
//	postgresql://...                     (the same)
//	sqlite:///var/lib/keel/keel.db       (an absolute path; sqlite:keel.db is relative)
//	sqlite::memory:                      (a database that lives as long as the Store)
//
// PostgreSQL URLs take pgdriver's parameters (sslmode, sslrootcert,
// connect_timeout, application_name, ...); any other parameter is sent to
// the server as a run-time parameter, e.g. search_path=keel to keep the
// tables in the schema keel. Give sslmode: without it pgdriver tries TLS
// without verifying the certificate. SQLite URLs take modernc.org/sqlite's
// parameters (_pragma=..., _txlock=...); a PRAGMA given there replaces the
// default of the same name below.
//
// New makes a Store of a *bun.DB the program already has (pgdialect or
// sqlitedialect); the program keeps owning it, and Close leaves it open.
//
// Open does not create the schema; Migrate does (the keel binary's `keel
// migrate up`).
//
// # Pools
//
// PostgreSQL: at most 10 open connections (WithMaxOpenConns, at least 2),
// as many kept idle, each closed after 30 minutes (so load balancers and
// failovers are followed) or 5 idle minutes. pgdriver gives up on a query
// after 10 seconds without an answer (read_timeout in the URL changes it),
// and the store answers Unavailable. PostgreSQL's max_connections (100 by default) must cover
// every process's pool plus administration: ten keel processes at the
// default already need a pooler such as PgBouncer or a larger limit.
//
// SQLite: every connection gets PRAGMA busy_timeout(5000), foreign_keys(1)
// (the ON DELETE CASCADE of items, sessions and reset tokens needs it),
// journal_mode(WAL) and synchronous(NORMAL) (durable across crashes of the
// process; a power loss may take the last transactions, never corrupts).
// Writes go through one connection, so the writers of one process queue in
// database/sql's pool instead of in SQLite's polling busy handler, and no
// request of the process ever sees "database is locked". Reads use their
// own pool (GOMAXPROCS connections, at least 4; WithMaxOpenConns), opened
// with query_only: in WAL mode readers neither wait for the writer nor block
// it. Transactions begin with BEGIN IMMEDIATE (_txlock=immediate), taking
// the write lock at once, so another process that writes to the same file
// (a second keel, `keel migrate`) waits up to the busy timeout instead of
// failing on a lock upgrade. A write that waits longer is Unavailable.
//
// Inside InTx, use the keel.Tx fn receives: on SQLite a write through the
// outer Store waits for the writer connection, which the transaction holds
// until fn returns, so it waits forever.
//
// sqlite::memory: is one database per connection, so an in-memory Store
// has a single connection, which never expires, for reads and writes: calls
// run one at a time, and a call made outside InTx while a transaction is
// open waits for it.
//
// # Migrations
//
// The schema is a set of versioned SQL files per dialect, embedded in the
// binary and run by bun/migrate (tables keel_migrations and
// keel_migration_locks): Migrate applies the pending ones as a group,
// Rollback rolls back the last group, MigrationStatus lists them. Each file
// runs in a transaction and is recorded only when it committed. Migrating
// an up-to-date schema does nothing.
//
// Concurrent Migrate calls are safe. On PostgreSQL they take a session
// advisory lock keyed by the current schema, which the server releases if
// the process dies; a Store from Open migrates through a pool of its own
// (two connections, the lock's and the migrations') without the read
// timeout, so a long migration does not time out. SQLite has no advisory locks: Migrate takes bun/migrate's
// lock row, waiting while another process holds it; a process killed while
// migrating leaves the row behind, and `DELETE FROM keel_migration_locks`
// frees it.
//
// # Errors
//
// Errors are *keel.Error, with the driver's error as the cause. The code
// comes from the error's type and SQLSTATE or SQLite extended result code,
// never from its text: a unique violation (23505, SQLITE_CONSTRAINT_UNIQUE
// or _PRIMARYKEY) is Conflict; a foreign-key violation (23503,
// SQLITE_CONSTRAINT_FOREIGNKEY), meaning the owner is missing, and
// sql.ErrNoRows are NotFound; a connection that fails, a network error, a
// cancelled or timed-out context, a terminated backend (class 08, 57P01,
// ...) or a SQLite lock, interrupt or I/O error is Unavailable; anything
// else is Internal. A Store used after Close answers Internal: that is a bug
// of the caller, not an outage.
package bunstore
