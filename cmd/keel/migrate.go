package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/keel-dev/keel/store/bunstore"
)

// migrateCmd runs `keel migrate [-yes] [up|down|status]`.
func migrateCmd(ctx context.Context, args []string, sio stdio, env lookupFunc) error {
	fs := flagSet("migrate", sio.err, "migrate [-env-file file] [-yes] [up|down|status]", func(w io.Writer) {
		fmt.Fprintln(w, "up applies every pending migration (the default), down rolls back the last group applied,")
		fmt.Fprintln(w, "status lists every migration and when it was applied. DATABASE_URL names the database.")
		fmt.Fprintln(w, "down lists what it will roll back, in order, and what that destroys; when it destroys data")
		fmt.Fprintln(w, "it asks you to type yes on a terminal, and elsewhere refuses without -yes.")
	})
	envFile := envFileFlag(fs)
	yes := fs.Bool("yes", false, "roll back without asking, even migrations that drop data")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	action := "up"
	if fs.NArg() > 0 {
		// Flags may follow the action too: migrate down -yes.
		action = fs.Arg(0)
		if err := parseFlags(fs, fs.Args()[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usageError{"migrate takes one action: up, down or status"}
		}
	}
	if action != "up" && action != "down" && action != "status" {
		return usageError{fmt.Sprintf("unknown action %q: want up, down or status", action)}
	}
	c, err := loadStoredConfig(fs, *envFile, env, "keeps no schema to migrate")
	if err != nil {
		return err
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
	opts := migrateOptions{yes: *yes, out: sio.out}
	if f, ok := sio.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts.confirm = func(question string) (bool, error) { return confirm(sio.in, sio.err, question) }
	}
	return migrate(ctx, m, action, opts)
}

// migrateOptions are how migrate reports and asks.
type migrateOptions struct {
	out io.Writer
	// yes rolls back migrations that drop data without asking.
	yes bool
	// confirm asks a person a yes/no question; nil when nobody can answer
	// (stdin is not a terminal).
	confirm func(question string) (bool, error)
}

// migrate runs one action and reports it to opts.out.
func migrate(ctx context.Context, m migrator, action string, opts migrateOptions) error {
	w := opts.out
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
		return rollback(ctx, m, opts)
	case "status":
		ms, err := m.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		return writeStatus(w, ms)
	}
	return usageError{fmt.Sprintf("unknown action %q", action)}
}

// rollback rolls back the last group of migrations: it lists them in the
// order they will be rolled back, with what each destroys, and goes on
// only with a confirmation when any destroys data.
func rollback(ctx context.Context, m migrator, opts migrateOptions) error {
	w := opts.out
	plan, err := m.RollbackPlan(ctx)
	if err != nil {
		return err
	}
	if len(plan) == 0 {
		_, err = fmt.Fprintln(w, "No migration is applied; nothing to roll back.")
		return err
	}
	fmt.Fprintf(w, "Rolling back group %d undoes, in this order:\n", plan[0].GroupID)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	destroys := false
	for _, mig := range plan {
		what := "loses no data"
		if len(mig.Drops) > 0 {
			what, destroys = "destroys "+strings.Join(mig.Drops, ", "), true
		}
		fmt.Fprintf(tw, "  %s\t%s\n", mig, what)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if destroys && !opts.yes {
		if opts.confirm == nil {
			return errors.New("not rolled back: this destroys data for good; back the database up, then run keel migrate down -yes")
		}
		ok, err := opts.confirm("This destroys the data above for good. Type yes to roll back: ")
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("not rolled back")
		}
	}
	rolled, err := m.RollbackPlanned(ctx, plan)
	if err != nil {
		return err
	}
	for _, mig := range rolled {
		fmt.Fprintf(w, "rolled back %s\n", mig)
	}
	return nil
}

// confirm asks question on prompt and reports whether the line read from
// in is "yes".
func confirm(in io.Reader, prompt io.Writer, question string) (bool, error) {
	fmt.Fprint(prompt, question)
	line, err := bufio.NewReader(io.LimitReader(in, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("reading the answer: %w", err)
	}
	return strings.TrimSpace(line) == "yes", nil
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
