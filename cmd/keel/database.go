package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/memstore"
)

// openStore opens the store DATABASE_URL names: memstore for memory:,
// bunstore (PostgreSQL or SQLite) otherwise. It warns (once: each command
// opens one store) about a PostgreSQL connection whose server is not
// verified.
func openStore(ctx context.Context, c config, log *slog.Logger, opts ...bunstore.Option) (keel.Store, error) {
	if c.isMemory() {
		return memstore.New(), nil
	}
	if w := sslmodeWarning(c.DatabaseURL); w != "" {
		log.WarnContext(ctx, w)
	}
	s, err := bunstore.Open(ctx, c.DatabaseURL, opts...)
	if err != nil {
		if path, ok := sqliteFile(c.DatabaseURL); ok {
			return nil, fmt.Errorf("DATABASE_URL: cannot open the SQLite file %s: %w", path, sqliteOpenProblem(path, err))
		}
		// bunstore's errors never repeat the URL, which may hold a password.
		return nil, fmt.Errorf("DATABASE_URL: opening the database: %w", err)
	}
	return s, nil
}

// sqliteFile is the absolute path of the file a sqlite: URL names, as
// bunstore.Open reads it (sqlite:///abs/path, sqlite://rel/path,
// sqlite:rel/path; a query is not part of it); false for other URLs and
// for an in-memory SQLite database. A relative path is resolved against
// the working directory, as SQLite does.
func sqliteFile(dbURL string) (string, bool) {
	rest, ok := strings.CutPrefix(dbURL, "sqlite:")
	if !ok {
		return "", false
	}
	path, _, _ := strings.Cut(rest, "?")
	if path == ":memory:" {
		return "", false
	}
	path = strings.TrimPrefix(path, "//")
	path, err := url.PathUnescape(path)
	if err != nil || path == "" {
		return "", false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path, true
	}
	return abs, true
}

// sqliteOpenProblem says why the SQLite file at path could not be opened:
// what the file system says of its directory or of the file, when that
// explains it, else the store's error.
func sqliteOpenProblem(path string, openErr error) error {
	dir := filepath.Dir(path)
	switch info, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the directory %s does not exist (create it first)", dir)
	case err != nil:
		return err
	case !info.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	switch info, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
		// SQLite creates the file: the directory must let us.
		f, err := os.CreateTemp(dir, ".keel-write-check-*")
		if err != nil {
			return fmt.Errorf("the file does not exist and cannot be created: %w", errors.Unwrap(err))
		}
		f.Close()
		os.Remove(f.Name())
	case err != nil:
		return err
	case info.IsDir():
		return errors.New("it is a directory")
	default:
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return errors.Unwrap(err) // the *PathError's path is already in the message
		}
		f.Close()
	}
	return openErr
}

// describeDatabase says where the data lives, for the start-up banner,
// never with the password a PostgreSQL URL may hold.
func describeDatabase(dbURL string) string {
	switch {
	case dbURL == "memory:":
		return "in memory, lost when keel stops (DATABASE_URL=memory:)"
	case strings.HasPrefix(dbURL, "sqlite:"):
		if path, ok := sqliteFile(dbURL); ok {
			return "SQLite file " + path
		}
		return "SQLite in memory, lost when keel stops"
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return "PostgreSQL"
	}
	host := u.Host
	if host == "" {
		host = "localhost"
	}
	if u.Port() == "" {
		host = net.JoinHostPort(strings.Trim(host, "[]"), "5432")
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" {
		db = "postgres"
	}
	s := fmt.Sprintf("PostgreSQL database %q on %s", db, host)
	if name := u.User.Username(); name != "" {
		s += " as " + name
	}
	return s
}

// sslmodeWarning warns about a PostgreSQL URL without sslmode to a host
// other than loopback: the driver then encrypts without checking the
// server's certificate, so anyone on the path can pose as the server and
// read the password. "" when there is nothing to say.
func sslmodeWarning(dbURL string) string {
	if !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
		return ""
	}
	u, err := url.Parse(dbURL)
	if err != nil || u.Query().Has("sslmode") || isLoopback(u.Hostname()) {
		return ""
	}
	return fmt.Sprintf("DATABASE_URL names no sslmode: the connection to %s is encrypted but the server's certificate is not checked; "+
		"add sslmode=verify-full (with sslrootcert=...) to check it, or sslmode=disable on a network you trust", u.Hostname())
}

// isLoopback reports whether host is this machine: localhost, a loopback
// address, or empty (the driver's default, localhost).
func isLoopback(host string) bool {
	if host == "" || strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// superuserCheckLimit bounds how many users the start-up banner's check
// for a superuser reads (the oldest ones, where the first superuser is).
const superuserCheckLimit = 1000

// hasSuperuser reports whether the store has a superuser; known is false
// when it has too many users to tell cheaply and none of the oldest
// superuserCheckLimit is one.
func hasSuperuser(ctx context.Context, s keel.Store) (has, known bool, err error) {
	users, total, err := s.ListUsers(ctx, keel.Page{Limit: superuserCheckLimit})
	if err != nil {
		return false, false, err
	}
	if total > len(users) {
		// Lists are newest first: read the oldest instead.
		if users, _, err = s.ListUsers(ctx, keel.Page{Offset: total - superuserCheckLimit, Limit: superuserCheckLimit}); err != nil {
			return false, false, err
		}
	}
	for _, u := range users {
		if u.IsSuperuser {
			return true, true, nil
		}
	}
	return false, total <= superuserCheckLimit, nil
}
