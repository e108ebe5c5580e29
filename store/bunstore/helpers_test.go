package bunstore_test

import (
	"path/filepath"
	"testing"

	"github.com/keel-dev/keel/internal/pgtest"
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

func postgresURL(t *testing.T) string { return pgtest.URL(t) }

func newPostgresSchema(t *testing.T) string { return pgtest.Schema(t) }

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
