package bunstore_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/storetest"
)

// openUnmigrated opens a store on rawURL without migrating it.
func openUnmigrated(t *testing.T, rawURL string) *bunstore.Store {
	t.Helper()
	s, err := bunstore.Open(t.Context(), rawURL)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func wantApplied(t *testing.T, s *bunstore.Store, want bool) {
	t.Helper()
	status, err := s.MigrationStatus(t.Context())
	if err != nil {
		t.Fatalf("MigrationStatus: %v", err)
	}
	if len(status) == 0 {
		t.Fatal("MigrationStatus lists no migrations")
	}
	for _, m := range status {
		if m.Applied() != want {
			t.Errorf("migration %s: applied = %v, want %v", m, m.Applied(), want)
		}
	}
}

// wantWorks fails t unless the schema takes a user and items, and counts
// them.
func wantWorks(t *testing.T, s *bunstore.Store) {
	t.Helper()
	u := storetest.NewUser()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser after migrating: %v", err)
	}
	for range 3 {
		if err := s.CreateItem(t.Context(), storetest.NewItem(u.ID)); err != nil {
			t.Fatalf("CreateItem after migrating: %v", err)
		}
	}
	wantItemCount(t, s, u.ID, 3)
}

// wantItemCount fails t unless ListItems counts n items of the owner on a
// page that cannot tell the total by itself.
func wantItemCount(t *testing.T, s *bunstore.Store, owner uuid.UUID, n int) {
	t.Helper()
	_, total, err := s.ListItems(t.Context(), keel.ItemFilter{OwnerID: owner}, keel.Page{Limit: 1})
	if err != nil {
		t.Fatalf("ListItems after migrating: %v", err)
	}
	if total != n {
		t.Errorf("ListItems after migrating: count = %d, want %d", total, n)
	}
}

// undoItemCounts takes a migrated schema back to the one before the
// item_counts migration, per dialect, and itemCountsMigrations are the
// migrations it undoes: the test of the backfill applies them again to a
// schema with items.
var (
	undoItemCounts = map[string][]string{
		"SQLite file": {"DROP TRIGGER items_count_move", "DROP TRIGGER items_count_delete", "DROP TRIGGER items_count_insert", "DROP TABLE item_counts"},
		"PostgreSQL":  {"DROP TRIGGER items_count_move ON items", "DROP FUNCTION item_counts_move()", "DROP TABLE item_counts"},
	}
	itemCountsMigrations = map[string][]string{
		"SQLite file": {itemCountsMigration},
		"PostgreSQL":  {itemCountsMigration, itemCountsByKeelMigration},
	}
)

const (
	itemCountsMigration       = "20251125000001"
	itemCountsByKeelMigration = "20261127180000" // PostgreSQL only
)

