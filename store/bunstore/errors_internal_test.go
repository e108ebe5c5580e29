package bunstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/keel-dev/keel"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want keel.Code
	}{
		{"no rows is NotFound", sql.ErrNoRows, keel.NotFound},
		{"a wrapped no rows is NotFound", fmt.Errorf("scan: %w", sql.ErrNoRows), keel.NotFound},
		{"a cancelled context is Unavailable", context.Canceled, keel.Unavailable},
		{"a deadline is Unavailable", fmt.Errorf("query: %w", context.DeadlineExceeded), keel.Unavailable},
		{"a bad connection is Unavailable", driver.ErrBadConn, keel.Unavailable},
		{"a done connection is Unavailable", sql.ErrConnDone, keel.Unavailable},
		{"EOF from a closed connection is Unavailable", io.EOF, keel.Unavailable},
		{"an unexpected EOF is Unavailable", io.ErrUnexpectedEOF, keel.Unavailable},
		{"a refused dial is Unavailable", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, keel.Unavailable},
		{"anything else is Internal", errors.New("sql: database is closed"), keel.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err); got != tc.want {
				t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestClassifySQLState(t *testing.T) {
	for _, tc := range []struct {
		state string
		want  keel.Code
	}{
		{"23505", keel.Conflict},    // unique_violation
		{"23503", keel.NotFound},    // foreign_key_violation
		{"08006", keel.Unavailable}, // connection_failure
		{"08001", keel.Unavailable}, // sqlclient_unable_to_establish_sqlconnection
		{"57P01", keel.Unavailable}, // admin_shutdown (pg_terminate_backend)
		{"57P03", keel.Unavailable}, // cannot_connect_now
		{"57014", keel.Unavailable}, // query_canceled
		{"53300", keel.Unavailable}, // too_many_connections
		{"40001", keel.Unavailable}, // serialization_failure
		{"40P01", keel.Unavailable}, // deadlock_detected
		{"23502", keel.Internal},    // not_null_violation: a bug
		{"42P01", keel.Internal},    // undefined_table: not migrated
		{"42601", keel.Internal},    // syntax_error
	} {
		t.Run(tc.state+" is "+tc.want.String(), func(t *testing.T) {
			if got := classifySQLState(tc.state); got != tc.want {
				t.Errorf("classifySQLState(%s) = %v, want %v", tc.state, got, tc.want)
			}
		})
	}
}

func TestClassifySQLite(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		want keel.Code
	}{
		{"SQLITE_CONSTRAINT_UNIQUE is Conflict", 2067, keel.Conflict},
		{"SQLITE_CONSTRAINT_PRIMARYKEY is Conflict", 1555, keel.Conflict},
		{"SQLITE_CONSTRAINT_FOREIGNKEY is NotFound", 787, keel.NotFound},
		{"SQLITE_CONSTRAINT_NOTNULL is Internal", 1299, keel.Internal},
		{"SQLITE_BUSY is Unavailable", 5, keel.Unavailable},
		{"SQLITE_BUSY_SNAPSHOT is Unavailable", 517, keel.Unavailable},
		{"SQLITE_LOCKED is Unavailable", 6, keel.Unavailable},
		{"SQLITE_INTERRUPT is Unavailable", 9, keel.Unavailable},
		{"SQLITE_IOERR_WRITE is Unavailable", 778, keel.Unavailable},
		{"SQLITE_CANTOPEN is Unavailable", 14, keel.Unavailable},
		{"SQLITE_READONLY is Internal", 8, keel.Internal},
		{"SQLITE_ERROR is Internal", 1, keel.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classifySQLite(tc.code); got != tc.want {
				t.Errorf("classifySQLite(%d) = %v, want %v", tc.code, got, tc.want)
			}
		})
	}
}

func TestStoreErrorKeepsTheCause(t *testing.T) {
	err := storeError("user", sql.ErrNoRows, keel.ErrUserNotFound.Message, "")
	if !errors.Is(err, keel.ErrUserNotFound) {
		t.Errorf("storeError = %v, want it to match keel.ErrUserNotFound", err)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("storeError = %v, want it to wrap sql.ErrNoRows", err)
	}
	ke := keel.Errorf(keel.Invalid, "x")
	if got := storeError("op", ke, "", ""); got != error(ke) {
		t.Errorf("storeError(*keel.Error) = %v, want it unchanged", got)
	}
}

func TestSQLiteDSN(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		memory         bool
	}{
		{"an absolute path gets the default PRAGMAs and BEGIN IMMEDIATE", "///var/lib/keel.db",
			"/var/lib/keel.db?_pragma=busy_timeout%285000%29&_pragma=foreign_keys%281%29&_pragma=journal_mode%28WAL%29&_pragma=synchronous%28NORMAL%29&_txlock=immediate", false},
		{"a relative path", "keel.db",
			"keel.db?_pragma=busy_timeout%285000%29&_pragma=foreign_keys%281%29&_pragma=journal_mode%28WAL%29&_pragma=synchronous%28NORMAL%29&_txlock=immediate", false},
		{"a PRAGMA in the URL replaces the default", "///k.db?_pragma=busy_timeout(100)",
			"/k.db?_pragma=busy_timeout%28100%29&_pragma=foreign_keys%281%29&_pragma=journal_mode%28WAL%29&_pragma=synchronous%28NORMAL%29&_txlock=immediate", false},
		{"memory has no WAL", ":memory:",
			":memory:?_pragma=busy_timeout%285000%29&_pragma=foreign_keys%281%29&_pragma=synchronous%28NORMAL%29&_txlock=immediate", true},
		{"an escaped path is unescaped", "///tmp/a%20b.db",
			"/tmp/a b.db?_pragma=busy_timeout%285000%29&_pragma=foreign_keys%281%29&_pragma=journal_mode%28WAL%29&_pragma=synchronous%28NORMAL%29&_txlock=immediate", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, memory, err := sqliteDSN(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || memory != tc.memory {
				t.Errorf("sqliteDSN(%q) = %q, %v, want %q, %v", tc.in, got, memory, tc.want, tc.memory)
			}
		})
	}
	for _, bad := range []string{"", "//", "///a%3Fb.db"} {
		if _, _, err := sqliteDSN(bad); keel.ErrorCode(err) != keel.Invalid {
			t.Errorf("sqliteDSN(%q): err = %v, want Invalid", bad, err)
		}
	}
}
