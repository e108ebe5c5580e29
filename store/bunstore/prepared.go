package bunstore

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// The queries every authenticated request runs (FindSession, FindAPIToken)
// and the commonest reads (Item, a page of one owner's items) and write
// (CreateItem) go through prepared statements, on the pool that runs them:
// bun writes its arguments into the SQL text, so each call otherwise makes
// the database parse and plan the query again (PostgreSQL) or compile it
// again (SQLite, where that was a fifth of a request's CPU). Every
// connection of the pool prepares them for itself (stmtconn.go).
//
// The prepared path is taken only by a Store that Open made, outside a
// transaction (see handle.readStmts). The Store's query hooks
// (WithQueryHook) see its queries too: hotPool.observe runs them around
// each call as bun runs them around its own queries. Both paths pass the
// conformance suite (TestStore).

// hotQuery names a prepared query.
type hotQuery int

const (
	qFindSession hotQuery = iota
	// qFindSessionItem is qFindSession with one item, of any owner, in
	// the same round trip: the item's columns are NULL when there is none.
	qFindSessionItem
	qFindAPIToken
	qItem
	// qOwnerItems is a page of one owner's items with their total count in
	// the same round trip: the count is a scalar subquery, run once, that
	// sums the owner's rows of item_counts (see itemCount).
	qOwnerItems
	// qOwnerItemsAfter is qOwnerItems after a cursor: the row comparison
	// is a range of the (owner_id, created_at DESC, id DESC) index, so the
	// page costs the same at any depth.
	qOwnerItemsAfter
	qCreateItem
	numHotQueries
)

