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
// ListItems answers an owner's exact item count from the table
// item_counts, not a count of the items. On PostgreSQL keel keeps it in the
// statements it writes items with (CreateItem, DeleteItem; deleting a user
// removes its counts by cascade), so a program that inserts into or
// deletes from items with its own SQL must change item_counts in the same
// transaction, or recount the owners it touched: the migration
// 20261127180000_item_counts_by_keel shows how. On SQLite triggers keep it,
// whoever writes.
//
// The Store's errors are *keel.Error values whose code comes from the
// driver's SQLSTATE or SQLite result code, never from the message text;
// the driver's error is the cause.
package bunstore
