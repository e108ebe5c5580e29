package bunstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/migrate"

	"github.com/keel-dev/keel"
)

// The migrations, one set per dialect. Each file runs in a transaction
// (the .tx. in its name): a failed migration leaves nothing half done.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// The bun/migrate bookkeeping tables.
const (
	migrationsTable     = "keel_migrations"
	migrationLocksTable = "keel_migration_locks"
)

// Migration is one schema migration and whether it is applied.
type Migration struct {
	Name       string    // the version, e.g. "20250601000001"
	Comment    string    // what it does, e.g. "init"
	GroupID    int64     // the group it was applied in; 0 when not applied
	MigratedAt time.Time // when it was applied; zero when not applied
	// Drops is what rolling the migration back destroys, as its down SQL
	// says: "table users", "column items.note", "rows of users". Empty
	// when the rollback loses no data. Only RollbackPlan fills it in.
	Drops []string
}

// Applied reports whether the migration is applied.
func (m Migration) Applied() bool { return m.GroupID != 0 }

func (m Migration) String() string { return m.Name + "_" + m.Comment }

// Migrate applies every migration not applied yet, as one group, and
// returns them (none when the schema is up to date: migrating twice is a
// no-op). Each migration runs in a transaction and is recorded only when it
// committed.
//
// Concurrent calls, from any number of processes, apply each migration
// once. On PostgreSQL they take a session advisory lock keyed by the
// current schema, which the server releases if the process dies; a Store
// from Open migrates through a pool of its own (two connections, the
// lock's and the migrations') without the read timeout, so a long migration
// does not time out. SQLite has no advisory locks: Migrate takes
// bun/migrate's lock row, waiting while another process holds it; a
// process killed while migrating leaves the row behind, and
// DELETE FROM keel_migration_locks frees it.
func (s *Store) Migrate(ctx context.Context) ([]Migration, error) {
	var group *migrate.MigrationGroup
	err := s.withMigrator(ctx, func(m *migrate.Migrator) (err error) {
		group, err = m.Migrate(ctx)
		return err
	})
	if err != nil {
		return nil, storeError("migrate", err, "", "")
	}
	return migrations(group.Migrations), nil
}

// Rollback rolls back the last group of migrations and returns them (none
// when nothing is applied).
func (s *Store) Rollback(ctx context.Context) ([]Migration, error) {
	var group *migrate.MigrationGroup
	err := s.withMigrator(ctx, func(m *migrate.Migrator) (err error) {
		group, err = m.Rollback(ctx)
		return err
	})
	if err != nil {
		return nil, storeError("rollback", err, "", "")
	}
	return migrations(group.Migrations), nil
}

// RollbackPlan returns what Rollback would roll back now: the last group's
// migrations in the order it rolls them back (newest first), each with
// Drops. It is empty when nothing is applied. Roll the plan back with
// RollbackPlanned, so that what is rolled back is what was shown.
func (s *Store) RollbackPlan(ctx context.Context) ([]Migration, error) {
	var plan []Migration
	err := s.withMigrator(ctx, func(m *migrate.Migrator) (err error) {
		plan, err = s.rollbackPlan(ctx, m)
		return err
	})
	if err != nil {
		return nil, storeError("rollback plan", err, "", "")
	}
	return plan, nil
}

// RollbackPlanned rolls back plan, from RollbackPlan, and returns the
// migrations rolled back in the order it rolled them back. Holding the
// migration lock, it first checks that the last group is still plan: when
// another process migrated or rolled back in between, it rolls back
// nothing and returns a Conflict error.
func (s *Store) RollbackPlanned(ctx context.Context, plan []Migration) ([]Migration, error) {
	var group *migrate.MigrationGroup
	err := s.withMigrator(ctx, func(m *migrate.Migrator) error {
		now, err := s.rollbackPlan(ctx, m)
		if err != nil {
			return err
		}
		if !samePlan(now, plan) {
			return keel.Errorf(keel.Conflict, "the migrations applied changed since the rollback was planned: plan it again")
		}
		group, err = m.Rollback(ctx)
		return err
	})
	if err != nil {
		return nil, storeError("rollback", err, "", "")
	}
	rolled := migrations(group.Migrations)
	slices.Reverse(rolled)
	return rolled, nil
}

