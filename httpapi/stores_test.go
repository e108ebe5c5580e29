package httpapi_test

import (
	"context"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/memstore"
)

// eachStore runs f, as a subtest, on a fresh migrated store of each kind:
// memstore, SQLite and PostgreSQL (skipped without KEEL_TEST_DATABASE_URL,
// unless CI=true). It is for behaviour that depends on what the database
// does: transactions, locks, the text it accepts.
func eachStore(t *testing.T, f func(t *testing.T, st keel.Store)) {
	for _, name := range []string{"mem", "sqlite", "postgres"} {
		t.Run("on "+name, func(t *testing.T) { f(t, openStore(t, name)) })
	}
}

// openStore opens a fresh store: "mem", "sqlite" (a file in the test's
// directory) or "postgres" (a schema of its own).
func openStore(tb testing.TB, name string) keel.Store {
	ctx := context.Background()
	var url string
	switch name {
	case "mem":
		return memstore.New()
	case "sqlite":
		url = "sqlite://" + tb.TempDir() + "/keel.db"
	case "postgres":
		url = pgtest.Schema(tb)
	default:
		tb.Fatalf("no store %q", name)
	}
	st, err := bunstore.Open(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return st
}
