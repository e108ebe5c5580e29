// Package pgtest gives tests a PostgreSQL database of their own: the
// server named by KEEL_TEST_DATABASE_URL, in a fresh schema that is dropped
// when the test ends, so tests run in parallel and leave nothing behind.
//
// Without KEEL_TEST_DATABASE_URL a test that asks is skipped, unless
// CI=true, where it fails: CI must run the PostgreSQL tests. Only loopback
// hosts are accepted, since the tests create and drop schemas.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// EnvVar names the variable that points the tests at PostgreSQL.
const EnvVar = "KEEL_TEST_DATABASE_URL"

// URL returns KEEL_TEST_DATABASE_URL. Without it t is skipped, or fails
// when CI=true; a URL whose host is not loopback fails t.
func URL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(EnvVar)
	if raw == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(EnvVar + " is not set, and CI=true requires the PostgreSQL tests (run .ci/ensure-postgres)")
		}
		t.Skip("PostgreSQL tests skipped: set " + EnvVar + ", e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(EnvVar + " is not a URL")
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		t.Fatalf(EnvVar+" must point at a loopback host (127.0.0.1, ::1, localhost), not %q", host)
	}
	return raw
}

// Schema creates a schema of its own for t and returns a URL whose
// connections use it (search_path); the schema is dropped when t ends.
func Schema(t testing.TB) string {
	t.Helper()
	raw := URL(t)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "keel_test_" + hex.EncodeToString(b)

	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(raw)))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		t.Fatalf("PostgreSQL at %s is unreachable or refused CREATE SCHEMA: %v", EnvVar, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, _ := url.Parse(raw)
	q := u.Query()
	q.Set("search_path", schema) // pgdriver sends unknown parameters as run-time parameters
	u.RawQuery = q.Encode()
	return u.String()
}
