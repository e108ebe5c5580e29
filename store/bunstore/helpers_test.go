package bunstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/keel-dev/keel/store/bunstore"
)

// The stores the tests run against: a SQLite file, SQLite in memory and,
// when KEEL_TEST_DATABASE_URL is set, PostgreSQL (a fresh schema for every
// store).

func sqliteFileURL(t *testing.T) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "keel.db")
}

// open opens and migrates a store on rawURL and closes it when t ends.
func open(t *testing.T, rawURL string, opts ...bunstore.Option) *bunstore.Store {
	t.Helper()
	s, err := bunstore.Open(t.Context(), rawURL, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func newSQLiteFile(t *testing.T) *bunstore.Store { return open(t, sqliteFileURL(t)) }

func newSQLiteMemory(t *testing.T) *bunstore.Store { return open(t, "sqlite::memory:") }

// postgresURL returns KEEL_TEST_DATABASE_URL. Without it the test is
// skipped, or fails when CI=true; a URL whose host is not loopback fails it:
// the tests create and drop schemas.
func postgresURL(t *testing.T) string {
	t.Helper()
	raw := os.Getenv("KEEL_TEST_DATABASE_URL")
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("KEEL_TEST_DATABASE_URL is not set, and CI=true requires the PostgreSQL tests (run .ci/ensure-postgres)")
		}
		t.Skip("PostgreSQL tests skipped: set KEEL_TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal("KEEL_TEST_DATABASE_URL is not a URL")
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		t.Fatalf("KEEL_TEST_DATABASE_URL must point at a loopback host (127.0.0.1, ::1, localhost), not %q", host)
	}
	return raw
}

// newPostgresSchema creates a schema of its own for one test and returns a
// URL whose connections use it; the schema is dropped when t ends.
func newPostgresSchema(t *testing.T) string {
	t.Helper()
	raw := postgresURL(t)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "keel_test_" + hex.EncodeToString(b)

	admin, err := bunstore.Open(t.Context(), raw, bunstore.WithMaxOpenConns(2))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at KEEL_TEST_DATABASE_URL is unreachable: %v", err)
		}
		t.Fatalf("PostgreSQL at KEEL_TEST_DATABASE_URL is unreachable (unset it to skip): %v", err)
	}
	if _, err := admin.DB().ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		// t.Context is done by now.
		if _, err := admin.DB().ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})

	u, _ := url.Parse(raw)
	q := u.Query()
	q.Set("search_path", schema) // pgdriver sends unknown parameters as run-time parameters
	u.RawQuery = q.Encode()
	return u.String()
}

func newPostgres(t *testing.T) *bunstore.Store { return open(t, newPostgresSchema(t)) }

// dialects lists the stores every dialect-specific test runs against.
// available skips (or fails) the test when the dialect's database is not
// configured; url returns the URL of a fresh, empty database.
var dialects = []struct {
	name      string
	available func(t *testing.T)
	url       func(t *testing.T) string
}{
	{"SQLite file", func(*testing.T) {}, sqliteFileURL},
	{"PostgreSQL", func(t *testing.T) { postgresURL(t) }, newPostgresSchema},
}
