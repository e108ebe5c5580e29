package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keel-dev/keel/internal/keeltest"
)

func TestDescribeDatabase(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url, want string
	}{
		{"memory: says it is lost at exit", "memory:", "in memory, lost when keel stops (DATABASE_URL=memory:)"},
		{"an absolute SQLite path is shown as is", "sqlite:///var/lib/keel/keel.db?_pragma=foo", "SQLite file /var/lib/keel/keel.db"},
		{"a relative SQLite path is made absolute", "sqlite://./keel.db", "SQLite file " + filepath.Join(wd, "keel.db")},
		{"the short relative form is made absolute", "sqlite:data/keel.db", "SQLite file " + filepath.Join(wd, "data", "keel.db")},
		{"an escaped SQLite path is unescaped", "sqlite:///tmp/my%20data.db", "SQLite file /tmp/my data.db"},
		{"an in-memory SQLite says it is lost at exit", "sqlite::memory:", "SQLite in memory, lost when keel stops"},
		{"PostgreSQL shows database, host and user, never the password", "postgres://keel:hunter2@db.example.com:6432/app?sslmode=require", `PostgreSQL database "app" on db.example.com:6432 as keel`},
		{"PostgreSQL without port is on 5432", "postgresql://keel@db.example.com/app", `PostgreSQL database "app" on db.example.com:5432 as keel`},
		{"PostgreSQL without host or database shows the driver's defaults", "postgres://", `PostgreSQL database "postgres" on localhost:5432`},
		{"an IPv6 host is bracketed", "postgres://u:p@[::1]/app", `PostgreSQL database "app" on [::1]:5432 as u`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describeDatabase(tt.url)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "hunter2") {
				t.Errorf("the password is shown: %s", got)
			}
		})
	}
}

func TestSSLModeWarning(t *testing.T) {
	tests := []struct {
		name, url string
		warn      bool
	}{
		{"a remote host without sslmode warns", "postgres://u:hunter2@db.example.com/app", true},
		{"a remote address without sslmode warns", "postgresql://u@10.1.2.3:5432/app?application_name=keel", true},
		{"a remote host with sslmode does not", "postgres://u@db.example.com/app?sslmode=verify-full", false},
		{"sslmode=disable is a choice, not an oversight", "postgres://u@db.example.com/app?sslmode=disable", false},
		{"localhost does not", "postgres://u@localhost/app", false},
		{"127.0.0.1 does not", "postgres://u@127.0.0.1:5432/app", false},
		{"::1 does not", "postgres://u@[::1]:5432/app", false},
		{"no host (the driver's localhost) does not", "postgres:///app", false},
		{"SQLite does not", "sqlite:///tmp/x.db", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := sslmodeWarning(tt.url)
			if (w != "") != tt.warn {
				t.Fatalf("warning %q, want one: %v", w, tt.warn)
			}
			if strings.Contains(w, "hunter2") {
				t.Errorf("the warning repeats the password: %s", w)
			}
			if tt.warn && !strings.Contains(w, "sslmode=verify-full") {
				t.Errorf("the warning does not say what to do: %s", w)
			}
		})
	}
}

// TestOpenStoreWarnsOnceAboutSSLMode opens a PostgreSQL URL that names
// this machine by a non-loopback address: whether or not a server answers
// there, the warning is logged once, without the password.
func TestOpenStoreWarnsOnceAboutSSLMode(t *testing.T) {
	ip := nonLoopbackIP(t)
	var logs keeltest.SyncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	c := mustConfig(t, map[string]string{"DATABASE_URL": "postgres://keel:hunter2@" + net.JoinHostPort(ip, "1") + "/keel?connect_timeout=5"})
	if s, err := openStore(context.Background(), c, log); err == nil {
		s.Close()
	}
	if n := strings.Count(logs.String(), "DATABASE_URL names no sslmode"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Errorf("the log repeats the password:\n%s", logs.String())
	}
}

func nonLoopbackIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("this machine has no non-loopback IPv4 address")
	return ""
}

func TestOpenStoreExplainsAnSQLiteFileItCannotOpen(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "adir.db"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
		skipAsRoot       bool
	}{
		{"a missing directory is named", filepath.Join(dir, "missing", "keel.db"), "the directory " + filepath.Join(dir, "missing") + " does not exist", false},
		{"a directory in place of the file is named", filepath.Join(dir, "adir.db"), "it is a directory", false},
		{"a read-only directory is reported", filepath.Join(dir, "ro", "keel.db"), "cannot be created: permission denied", true},
	}
	if err := os.Mkdir(filepath.Join(dir, "ro"), 0o500); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skipAsRoot && os.Geteuid() == 0 {
				t.Skip("root may write anywhere")
			}
			c := mustConfig(t, map[string]string{"DATABASE_URL": "sqlite://" + tt.path})
			s, err := openStore(context.Background(), c, slog.New(slog.DiscardHandler))
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			want := "DATABASE_URL: cannot open the SQLite file " + tt.path + ": " + tt.want
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("got  %v\nwant %s", err, want)
			}
		})
	}
}
