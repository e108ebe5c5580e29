package main

import (
	"context"
	"fmt"
	"strings"
)

// unlockCmd runs `keel unlock -email ...`: the lockout that failed logins
// from unknown clients put on the account ends, as a superuser's
// POST /users/{user_id}/unlock ends it. The operator's authority is
// running the program; no user acts.
func unlockCmd(ctx context.Context, args []string, sio stdio, env lookupFunc) error {
	fs := flagSet("unlock", sio.err, "unlock -email address [-env-file file]", nil)
	email := fs.String("email", "", "the locked account's `address` (required)")
	envFile := envFileFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unlock takes no arguments"}
	}
	if strings.TrimSpace(*email) == "" {
		return usageError{"-email is required"}
	}
	c, err := loadStoredConfig(fs, *envFile, env, "keeps no lockout once the server that counted it ends")
	if err != nil {
		return err
	}
	log := newLogger(c, sio.err)
	s, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if c.Migrate {
		if err := migrateUp(ctx, s, log); err != nil {
			return err
		}
	}
	svc, err := newService(c, s, log)
	if err != nil {
		return err
	}
	if err := svc.UnlockEmail(ctx, *email); err != nil {
		return err
	}
	_, err = fmt.Fprintf(sio.out, "Unlocked %s: clients new to the account may log in again.\n", strings.ToLower(strings.TrimSpace(*email)))
	return err
}
