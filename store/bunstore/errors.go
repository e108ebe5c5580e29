package bunstore

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/uptrace/bun/driver/pgdriver"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/keel-dev/keel"
)

// Client-safe messages of the errors the store makes. NotFound and Conflict
// errors about users and items reuse keel's own messages, so errors.Is
// matches keel.ErrUserNotFound, keel.ErrItemNotFound and keel.ErrEmailTaken.
const (
	msgUnavailable = "The store is unavailable"
	msgInternal    = "The store failed"
	msgNotFound    = "Not found"
	msgConflict    = "Already exists"
)

// storeError turns err, returned by bun or a driver during op, into a
// *keel.Error whose code comes from classify and whose cause is err.
// notFound and conflict are the messages for those two codes ("" picks a
// generic one). A *keel.Error is returned unchanged.
func storeError(op string, err error, notFound, conflict string) error {
	if err == nil {
		return nil
	}
	var ke *keel.Error
	if errors.As(err, &ke) {
		return err
	}
	code := classify(err)
	var msg string
	switch code {
	case keel.NotFound:
		msg = cmp.Or(notFound, msgNotFound)
	case keel.Conflict:
		msg = cmp.Or(conflict, msgConflict)
	case keel.Unavailable:
		msg = msgUnavailable
	default:
		msg = msgInternal
	}
	return keel.Wrap(fmt.Errorf("bunstore: %s: %w", op, err), code, msg)
}

// notFound is the NotFound error of a statement that matched no row.
func notFound(op, msg string) error {
	return keel.Wrap(fmt.Errorf("bunstore: %s: %w", op, sql.ErrNoRows), keel.NotFound, cmp.Or(msg, msgNotFound))
}

// classify picks the keel code of a driver error by its type and its
// SQLSTATE or SQLite result code, never by its text:
//
//	PostgreSQL 23505 unique_violation                 Conflict
//	PostgreSQL 23503 foreign_key_violation            NotFound (the owner/user is missing)
//	PostgreSQL class 08 (connection exception),
//	  57P01-57P03 (shutdown, cannot connect now),
//	  57014 (statement timeout, cancel), class 53
//	  (insufficient resources: too many connections,
//	  disk full), 40001/40P01 (serialization failure,
//	  deadlock), 55P03 (lock not available),
//	  25006 (read-only transaction: a standby)       Unavailable
//	SQLite SQLITE_CONSTRAINT_UNIQUE (2067),
//	  SQLITE_CONSTRAINT_PRIMARYKEY (1555)             Conflict
//	SQLite SQLITE_CONSTRAINT_FOREIGNKEY (787)         NotFound
//	SQLite SQLITE_BUSY, SQLITE_LOCKED (after the busy
//	  timeout), SQLITE_INTERRUPT, SQLITE_IOERR,
//	  SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_PROTOCOL    Unavailable
//	sql.ErrNoRows                                     NotFound
//	context.Canceled, context.DeadlineExceeded,
//	  os.ErrDeadlineExceeded, driver.ErrBadConn,
//	  sql.ErrConnDone, net.Error, io.EOF,
//	  io.ErrUnexpectedEOF                             Unavailable
//	anything else (a closed store included)           Internal
func classify(err error) keel.Code {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return classifySQLState(pgErr.Field('C'))
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return classifySQLite(liteErr.Code())
	}
	var netErr net.Error
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return keel.NotFound
	case errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &netErr):
		return keel.Unavailable
	}
	return keel.Internal
}

func classifySQLState(state string) keel.Code {
	switch state {
	case "23505":
		return keel.Conflict
	case "23503":
		return keel.NotFound
	case "57P01", "57P02", "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
		"57014",          // query_canceled: statement_timeout or a cancel request
		"40001", "40P01", // serialization_failure, deadlock_detected: retry
		"55P03", // lock_not_available: lock_timeout
		"25006": // read_only_sql_transaction: connected to a standby
		return keel.Unavailable
	}
	switch {
	case strings.HasPrefix(state, "08"): // connection_exception
		return keel.Unavailable
	case strings.HasPrefix(state, "53"): // insufficient_resources
		return keel.Unavailable
	}
	return keel.Internal
}

func classifySQLite(code int) keel.Code {
	switch code {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return keel.Conflict
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return keel.NotFound
	}
	switch code & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL,
		sqlite3.SQLITE_PROTOCOL:
		return keel.Unavailable
	}
	return keel.Internal
}