// rollbackPlan is the last group, newest first, with what each drops.
func (s *Store) rollbackPlan(ctx context.Context, m *migrate.Migrator) ([]Migration, error) {
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, err
	}
	plan := migrations(ms.LastGroup().Migrations)
	slices.Reverse(plan)
	dir, err := s.migrationFS()
	if err != nil {
		return nil, err
	}
	for i := range plan {
		// The down files of a version: NAME_COMMENT.tx.down.sql, or
		// .down.sql without a transaction.
		names, err := fs.Glob(dir, plan[i].Name+"_*.down.sql")
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			sql, err := fs.ReadFile(dir, name)
			if err != nil {
				return nil, err
			}
			plan[i].Drops = append(plan[i].Drops, drops(string(sql))...)
		}
	}
	return plan, nil
}

// samePlan reports whether two plans roll back the same migrations of the
// same group.
func samePlan(a, b []Migration) bool {
	return slices.EqualFunc(a, b, func(x, y Migration) bool {
		return x.Name == y.Name && x.GroupID == y.GroupID && x.MigratedAt.Equal(y.MigratedAt)
	})
}

// drops lists what the statements of a down migration destroy: tables,
// schemas and columns dropped, rows deleted, truncated or updated. Dropping
// a trigger, function, index, view or constraint loses no data. It reads
// keywords, not full SQL: a statement it does not know is not listed, so
// a down migration that destroys data in another way must say so with a
// statement it knows.
func drops(sql string) []string {
	var out []string
	for _, stmt := range strings.Split(stripSQLComments(sql), ";") {
		w := strings.Fields(stmt)
		up := func(i int) string {
			if i < len(w) {
				return strings.ToUpper(w[i])
			}
			return ""
		}
		// names reads a comma-separated list of names from w[i:], skipping
		// the keywords given, until a word that is not a name.
		names := func(i int, skip ...string) []string {
			var ns []string
			for ; i < len(w); i++ {
				if slices.Contains(skip, up(i)) {
					continue
				}
				for n := range strings.SplitSeq(w[i], ",") {
					if n = strings.Trim(n, `"`+"`"); n != "" {
						ns = append(ns, n)
					}
				}
				if !strings.HasSuffix(w[i], ",") && (i+1 >= len(w) || !strings.HasPrefix(w[i+1], ",")) {
					break
				}
			}
			return ns
		}
		switch {
		case up(0) == "DROP" && (up(1) == "TABLE" || up(1) == "SCHEMA" || up(1) == "DATABASE"):
			for _, n := range names(2, "IF", "EXISTS") {
				out = append(out, strings.ToLower(up(1))+" "+n)
			}
		case up(0) == "TRUNCATE":
			for _, n := range names(1, "TABLE", "ONLY") {
				out = append(out, "rows of "+n)
			}
		case up(0) == "DELETE" && up(1) == "FROM":
			for _, n := range names(2, "ONLY") {
				out = append(out, "rows of "+n)
			}
		case up(0) == "UPDATE":
			for _, n := range names(1, "ONLY") {
				out = append(out, "rows of "+n+" (changed)")
			}
		case up(0) == "ALTER" && up(1) == "TABLE":
			table := names(2, "IF", "EXISTS", "ONLY")
			if len(table) != 1 {
				continue
			}
			for i := 3; i < len(w); i++ {
				if up(i) != "DROP" {
					continue
				}
				switch up(i + 1) {
				case "CONSTRAINT", "DEFAULT", "NOT", "IDENTITY", "EXPRESSION":
					continue
				}
				if col := names(i+1, "COLUMN", "IF", "EXISTS"); len(col) > 0 {
					out = append(out, "column "+table[0]+"."+col[0])
				}
			}
		}
	}
	return out
}

// stripSQLComments removes -- line comments and /* */ block comments
// (bun's --bun:split markers are line comments).
func stripSQLComments(sql string) string {
	var b strings.Builder
	for len(sql) > 0 {
		switch {
		case strings.HasPrefix(sql, "--"):
			end := strings.IndexByte(sql, '\n')
			if end < 0 {
				return b.String()
			}
			sql = sql[end:]
		case strings.HasPrefix(sql, "/*"):
			end := strings.Index(sql, "*/")
			if end < 0 {
				return b.String()
			}
			b.WriteByte(' ')
			sql = sql[end+2:]
		default:
			b.WriteByte(sql[0])
			sql = sql[1:]
		}
	}
	return b.String()
}

// MigrationStatus returns every migration, oldest first, with whether and
// when it was applied.
func (s *Store) MigrationStatus(ctx context.Context) ([]Migration, error) {
	var ms migrate.MigrationSlice
	err := s.withMigrator(ctx, func(m *migrate.Migrator) (err error) {
		ms, err = m.MigrationsWithStatus(ctx)
		return err
	})
	if err != nil {
		return nil, storeError("migration status", err, "", "")
	}
	return migrations(ms), nil
}

