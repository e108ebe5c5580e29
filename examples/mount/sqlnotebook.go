package main

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"io/fs"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/bunstore"
)

// The example's migrations, one set per dialect, beside keel's.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// migrateNotebook applies the example's own migrations, after keel's
// (their foreign keys name keel's users table). They keep their own
// bookkeeping tables, so keel's and the host's migrations never mix.
func migrateNotebook(ctx context.Context, s *bunstore.Store) error {
	dir := "migrations/sqlite"
	if s.Dialect() == dialect.PG {
		dir = "migrations/postgres"
	}
	sub, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return err
	}
	m := migrate.NewMigrator(s.DB(), ms,
		migrate.WithTableName("mount_migrations"),
		migrate.WithLocksTableName("mount_migration_locks"),
		migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return err
	}
	// One process migrates here; several would take m.Lock first.
	_, err = m.Migrate(ctx)
	return err
}

// sqlNotebook keeps the notebook in keel's database (PostgreSQL or
// SQLite), writing the profiles in keel's own transactions.
type sqlNotebook struct{ db *bun.DB }

// txDB is keel's transaction as bun sees it.
func txDB(tx keel.Tx) (bun.IDB, error) {
	db, ok := bunstore.TxDB(tx)
	if !ok {
		return nil, errors.New("mount: the notebook needs bunstore's transaction")
	}
	return db, nil
}

func (n sqlNotebook) createProfile(ctx context.Context, tx keel.Tx, p Profile, email string) error {
	db, err := txDB(tx)
	if err != nil {
		return err
	}
	// The unique index settles a race; looking first gives the client a
	// clear refusal in the usual case.
	taken, err := db.NewSelect().Model((*Profile)(nil)).Where("handle = ?", p.Handle).Exists(ctx)
	if err != nil {
		return err
	}
	if taken {
		return errHandleTaken(p, email)
	}
	_, err = db.NewInsert().Model(&p).Exec(ctx)
	return err
}

// deleteUser has nothing to do: the foreign keys' ON DELETE CASCADE takes
// the profile and notes with the user, in the same transaction.
func (n sqlNotebook) deleteUser(context.Context, keel.Tx, uuid.UUID) error { return nil }

func (n sqlNotebook) profile(ctx context.Context, userID uuid.UUID) (Profile, bool, error) {
	var p Profile
	err := n.db.NewSelect().Model(&p).Where("user_id = ?", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Profile{}, false, nil
	}
	return p, err == nil, err
}

func (n sqlNotebook) addNote(ctx context.Context, note Note) error {
	_, err := n.db.NewInsert().Model(&note).Exec(ctx)
	return err
}

func (n sqlNotebook) notes(ctx context.Context, userID uuid.UUID) ([]Note, error) {
	out := []Note{}
	err := n.db.NewSelect().Model(&out).Where("user_id = ?", userID).Order("created_at DESC", "id DESC").Scan(ctx)
	return out, err
}
