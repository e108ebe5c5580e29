package bunstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/pgtest"
	"github.com/keel-dev/keel/store/storetest"
)

// TestOwnerPagePlan holds the plan of the first page of an owner's items
// (qOwnerItems) where the statistics invite a wrong one: the items so far
// are 5,000 of one owner, analyzed, and the page asked for is a new
// owner's. Only the (owner_id, created_at DESC, id DESC) index may answer
// it, without a sort: the created_at index filtered by owner reads every
// item newer than the small owner's last, and a sort reads all of a large
// owner's. On PostgreSQL the prepared statement is explained after the
// five calls after which PostgreSQL may settle on one generic plan for
// every owner. (It does, with the created_at index, when the table is a
// few hundred rows, where that costs as little as planning; not from a
// few thousand up.)
func TestOwnerPagePlan(t *testing.T) {
	for _, d := range []struct {
		name string
		url  func(t *testing.T) string
		// fill inserts 5,000 items of the owner ?.
		fill    string
		explain func(t *testing.T, ctx context.Context, conn *sql.Conn, query string, args []any) string
	}{
		{"PostgreSQL", func(t *testing.T) string { return pgtest.Schema(t) },
			`INSERT INTO items (id, title, owner_id, created_at, updated_at)
			 SELECT gen_random_uuid(), 'item', ?, now() - g * interval '1 second', now() FROM generate_series(1, 5000) AS g`,
			explainPostgreSQL},
		{"SQLite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "keel.db") },
			`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 5000)
			 INSERT INTO items (id, title, owner_id, created_at, updated_at)
			 SELECT lower(hex(randomblob(16))), 'item', ?, datetime('now', '-' || n || ' seconds'), datetime('now') FROM g`,
			explainSQLite},
	} {
		t.Run(d.name, func(t *testing.T) {
			s := openInternal(t, d.url(t))
			ctx := t.Context()
			heavy, small := storetest.NewUser(), storetest.NewUser()
			must(t, s.CreateUser(ctx, heavy))
			must(t, s.CreateUser(ctx, small))
			_, err := s.writer.NewRaw(d.fill, heavy.ID).Exec(ctx)
			must(t, err)
			_, err = s.writer.NewRaw("ANALYZE").Exec(ctx)
			must(t, err)
			for range 3 {
				must(t, s.CreateItem(ctx, storetest.NewItem(small.ID)))
			}
			items, n, err := s.ListItems(ctx, keel.ItemFilter{OwnerID: small.ID}, keel.Page{Limit: 20})
			must(t, err)
			if len(items) != 3 || n != 3 {
				t.Fatalf("ListItems: %d items, count %d; want 3, 3", len(items), n)
			}
			conn, err := s.readStmts.db.Conn(ctx)
			must(t, err)
			defer conn.Close()
			plan := d.explain(t, ctx, conn, s.readStmts.sql.texts[qOwnerItems], []any{small.ID, small.ID, 20, 0})
			if !strings.Contains(plan, "items_owner_id_created_at_id_idx") {
				t.Errorf("the page is not read from the owner index:\n%s", plan)
			}
			if strings.Contains(plan, "items_created_at_id_idx") || strings.Contains(strings.ToUpper(plan), "SORT") ||
				strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("the page is sorted or read from another index:\n%s", plan)
			}
		})
	}
}

// explainPostgreSQL prepares query on conn as the store's connections do,
// runs it six times, and returns the plan of the seventh run.
func explainPostgreSQL(t *testing.T, ctx context.Context, conn *sql.Conn, query string, args []any) string {
	t.Helper()
	_, err := conn.ExecContext(ctx, "PREPARE owner_page AS "+query)
	must(t, err)
	var lits []string
	for _, a := range args {
		switch v := a.(type) {
		case uuid.UUID:
			lits = append(lits, "'"+v.String()+"'")
		default:
			lits = append(lits, fmt.Sprint(v))
		}
	}
	execute := "EXECUTE owner_page(" + strings.Join(lits, ", ") + ")"
	for range 6 {
		rows, err := conn.QueryContext(ctx, execute)
		must(t, err)
		rows.Close()
	}
	return queryLines(t, ctx, conn, "EXPLAIN "+execute)
}

func explainSQLite(t *testing.T, ctx context.Context, conn *sql.Conn, query string, args []any) string {
	t.Helper()
	return queryLines(t, ctx, conn, "EXPLAIN QUERY PLAN "+query, args...)
}

// queryLines returns the last column of every row query answers, a line
// each.
func queryLines(t *testing.T, ctx context.Context, conn *sql.Conn, query string, args ...any) string {
	t.Helper()
	rows, err := conn.QueryContext(ctx, query, args...)
	must(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	must(t, err)
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		must(t, rows.Scan(ptrs...))
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	must(t, rows.Err())
	return strings.Join(lines, "\n")
}
