// Package bunstore keeps keel's data in PostgreSQL or SQLite through Bun
// (github.com/uptrace/bun): PostgreSQL (pgdriver) for keel processes that
// share a database, SQLite (modernc.org/sqlite, pure Go, so the binary needs
// no cgo) as the embedded default, one file.
//
// Open a Store with Open (or wrap a *bun.DB of your own with New), create
// the schema with Migrate, and hand the Store to keel.New. A program
// writes its own tables in keel's transactions through TxDB (from a
// keel.BeforeHook, or keel.Service.InTx), and migrates them after keel's,
// with bookkeeping tables of its own and foreign keys to keel's users
// (ON DELETE CASCADE); the README's "Your migrations beside keel's" shows
// how.
//
// The Store's errors are *keel.Error values whose code comes from the
// driver's SQLSTATE or SQLite result code, never from the message text;
// the driver's error is the cause.
package bunstore
