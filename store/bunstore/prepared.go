package bunstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// The queries every authenticated request runs (FindSession, FindAPIToken)
// and the commonest reads (Item, a page of one owner's items) and write
// (CreateItem) go through prepared statements, on the pool that runs them:
// bun writes its arguments into the SQL text, so each call otherwise makes
// the database parse and plan the query again (PostgreSQL) or compile it
// again (SQLite, where that was a fifth of a request's CPU). A statement is
// prepared once per pooled connection by database/sql.
//
// The prepared path is taken only by a Store that Open made, outside a
// transaction (see handle.readStmts). The Store's query hooks
// (WithQueryHook) see its queries too: stmtCache.observe runs them around
// each call as bun runs them around its own queries. Both paths pass the
// conformance suite (TestStore).

const (
	sqlFindSession = `SELECT s.token_hash, s.id, s.user_id, s.data, s.expiry, s.created_at, s.last_used_at, s.client_addr, s.user_agent,
 u.id, u.email, u.full_name, u.is_active, u.is_superuser, u.is_verified, u.password_hash, u.password_changed_at, u.created_at, u.updated_at
 FROM sessions AS s JOIN users AS u ON u.id = s.user_id
 WHERE s.token_hash = ? AND s.expiry > ?`
	sqlFindAPIToken = `SELECT t.id, t.user_id, t.name, t.scope, t.token_hash, t.created_at, t.last_used_at, t.expires_at,
 u.id, u.email, u.full_name, u.is_active, u.is_superuser, u.is_verified, u.password_hash, u.password_changed_at, u.created_at, u.updated_at
 FROM api_tokens AS t JOIN users AS u ON u.id = t.user_id
 WHERE t.token_hash = ? AND t.expires_at > ?`
	// sqlOwnerItems is a page of one owner's items with their total count
	// in the same round trip: the count is a scalar subquery, run once, that
	// sums the owner's rows of item_counts (see itemCount).
	sqlOwnerItems = `SELECT i.id, i.title, i.description, i.owner_id, i.created_at, i.updated_at,
 (SELECT CAST(coalesce(sum(c.n), 0) AS bigint) FROM item_counts AS c WHERE c.owner_id = ?) AS total
 FROM items AS i WHERE i.owner_id = ? ORDER BY i.created_at DESC, i.id DESC LIMIT ? OFFSET ?`
	// sqlOwnerItemsAfter is sqlOwnerItems after a cursor: the row
	// comparison is a range of the (owner_id, created_at DESC, id DESC)
	// index, so the page costs the same at any depth.
	sqlOwnerItemsAfter = `SELECT i.id, i.title, i.description, i.owner_id, i.created_at, i.updated_at,
 (SELECT CAST(coalesce(sum(c.n), 0) AS bigint) FROM item_counts AS c WHERE c.owner_id = ?) AS total
 FROM items AS i WHERE i.owner_id = ? AND (i.created_at, i.id) < (?, ?) ORDER BY i.created_at DESC, i.id DESC LIMIT ? OFFSET ?`
	sqlCreateItem = `INSERT INTO items (id, title, description, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`
	// sqlCreateItemCounted is sqlCreateItem on PostgreSQL: the same
	// statement adds the item to its owner's count, on the shard row of the
	// connection (the backend pid modulo 16, as the item_counts migration
	// describes), instead of a trigger doing it in a second statement.
	sqlCreateItemCounted = `WITH i AS (INSERT INTO items (id, title, description, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING owner_id)
 INSERT INTO item_counts AS c (owner_id, shard, n) SELECT i.owner_id, pg_backend_pid() % 16, 1 FROM i
 ON CONFLICT (owner_id, shard) DO UPDATE SET n = c.n + 1`
	// sqlDeleteItemCounted deletes an item on PostgreSQL and takes it from
	// its owner's count in the same statement; it affects one row of
	// item_counts per item deleted. A shard row may go below zero: the sum
	// of the owner's rows is the count.
	sqlDeleteItemCounted = `WITH d AS (DELETE FROM items WHERE id = ? RETURNING owner_id)
 INSERT INTO item_counts AS c (owner_id, shard, n) SELECT d.owner_id, pg_backend_pid() % 16, -1 FROM d
 ON CONFLICT (owner_id, shard) DO UPDATE SET n = c.n - 1`
	sqlItem = `SELECT i.id, i.title, i.description, i.owner_id, i.created_at, i.updated_at FROM items AS i WHERE i.id = ?`
)

// stmtCache holds a pool's prepared statements.
type stmtCache struct {
	db      *sql.DB
	dialect dialect.Name
	// bun is the pool as bun sees it, and hooks its query hooks: observe
	// hands them the events bun would.
	bun   *bun.DB
	hooks []bun.QueryHook
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB, bdb *bun.DB, hooks []bun.QueryHook) *stmtCache {
	return &stmtCache{db: db, dialect: bdb.Dialect().Name(), bun: bdb, hooks: hooks}
}

// observe runs the query hooks around run, which calls a prepared
// statement of query with args (and scans what it answers), as bun runs
// them around a raw query: BeforeQuery in order, AfterQuery in reverse,
// with the event's Err and Result set. Without hooks it only calls run.
func (p *stmtCache) observe(ctx context.Context, query string, args []any, run func(ctx context.Context) (sql.Result, error)) error {
	if len(p.hooks) == 0 {
		_, err := run(ctx)
		return err
	}
	text := query
	if p.dialect == dialect.PG {
		text = dollarPlaceholders(query)
	}
	e := &bun.QueryEvent{DB: p.bun, Query: text, QueryTemplate: query, QueryArgs: args, StartTime: time.Now()}
	for _, h := range p.hooks {
		ctx = h.BeforeQuery(ctx, e)
	}
	e.Result, e.Err = run(ctx)
	for i := len(p.hooks) - 1; i >= 0; i-- {
		p.hooks[i].AfterQuery(ctx, e)
	}
	return e.Err
}

// stmt returns the statement for query (written with ? placeholders),
// preparing it on first use; nil when it cannot be prepared (the schema is
// not migrated yet) or p is nil (see handle), so that the caller takes
// bun's path.
func (p *stmtCache) stmt(ctx context.Context, query string) *sql.Stmt {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.stmts[query]; ok {
		return st
	}
	text := query
	if p.dialect == dialect.PG {
		text = dollarPlaceholders(query)
	}
	st, err := p.db.PrepareContext(ctx, text)
	if err != nil {
		return nil
	}
	if p.stmts == nil {
		p.stmts = map[string]*sql.Stmt{}
	}
	p.stmts[query] = st
	return st
}

func (p *stmtCache) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.stmts {
		st.Close()
	}
	p.stmts = nil
}

// dollarPlaceholders numbers the ? of query as PostgreSQL's $1, $2, ...
// (the queries above have no ? inside literals).
func dollarPlaceholders(query string) string {
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// timeArg is t as an argument the dialect compares correctly with what bun
// wrote: bun writes microseconds, truncated, and SQLite keeps times as
// text, so it gets bun's own text form.
func (h *handle) timeArg(t time.Time) any {
	if h.dialect != dialect.SQLite {
		return t.Truncate(time.Microsecond)
	}
	b := h.reader.Dialect().AppendTime(nil, t)
	return string(b[1 : len(b)-1]) // drop the quotes
}
