package bunstore_test

import (
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/storetest"
)

// TestStore runs the conformance suite against every backend: a SQLite file
// and SQLite in memory always, PostgreSQL when KEEL_TEST_DATABASE_URL is set
// (a schema of its own for every store, so the subtests can run in
// parallel and leave nothing behind).
func TestStore(t *testing.T) {
	t.Run("SQLite file", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) keel.Store { return newSQLiteFile(t) })
	})
	t.Run("SQLite memory", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) keel.Store { return newSQLiteMemory(t) })
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		t.Parallel()
		postgresURL(t) // skip (or fail on CI) before the suite starts
		storetest.Run(t, func(t *testing.T) keel.Store { return newPostgres(t) })
	})
}
