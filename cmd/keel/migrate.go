package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/keel-dev/keel/store/bunstore"
)

// migrateCmd runs `keel migrate [up|down|status]`.
func migrateCmd(ctx context.Context, args []string, sio stdio, env lookupFunc) error {
	fs := flagSet("migrate", sio.err, "migrate [-env-file file] [up|down|status]", func(w io.Writer) {
		fmt.Fprintln(w, "up applies every pending migration (the default), down rolls back the last group applied,")
		fmt.Fprintln(w, "status lists every migration and when it was applied. DATABASE_URL names the database.")
	})
	envFile := envFileFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	action := "up"
	switch fs.NArg() {
	case 0:
	case 1:
		action = fs.Arg(0)
	default:
		return usageError{"migrate takes one action: up, down or status"}
	}
	if action != "up" && action != "down" && action != "status" {
		return usageError{fmt.Sprintf("unknown action %q: want up, down or status", action)}
	}
	c, err := loadConfigFiles(fs, *envFile, env)
	if err != nil {
		return err
	}
	if c.isMemory() {
		return errors.New("DATABASE_URL is memory:, which keeps no schema to migrate")
	}
	s, err := openStore(ctx, c, newLogger(c, sio.err))
	if err != nil {
		return err
	}
	defer s.Close()
	m, ok := s.(migrator)
	if !ok {
		return errors.New("this store has no migrations")
	}
	return migrate(ctx, m, action, sio.out)
}

// migrate runs one action and reports it to w.
func migrate(ctx context.Context, m migrator, action string, w io.Writer) error {
	switch action {
	case "up":
		applied, err := m.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			_, err = fmt.Fprintln(w, "The database is up to date.")
			return err
		}
		for _, mig := range applied {
			fmt.Fprintf(w, "applied %s\n", mig)
		}
		return nil
	case "down":
		rolled, err := m.Rollback(ctx)
		if err != nil {
			return err
		}
		if len(rolled) == 0 {
			_, err = fmt.Fprintln(w, "No migration is applied; nothing to roll back.")
			return err
		}
		for _, mig := range rolled {
			fmt.Fprintf(w, "rolled back %s\n", mig)
		}
		return nil
	case "status":
		ms, err := m.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		return writeStatus(w, ms)
	}
	return usageError{fmt.Sprintf("unknown action %q", action)}
}

func writeStatus(w io.Writer, ms []bunstore.Migration) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MIGRATION\tSTATUS")
	pending := 0
	for _, m := range ms {
		status := "pending"
		if m.Applied() {
			status = fmt.Sprintf("applied %s (group %d)", m.MigratedAt.UTC().Format(time.RFC3339), m.GroupID)
		} else {
			pending++
		}
		fmt.Fprintf(tw, "%s\t%s\n", m, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d of %d applied, %d pending.\n", len(ms)-pending, len(ms), pending)
	return err
}
