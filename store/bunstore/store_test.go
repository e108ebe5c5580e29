package bunstore_test

import (
	"database/sql"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/storetest"
)

// TestStore runs the conformance suite against every backend: a SQLite file
// and SQLite in memory always, PostgreSQL when KEEL_TEST_DATABASE_URL is set
// (a schema of its own for every store, so the subtests can run in
// parallel and leave nothing behind). Each runs it twice, as the hot
// queries have two implementations: prepared statements, and bun's query
// builder, which transactions and New's stores use.
func TestStore(t *testing.T) {
	for _, b := range []struct {
		name      string
		available func(t *testing.T)
		url       func(t *testing.T) string
	}{
		{"SQLite file", func(*testing.T) {}, sqliteFileURL},
		{"SQLite memory", func(*testing.T) {}, func(*testing.T) string { return "sqlite::memory:" }},
		{"PostgreSQL", func(t *testing.T) { postgresURL(t) }, newPostgresSchema},
	} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			b.available(t) // skip (or fail on CI) before the suite starts
			for _, v := range []struct {
				name string
				opts []bunstore.Option
			}{
				{"with prepared statements", nil},
				{"without prepared statements", []bunstore.Option{bunstore.WithoutPreparedStatements()}},
			} {
				t.Run(v.name, func(t *testing.T) {
					t.Parallel()
					storetest.Run(t, func(t *testing.T) keel.Store { return open(t, b.url(t), v.opts...) })
				})
			}
		})
	}
}

func TestOpen(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  string
	}{
		{"an unknown scheme is Invalid", "mysql://keel:s3cret@127.0.0.1/keel"},
		{"an unsupported sslmode is Invalid", "postgres://keel:s3cret@127.0.0.1:1/keel?sslmode=sometimes"},
		{"a SQLite URL without a path is Invalid", "sqlite://"},
	} {
		t.Run(tc.name+" and does not repeat the URL", func(t *testing.T) {
			_, err := bunstore.Open(t.Context(), tc.url)
			if keel.ErrorCode(err) != keel.Invalid {
				t.Errorf("Open: err = %v, want Invalid", err)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Open: err = %v repeats the password", err)
			}
		})
	}
}

func TestDialect(t *testing.T) {
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
		want dialect.Name
	}{
		{"a sqlite: URL opens SQLite", sqliteFileURL, dialect.SQLite},
		{"a postgres: URL opens PostgreSQL", newPostgresSchema, dialect.PG},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := open(t, tc.url(t)).Dialect(); got != tc.want {
				t.Errorf("Dialect = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	sqldb, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "keel.db")+"?_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer sqldb.Close()
	sqldb.SetMaxOpenConns(1)
	db := bun.NewDB(sqldb, sqlitedialect.New())
	s, err := bunstore.New(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	u := storetest.NewUser()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(t.Context()); err != nil {
		t.Errorf("the *bun.DB given to New was closed by Close: %v", err)
	}
	if _, err := s.User(t.Context(), u.ID); err != nil {
		t.Errorf("User after Close of a Store from New: %v", err)
	}
}

func TestPools(t *testing.T) {
	for _, tc := range []struct {
		name  string
		url   func(t *testing.T) string
		names []string
	}{
		{"an SQLite file has a write and a read pool", sqliteFileURL, []string{"read", "write"}},
		{"SQLite in memory has one", func(*testing.T) string { return "sqlite::memory:" }, []string{"main"}},
		{"PostgreSQL has one", newPostgresSchema, []string{"main"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, tc.url(t))
			pools := s.Pools()
			if got := slices.Sorted(maps.Keys(pools)); !slices.Equal(got, tc.names) {
				t.Fatalf("pools %v, want %v", got, tc.names)
			}
			if _, err := s.User(t.Context(), storetest.NewUser().ID); keel.ErrorCode(err) != keel.NotFound {
				t.Fatal(err)
			}
			var opened int
			for _, p := range pools {
				opened += p.Stats().OpenConnections
			}
			if opened == 0 {
				t.Fatal("the pools report no open connection after a query")
			}
		})
	}
}