func migrations(ms migrate.MigrationSlice) []Migration {
	out := make([]Migration, 0, len(ms))
	for _, m := range ms {
		mig := Migration{Name: m.Name, Comment: m.Comment}
		if m.IsApplied() {
			mig.GroupID = m.GroupID
			mig.MigratedAt = m.MigratedAt.UTC()
		}
		out = append(out, mig)
	}
	return out
}

// withMigrator runs fn with a migrator of the store's dialect, holding the
// migration lock.
func (s *Store) withMigrator(ctx context.Context, fn func(*migrate.Migrator) error) (err error) {
	sub, err := s.migrationFS()
	if err != nil {
		return err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return err
	}
	db, closeDB := s.migrationDB()
	defer func() { err = errors.Join(err, closeDB()) }()
	m := migrate.NewMigrator(db, ms,
		migrate.WithTableName(migrationsTable),
		migrate.WithLocksTableName(migrationLocksTable),
		// Record a migration only once its transaction committed.
		migrate.WithMarkAppliedOnSuccess(true),
	)
	if s.dialect == dialect.PG {
		return withAdvisoryLock(ctx, db, func() error {
			if err := m.Init(ctx); err != nil {
				return err
			}
			return fn(m)
		})
	}
	if err := m.Init(ctx); err != nil {
		return err
	}
	if err := lockMigrator(ctx, m); err != nil {
		return err
	}
	defer func() {
		// Unlock even when ctx is done, so the lock does not outlive us.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = errors.Join(err, m.Unlock(ctx))
	}()
	return fn(m)
}

// migrationFS holds the migrations of the store's dialect.
func (s *Store) migrationFS() (fs.FS, error) {
	dir := "migrations/sqlite"
	if s.dialect == dialect.PG {
		dir = "migrations/postgres"
	}
	return fs.Sub(migrationFiles, dir)
}

// migrationDB returns the database migrations run on, and how to close it:
// for a PostgreSQL Store from Open, a pool of two connections (the lock's
// and the migrations') without pgdriver's 10-second read timeout.
func (s *Store) migrationDB() (*bun.DB, func() error) {
	if s.pgDSN == "" {
		return s.writeDB, func() error { return nil }
	}
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(s.pgDSN), pgdriver.WithReadTimeout(0)))
	sqldb.SetMaxOpenConns(2)
	db := bun.NewDB(sqldb, pgdialect.New())
	for _, h := range s.hooks {
		db = db.WithQueryHook(h)
	}
	return db, db.Close
}

// withAdvisoryLock runs fn holding a PostgreSQL session advisory lock, held
// on a connection of its own, whose key is the hash of the schema the
// migrations go to: migrations of one schema wait for each other, other
// schemas' do not. PostgreSQL releases the lock if the process dies. It
// polls pg_try_advisory_lock, so waiting never blocks a connection and
// ends when ctx does.
func withAdvisoryLock(ctx context.Context, db *bun.DB, fn func() error) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var schema string
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(current_schema(), '')").Scan(&schema); err != nil {
		return err
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "keel migrations in schema %q", schema)
	key := int64(h.Sum64())
	err = retry(ctx, func() (bool, error) {
		var locked bool
		err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", key).Scan(&locked)
		return locked, err
	})
	if err != nil {
		return fmt.Errorf("waiting for the migration lock (advisory lock %d): %w", key, err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.ExecContext(ctx, "SELECT pg_advisory_unlock(?)", key); uerr != nil {
			// Closing the connection ends the session and with it the lock.
			err = errors.Join(err, uerr)
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn()
}

// lockMigrator takes bun/migrate's lock (a row in keel_migration_locks),
// waiting while another migrator holds it. Used for SQLite, which has no
// advisory locks; a process killed while migrating leaves the row behind,
// and then `DELETE FROM keel_migration_locks` (after checking that no
// migration runs) frees it.
func lockMigrator(ctx context.Context, m *migrate.Migrator) error {
	err := retry(ctx, func() (bool, error) {
		err := m.Lock(ctx)
		if err != nil && classify(err) == keel.Conflict {
			return false, nil // another migrator holds it
		}
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("waiting for the migration lock (a row in %s): %w", migrationLocksTable, err)
	}
	return nil
}

// retry calls try, backing off from 10ms to 500ms between calls, until it
// succeeds, fails or ctx ends.
func retry(ctx context.Context, try func() (bool, error)) error {
	wait := 10 * time.Millisecond
	for {
		ok, err := try()
		if err != nil || ok {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}
