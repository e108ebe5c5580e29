// Package memstore is an in-memory keel.Store: complete, safe for
// concurrent use and transactional, for tests, examples and single-process
// programs that do not need their data to outlive them.
//
// Every Store method takes a lock: reads share a read lock, writes take the
// write lock, so every call is atomic. InTx holds the write lock for the
// whole transaction and records an undo log, so a transaction's writes all
// stay when its fn returns nil and all go when it returns an error or
// panics; other callers wait until it ends and never see half of it.
//
// Inside InTx, use only the keel.Tx fn receives: calling the Store from fn
// waits for the lock fn's own transaction holds, forever.
//
// Emails are indexed case-insensitively, each user's items, sessions, reset
// tokens and API tokens are indexed by user, and every struct that goes in
// or comes out is copied, so callers never share memory with the store.
package memstore