// hotTemplates are the prepared queries with ? placeholders. {column}
// selects a time column: as microseconds since 1970 on PostgreSQL, as text
// on SQLite (see scanTime).
var hotTemplates = [numHotQueries]string{
	qFindSession: `SELECT ` + sessionColumns + `,
 ` + userColumns + `
 FROM sessions AS s JOIN users AS u ON u.id = s.user_id
 WHERE s.token_hash = ? AND s.expiry > ?`,
	qFindSessionItem: `SELECT ` + sessionColumns + `,
 ` + userColumns + `,
 ` + itemColumns + `
 FROM sessions AS s JOIN users AS u ON u.id = s.user_id LEFT JOIN items AS i ON i.id = ?
 WHERE s.token_hash = ? AND s.expiry > ?`,
	qFindAPIToken: `SELECT t.id, t.user_id, t.name, t.scope, t.token_hash, {t.created_at}, {t.last_used_at}, {t.expires_at},
 ` + userColumns + `
 FROM api_tokens AS t JOIN users AS u ON u.id = t.user_id
 WHERE t.token_hash = ? AND t.expires_at > ?`,
	qItem: `SELECT ` + itemColumns + ` FROM items AS i WHERE i.id = ?`,
	qOwnerItems: `SELECT ` + itemColumns + `,
 (SELECT CAST(coalesce(sum(c.n), 0) AS bigint) FROM item_counts AS c WHERE c.owner_id = ?) AS total
 FROM items AS i WHERE i.owner_id = ? ORDER BY i.created_at DESC, i.id DESC LIMIT ? OFFSET ?`,
	qOwnerItemsAfter: `SELECT ` + itemColumns + `,
 (SELECT CAST(coalesce(sum(c.n), 0) AS bigint) FROM item_counts AS c WHERE c.owner_id = ?) AS total
 FROM items AS i WHERE i.owner_id = ? AND (i.created_at, i.id) < (?, ?) ORDER BY i.created_at DESC, i.id DESC LIMIT ? OFFSET ?`,
	qCreateItem: `INSERT INTO items (id, title, description, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
}

// The columns of a session, a user and an item, in the order their scan
// targets list them (newSessionScan, newItemScan).
const (
	sessionColumns = `s.token_hash, s.id, s.user_id, s.data, {s.expiry}, {s.created_at}, {s.last_used_at}, s.client_addr, s.user_agent`
	userColumns    = `u.id, u.email, u.full_name, u.is_active, u.is_superuser, u.is_verified, u.password_hash, {u.password_changed_at}, {u.created_at}, {u.updated_at}`
	itemColumns    = `i.id, i.title, i.description, i.owner_id, {i.created_at}, {i.updated_at}`
)

// On PostgreSQL, CreateItem and DeleteItem count the item in the same
// statement that writes it (see the item_counts_by_keel migration),
// instead of a trigger doing it in a second one.
const (
	// sqlCreateItemCounted inserts an item and adds it to its owner's
	// count, on the shard row of the connection (the backend pid modulo
	// 16, as the item_counts migration describes).
	sqlCreateItemCounted = `WITH i AS (INSERT INTO items (id, title, description, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING owner_id)
 INSERT INTO item_counts AS c (owner_id, shard, n) SELECT i.owner_id, pg_backend_pid() % 16, 1 FROM i
 ON CONFLICT (owner_id, shard) DO UPDATE SET n = c.n + 1`
	// sqlDeleteItemCounted deletes an item and takes it from its owner's
	// count; it affects one row of item_counts per item deleted. A shard
	// row may go below zero: the sum of the owner's rows is the count.
	sqlDeleteItemCounted = `WITH d AS (DELETE FROM items WHERE id = ? RETURNING owner_id)
 INSERT INTO item_counts AS c (owner_id, shard, n) SELECT d.owner_id, pg_backend_pid() % 16, -1 FROM d
 ON CONFLICT (owner_id, shard) DO UPDATE SET n = c.n - 1`
)

// pgHotTemplates replace hotTemplates on PostgreSQL.
var pgHotTemplates = map[hotQuery]string{qCreateItem: sqlCreateItemCounted}

// hotSQL is the prepared queries of a dialect: templates (with ?
// placeholders, what the query hooks see as QueryTemplate) and texts (what
// is sent).
type hotSQL struct {
	templates, texts [numHotQueries]string
}

var (
	timeColumn = regexp.MustCompile(`\{([a-z_.]+)\}`)
	hotSQLs    = map[dialect.Name]*hotSQL{dialect.PG: newHotSQL(dialect.PG), dialect.SQLite: newHotSQL(dialect.SQLite)}
)

func newHotSQL(d dialect.Name) *hotSQL {
	s := &hotSQL{}
	for q, tmpl := range hotTemplates {
		if t, ok := pgHotTemplates[hotQuery(q)]; ok && d == dialect.PG {
			tmpl = t
		}
		switch d {
		case dialect.SQLite:
			s.templates[q] = timeColumn.ReplaceAllString(tmpl, "CAST($1 AS TEXT)")
			s.texts[q] = s.templates[q]
		default:
			s.templates[q] = timeColumn.ReplaceAllString(tmpl, "CAST(EXTRACT(EPOCH FROM $1) * 1000000 AS bigint)")
			s.texts[q] = dollarPlaceholders(s.templates[q])
		}
	}
	return s
}

// hotPool runs the prepared queries on one pool, whose connector is a
// stmtConnector of the same queries.
type hotPool struct {
	db  *sql.DB
	sql *hotSQL
	// bun is the pool as bun sees it, and hooks its query hooks: observe
	// hands them the events bun would.
	bun   *bun.DB
	hooks []bun.QueryHook
	conns *stmtConnector
}

func newHotPool(db *sql.DB, conns *stmtConnector, bdb *bun.DB, hooks []bun.QueryHook) *hotPool {
	return &hotPool{db: db, sql: hotSQLs[bdb.Dialect().Name()], bun: bdb, hooks: hooks, conns: conns}
}

// observe runs the query hooks around run, which runs q with args (and
// scans what it answers), as bun runs them around a raw query:
// BeforeQuery in order, AfterQuery in reverse, with the event's Err and
// Result set. Without hooks it only calls run.
func (p *hotPool) observe(ctx context.Context, q hotQuery, args []any, run func(ctx context.Context) (sql.Result, error)) error {
	if len(p.hooks) == 0 {
		_, err := run(ctx)
		return err
	}
	e := &bun.QueryEvent{DB: p.bun, Query: p.sql.texts[q], QueryTemplate: p.sql.templates[q], QueryArgs: args, StartTime: time.Now()}
	for _, h := range p.hooks {
		ctx = h.BeforeQuery(ctx, e)
	}
	e.Result, e.Err = run(ctx)
	for i := len(p.hooks) - 1; i >= 0; i-- {
		p.hooks[i].AfterQuery(ctx, e)
	}
	return e.Err
}

// queryRow runs q, a query of one row, with args and scans the row into
// dest; sql.ErrNoRows when there is none.
func (p *hotPool) queryRow(ctx context.Context, q hotQuery, args, dest []any) error {
	return p.observe(ctx, q, args, func(ctx context.Context) (sql.Result, error) {
		return nil, p.db.QueryRowContext(ctx, p.sql.texts[q], args...).Scan(dest...)
	})
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

// scanTime scans a time column of a prepared query: microseconds since
// 1970 from PostgreSQL (pgdriver parses a timestamp's text with
// time.Parse, 3.6% of a W2 request's CPU with 40 times a page; the
// database writes the number for about what its text costs it), the
// text bun wrote from SQLite. modernc.org/sqlite parses
// the text of a column declared TIMESTAMP itself, trying one layout after
// another, which was a fifth of the CPU of FindSession and Item on
// SQLite; the queries select the column as text instead, and parseTime
// reads bun's layout directly. NULL scans as the zero time.
type scanTime time.Time

func (t *scanTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = scanTime{}
	case int64:
		*t = scanTime(time.UnixMicro(v).UTC())
	case time.Time:
		*t = scanTime(v)
	case string:
		tm, err := parseTime(v)
		if err != nil {
			return err
		}
		*t = scanTime(tm)
	case []byte:
		tm, err := parseTime(string(v))
		if err != nil {
			return err
		}
		*t = scanTime(tm)
	default:
		return fmt.Errorf("bunstore: cannot scan %T as a time", src)
	}
	return nil
}

// scanUUID scans a UUID column of a prepared query: pgdriver hands the
// text as []byte, which uuid.UUID's Scan copies into a string to parse
// (12% of the bytes a W2 request allocated); this parses the bytes as
// they are. NULL leaves it as it was, as uuid.UUID's Scan does.
type scanUUID uuid.UUID

func (u *scanUUID) Scan(src any) error {
	if b, ok := src.([]byte); ok && len(b) == 36 {
		id, err := uuid.ParseBytes(b)
		if err != nil {
			return fmt.Errorf("bunstore: scanning a UUID: %w", err)
		}
		*u = scanUUID(id)
		return nil
	}
	return (*uuid.UUID)(u).Scan(src)
}

// sqliteTimeLayouts are the layouts modernc.org/sqlite tries, for text
// that bun did not write.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTime parses the text SQLite keeps for a time: bun's layout,
// "2006-01-02 15:04:05.999999-07:00" in UTC, without time.Parse, or else
// any of the layouts modernc.org/sqlite reads. The time is in UTC.
func parseTime(s string) (time.Time, error) {
	if t, ok := parseBunTime(s); ok {
		return t, nil
	}
	ts := strings.TrimSuffix(s, "Z")
	for _, layout := range sqliteTimeLayouts {
		if t, err := time.Parse(layout, ts); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bunstore: cannot parse %q as a time", s)
}

// parseBunTime parses "2006-01-02 15:04:05[.ffffff]+00:00", the layout
// bun writes for a UTC time; ok is false for anything else.
func parseBunTime(s string) (t time.Time, ok bool) {
	if len(s) < len("2006-01-02 15:04:05+00:00") || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && n <= 9 && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return time.Time{}, false
		}
		frac, _ := digits(rest[1:n])
		for range 10 - n {
			frac *= 10
		}
		nsec, rest = frac, rest[n:]
	}
	if rest != "+00:00" || month < 1 || month > 12 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // a day the month does not have
	}
	return t, true
}

// digits is the decimal number s, of ASCII digits only.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// The scan targets of the prepared reads, pooled so that a call allocates
// neither the rows nor the []any of pointers into them that Scan takes:
// what a call returns is copied out of the rows (Scan gives []byte and
// *string destinations fresh memory every time), so the next call may
// scan into them again.
var (
	sessionScans     = sync.Pool{New: func() any { return newSessionScan() }}
	sessionItemScans = sync.Pool{New: func() any { return newSessionItemScan() }}
	apiTokenScans    = sync.Pool{New: func() any { return newAPITokenScan() }}
	itemScans        = sync.Pool{New: func() any { return newItemScan() }}
)

// sessionScan is a row of qFindSession.
type sessionScan struct {
	row  sessionRow
	user userRow
	dest [19]any
}

func newSessionScan() *sessionScan {
	sc := &sessionScan{}
	sc.dest = sessionTargets(&sc.row, &sc.user)
	return sc
}

// sessionTargets are the scan targets of sessionColumns and userColumns.
func sessionTargets(r *sessionRow, u *userRow) [19]any {
	return [...]any{
		&r.TokenHash, (*scanUUID)(&r.ID), (*scanUUID)(&r.UserID), &r.Data, (*scanTime)(&r.Expiry), (*scanTime)(&r.CreatedAt), (*scanTime)(&r.LastUsedAt), &r.ClientAddr, &r.UserAgent,
		(*scanUUID)(&u.ID), &u.Email, &u.FullName, &u.IsActive, &u.IsSuperuser, &u.IsVerified, &u.PasswordHash, (*scanTime)(&u.PasswordChangedAt), (*scanTime)(&u.CreatedAt), (*scanTime)(&u.UpdatedAt),
	}
}

// sessionItemScan is a row of qFindSessionItem: a session's targets, then
// an item's, whose title is nullable (the LEFT JOIN) and whose ID is
// reset before each scan (uuid.UUID stays as it was on NULL).
type sessionItemScan struct {
	row   sessionRow
	user  userRow
	item  itemRow
	title sql.NullString
	dest  [25]any
}

func newSessionItemScan() *sessionItemScan {
	sc := &sessionItemScan{}
	st := sessionTargets(&sc.row, &sc.user)
	it := &sc.item
	copy(sc.dest[:], st[:])
	copy(sc.dest[len(st):], []any{(*scanUUID)(&it.ID), &sc.title, &it.Description, (*scanUUID)(&it.OwnerID), (*scanTime)(&it.CreatedAt), (*scanTime)(&it.UpdatedAt)})
	return sc
}

// apiTokenScan is a row of qFindAPIToken.
type apiTokenScan struct {
	row  apiTokenRow
	user userRow
	dest [18]any
}

func newAPITokenScan() *apiTokenScan {
	sc := &apiTokenScan{}
	r, u := &sc.row, &sc.user
	sc.dest = [...]any{
		(*scanUUID)(&r.ID), (*scanUUID)(&r.UserID), &r.Name, &r.Scope, &r.TokenHash, (*scanTime)(&r.CreatedAt), (*scanTime)(&r.LastUsedAt), (*scanTime)(&r.ExpiresAt),
		(*scanUUID)(&u.ID), &u.Email, &u.FullName, &u.IsActive, &u.IsSuperuser, &u.IsVerified, &u.PasswordHash, (*scanTime)(&u.PasswordChangedAt), (*scanTime)(&u.CreatedAt), (*scanTime)(&u.UpdatedAt),
	}
	return sc
}

// itemScan is a row of qItem (dest[:6]) or of qOwnerItems and
// qOwnerItemsAfter (dest, with the total).
type itemScan struct {
	row   itemRow
	total int64
	dest  [7]any
}

func newItemScan() *itemScan {
	sc := &itemScan{}
	r := &sc.row
	sc.dest = [...]any{(*scanUUID)(&r.ID), &r.Title, &r.Description, (*scanUUID)(&r.OwnerID), (*scanTime)(&r.CreatedAt), (*scanTime)(&r.UpdatedAt), &sc.total}
	return sc
}