// undoToItemCounts undoes the migrations after item_counts that it names.
func undoToItemCounts(t *testing.T, s *bunstore.Store, dialect string) {
	t.Helper()
	for _, q := range undoItemCounts[dialect] {
		if _, err := s.DB().ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, m := range itemCountsMigrations[dialect] {
		if _, err := s.DB().ExecContext(t.Context(), "DELETE FROM keel_migrations WHERE name = ?", m); err != nil {
			t.Fatal(err)
		}
	}
}

// insertItemsBypassingKeel inserts n items of the owner with SQL, as a
// host's bulk load would, in one statement.
func insertItemsBypassingKeel(t *testing.T, s *bunstore.Store, owner uuid.UUID, n int) {
	t.Helper()
	for range n {
		it := storetest.NewItem(owner)
		_, err := s.DB().ExecContext(t.Context(), "INSERT INTO items (id, title, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			it.ID, it.Title, it.OwnerID, it.CreatedAt, it.UpdatedAt)
		if err != nil {
			t.Fatalf("inserting an item with SQL: %v", err)
		}
	}
}

// undoSessionMetadata takes the sessions table back to the shape before the
// session metadata migration, per dialect.
var undoSessionMetadata = map[string][]string{
	"SQLite file": {
		"CREATE TABLE sessions_old (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE, data BLOB NOT NULL, expiry TIMESTAMP NOT NULL)",
		"DROP TABLE sessions",
		"ALTER TABLE sessions_old RENAME TO sessions",
		"CREATE INDEX sessions_user_id_idx ON sessions (user_id)",
		"CREATE INDEX sessions_expiry_idx ON sessions (expiry)",
	},
	"PostgreSQL": {
		"DROP INDEX sessions_id_key",
		"ALTER TABLE sessions DROP COLUMN id, DROP COLUMN created_at, DROP COLUMN last_used_at, DROP COLUMN client_addr, DROP COLUMN user_agent",
	},
}

const sessionMetadataMigration = "20261127100000"

func TestMigrations(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			d.available(t)
			t.Run("a fresh database has every migration pending", func(t *testing.T) {
				s := openUnmigrated(t, d.url(t))
				wantApplied(t, s, false)
			})

			t.Run("up, down and up again leave a working schema", func(t *testing.T) {
				s := openUnmigrated(t, d.url(t))
				applied, err := s.Migrate(t.Context())
				if err != nil {
					t.Fatalf("Migrate: %v", err)
				}
				if len(applied) == 0 {
					t.Fatal("Migrate applied nothing on a fresh database")
				}
				wantApplied(t, s, true)
				wantWorks(t, s)

				rolledBack, err := s.Rollback(t.Context())
				if err != nil {
					t.Fatalf("Rollback: %v", err)
				}
				if len(rolledBack) != len(applied) {
					t.Errorf("Rollback rolled back %d migrations, want the %d of the group", len(rolledBack), len(applied))
				}
				wantApplied(t, s, false)
				_, err = s.User(t.Context(), storetest.NewID())
				if keel.ErrorCode(err) != keel.Internal {
					t.Errorf("User after Rollback: err = %v, want Internal (no users table)", err)
				}

				if _, err := s.Migrate(t.Context()); err != nil {
					t.Fatalf("Migrate after Rollback: %v", err)
				}
				wantApplied(t, s, true)
				wantWorks(t, s)
			})

			t.Run("the item_counts migration counts the items that were there before it", func(t *testing.T) {
				s := openUnmigrated(t, d.url(t))
				if _, err := s.Migrate(t.Context()); err != nil {
					t.Fatalf("Migrate: %v", err)
				}
				// Back to the schema before item_counts, with items in it.
				undoToItemCounts(t, s, d.name)
				counts := map[uuid.UUID]int{}
				for _, n := range []int{0, 1, 5} {
					u := storetest.NewUser()
					if err := s.CreateUser(t.Context(), u); err != nil {
						t.Fatal(err)
					}
					insertItemsBypassingKeel(t, s, u.ID, n)
					counts[u.ID] = n
				}
				applied, err := s.Migrate(t.Context())
				if err != nil {
					t.Fatalf("Migrate: %v", err)
				}
				var names []string
				for _, m := range applied {
					names = append(names, m.Name)
				}
				if !slices.Equal(names, itemCountsMigrations[d.name]) {
					t.Fatalf("Migrate applied %v, want %v", names, itemCountsMigrations[d.name])
				}
				for owner, n := range counts {
					wantItemCount(t, s, owner, n)
				}
				wantWorks(t, s)
			})

			t.Run("the session metadata migration keeps the sessions that were there before it", func(t *testing.T) {
				s := openUnmigrated(t, d.url(t))
				if _, err := s.Migrate(t.Context()); err != nil {
					t.Fatalf("Migrate: %v", err)
				}
				// Back to the schema before session metadata, with sessions in it.
				for _, q := range undoSessionMetadata[d.name] {
					if _, err := s.DB().ExecContext(t.Context(), q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				if _, err := s.DB().ExecContext(t.Context(), "DELETE FROM keel_migrations WHERE name = ?", sessionMetadataMigration); err != nil {
					t.Fatal(err)
				}
				u := storetest.NewUser()
				if err := s.CreateUser(t.Context(), u); err != nil {
					t.Fatal(err)
				}
				now := storetest.Now()
				var old []*keel.SessionRecord
				for range 3 {
					sess := storetest.NewSession(u.ID, now.Add(time.Hour))
					_, err := s.DB().ExecContext(t.Context(), "INSERT INTO sessions (token_hash, user_id, data, expiry) VALUES (?, ?, ?, ?)",
						sess.TokenHash, sess.UserID, sess.Data, sess.Expiry)
					if err != nil {
						t.Fatalf("inserting a session of the old schema: %v", err)
					}
					old = append(old, sess)
				}
				applied, err := s.Migrate(t.Context())
				if err != nil {
					t.Fatalf("Migrate: %v", err)
				}
				if len(applied) != 1 || applied[0].Name != sessionMetadataMigration {
					t.Fatalf("Migrate applied %v, want only %s", applied, sessionMetadataMigration)
				}
				listed, err := s.ListUserSessions(t.Context(), u.ID, now)
				if err != nil {
					t.Fatalf("ListUserSessions: %v", err)
				}
				if len(listed) != len(old) {
					t.Fatalf("ListUserSessions = %d sessions, want %d", len(listed), len(old))
				}
				ids := map[uuid.UUID]bool{}
				for _, sess := range old {
					got, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
					if err != nil {
						t.Fatalf("FindSession of a session from before the migration: %v", err)
					}
					if got.ID == uuid.Nil || ids[got.ID] {
						t.Errorf("the migrated session's ID %s is nil or not unique", got.ID)
					}
					ids[got.ID] = true
					if !got.Expiry.Equal(sess.Expiry) || string(got.Data) != string(sess.Data) {
						t.Errorf("the migrated session = %v, %q; want %v, %q", got.Expiry, got.Data, sess.Expiry, sess.Data)
					}
					if got.CreatedAt.IsZero() || !got.LastUsedAt.Equal(got.CreatedAt) || got.CreatedAt.Location() != time.UTC {
						t.Errorf("the migrated session's times = %v, %v; want the migration's time, in UTC", got.CreatedAt, got.LastUsedAt)
					}
					if err := s.DeleteUserSession(t.Context(), u.ID, got.ID); err != nil {
						t.Errorf("DeleteUserSession by the migrated ID: %v", err)
					}
				}
				// The rebuilt table still cascades and still refuses duplicates.
				sess := storetest.NewSession(u.ID, now.Add(time.Hour))
				if err := s.CreateSession(t.Context(), sess); err != nil {
					t.Fatal(err)
				}
				dup := storetest.NewSession(u.ID, now.Add(time.Hour))
				dup.ID = sess.ID
				if err := s.CreateSession(t.Context(), dup); keel.ErrorCode(err) != keel.Conflict {
					t.Errorf("CreateSession with a taken ID: err = %v, want Conflict", err)
				}
				if err := s.DeleteUser(t.Context(), u.ID); err != nil {
					t.Fatal(err)
				}
				if _, _, err := s.FindSession(t.Context(), sess.TokenHash, now); keel.ErrorCode(err) != keel.NotFound {
					t.Errorf("FindSession after DeleteUser: err = %v, want NotFound", err)
				}
			})

			t.Run("migrating twice is a no-op", func(t *testing.T) {
				s := openUnmigrated(t, d.url(t))
				if _, err := s.Migrate(t.Context()); err != nil {
					t.Fatalf("Migrate: %v", err)
				}
				u := storetest.NewUser()
				if err := s.CreateUser(t.Context(), u); err != nil {
					t.Fatal(err)
				}
				applied, err := s.Migrate(t.Context())
				if err != nil {
					t.Fatalf("second Migrate: %v", err)
				}
				if len(applied) != 0 {
					t.Errorf("second Migrate applied %v, want nothing", applied)
				}
				if _, err := s.User(t.Context(), u.ID); err != nil {
					t.Errorf("User after the second Migrate: %v", err)
				}
			})

			t.Run("rolling back with nothing applied does nothing", func(t *testing.T) {
				s := openUnmigrated(t, d.url(t))
				rolledBack, err := s.Rollback(t.Context())
				if err != nil {
					t.Fatalf("Rollback: %v", err)
				}
				if len(rolledBack) != 0 {
					t.Errorf("Rollback rolled back %v, want nothing", rolledBack)
				}
			})

			t.Run("concurrent migrations of one database apply each migration once", func(t *testing.T) {
				url := d.url(t)
				// Separate stores: separate pools, as separate processes have.
				const n = 4
				stores := make([]*bunstore.Store, n)
				for i := range stores {
					stores[i] = openUnmigrated(t, url)
				}
				applied := make([][]bunstore.Migration, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i, s := range stores {
					wg.Go(func() { applied[i], errs[i] = s.Migrate(t.Context()) })
				}
				wg.Wait()
				total := 0
				for i, err := range errs {
					if err != nil {
						t.Errorf("Migrate %d: %v", i, err)
					}
					total += len(applied[i])
				}
				status, err := stores[0].MigrationStatus(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				if total != len(status) {
					t.Errorf("the concurrent Migrate calls applied %d migrations in all, want each of the %d once", total, len(status))
				}
				var rows int
				if err := stores[0].DB().NewRaw("SELECT count(*) FROM keel_migrations").Scan(t.Context(), &rows); err != nil {
					t.Fatal(err)
				}
				if rows != len(status) {
					t.Errorf("keel_migrations has %d rows, want %d", rows, len(status))
				}
				wantApplied(t, stores[0], true)
				wantWorks(t, stores[n-1])
			})
		})
	}
}

func TestRollbackPlan(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			d.available(t)
			t.Run("with nothing applied the plan is empty", func(t *testing.T) {
				s := openUnmigrated(t, d.url(t))
				plan, err := s.RollbackPlan(t.Context())
				if err != nil || len(plan) != 0 {
					t.Errorf("RollbackPlan = %v, %v; want nothing", plan, err)
				}
			})

			t.Run("the plan lists the last group newest first with what each drops, and is what is rolled back", func(t *testing.T) {
				s := openUnmigrated(t, d.url(t))
				if _, err := s.Migrate(t.Context()); err != nil {
					t.Fatal(err)
				}
				plan, err := s.RollbackPlan(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, m := range plan {
					names = append(names, m.String())
				}
				type step struct {
					name  string
					drops []string
				}
				var want []step
				if d.name == "PostgreSQL" {
					want = append(want, step{itemCountsByKeelMigration + "_item_counts_by_keel", nil})
				}
				want = append(want, []step{
					{"20261127150002_auth_flows", []string{"table auth_flows"}},
					{"20261127150001_passkeys", []string{"table passkeys", "table webauthn_user_handles"}},
					{"20261127150000_identities", []string{"table identities"}},
					{"20261127140001_totp", []string{"table recovery_codes", "table totp"}},
					{"20261127140000_email_verification", []string{"table one_time_tokens", "column users.is_verified"}},
					{"20261127120000_audit_events", []string{"table audit_events"}},
					{"20261127100002_secrets", []string{"table secrets"}},
					{"20261127100001_api_tokens", []string{"table api_tokens"}},
					{sessionMetadataMigration + "_session_metadata", []string{"column sessions.id", "column sessions.created_at",
						"column sessions.last_used_at", "column sessions.client_addr", "column sessions.user_agent"}},
					{itemCountsMigration + "_item_counts", []string{"table item_counts"}},
					{"20250601000001_init", []string{"table counters", "table reset_tokens", "table sessions", "table items", "table users"}},
				}...)
				if len(names) != len(want) {
					t.Fatalf("plan %q, want %d migrations", names, len(want))
				}
				for i, w := range want {
					if names[i] != w.name {
						t.Errorf("plan[%d] = %s, want %s", i, names[i], w.name)
					}
					if !slices.Equal(plan[i].Drops, w.drops) {
						t.Errorf("%s drops %q, want %q", w.name, plan[i].Drops, w.drops)
					}
				}
				wantApplied(t, s, true) // planning changes nothing

				rolled, err := s.RollbackPlanned(t.Context(), plan)
				if err != nil {
					t.Fatal(err)
				}
				var rolledNames []string
				for _, m := range rolled {
					rolledNames = append(rolledNames, m.String())
				}
				if !slices.Equal(rolledNames, names) {
					t.Errorf("rolled back %q, want the plan %q in its order", rolledNames, names)
				}
				wantApplied(t, s, false)
			})

			t.Run("a plan that is out of date rolls back nothing", func(t *testing.T) {
				s := openUnmigrated(t, d.url(t))
				if _, err := s.Migrate(t.Context()); err != nil {
					t.Fatal(err)
				}
				plan, err := s.RollbackPlan(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				// Another process rolls the group back meanwhile, then
				// applies the first migration alone: the last group is now
				// another one.
				if _, err := s.Rollback(t.Context()); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Migrate(t.Context()); err != nil {
					t.Fatal(err)
				}
				undoToItemCounts(t, s, d.name)
				rolled, err := s.RollbackPlanned(t.Context(), plan)
				if keel.ErrorCode(err) != keel.Conflict || len(rolled) != 0 {
					t.Errorf("RollbackPlanned with a stale plan = %v, %v; want Conflict and nothing rolled back", rolled, err)
				}
				u := storetest.NewUser()
				if err := s.CreateUser(t.Context(), u); err != nil {
					t.Errorf("the users table is gone: %v", err)
				}
			})
		})
	}
}
