package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/bunstore"
)

// result is what one run of the binary's entry point produced.
type result struct {
	code     int
	out, err string
}

func runKeel(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb, env(vars))
	return result{code, out.String(), errb.String()}
}

// sqliteURL is a fresh SQLite database in the test's directory, in the
// absolute form sqlite:///path.
func sqliteURL(t *testing.T) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "keel.db")
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
	}{
		{"help lists the commands", []string{"help"}, 0, "createsuperuser", ""},
		{"an unknown command is a usage error", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"version prints keel and the module version", []string{"version"}, 0, "keel ", ""},
		{"--version prints the version", []string{"--version"}, 0, "keel ", ""},
		{"-version prints the version", []string{"-version"}, 0, "keel ", ""},
		{"--version takes no arguments", []string{"--version", "serve"}, 2, "", "version takes no arguments"},
		{"serve -addr without a port is a usage error", []string{"serve", "-addr", "localhost"}, 2, "", `invalid value "localhost" for flag -addr: "localhost" is not a host:port address`},
		{"serve --addr takes the GNU spelling too", []string{"serve", "--addr", "nonsense"}, 2, "", "for flag -addr"},
		{"a malformed .env line is named by number", []string{"migrate", "-env-file", "testdata/malformed.env", "status"}, 1, "", "testdata/malformed.env: line 3: want NAME=value"},
		{"env prints every variable", []string{"env"}, 0, "FIRST_SUPERUSER_PASSWORD", ""},
		{"env -markdown prints the README table", []string{"env", "-markdown"}, 0, "| `DATABASE_URL` | `sqlite://./keel.db` |", ""},
		{"serve -help prints the variables and succeeds", []string{"serve", "-help"}, 0, "", "KEEL_MAX_BODY_BYTES"},
		{"an unknown flag is a usage error", []string{"serve", "-port", "80"}, 2, "", "flag provided but not defined"},
		{"migrate with a bad action is a usage error", []string{"migrate", "sideways"}, 2, "", `unknown action "sideways"`},
		{"createsuperuser without -email is a usage error", []string{"createsuperuser"}, 2, "", "-email is required"},
		{"createsuperuser refuses a password argument", []string{"createsuperuser", "-email", "a@example.com", "hunter22"}, 2, "", "never from the command line"},
		{"a missing -env-file named explicitly fails", []string{"migrate", "-env-file", "/nonexistent/.env", "status"}, 1, "", "/nonexistent/.env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runKeel(t, nil, "", tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.out, tt.wantOut) || !strings.Contains(r.err, tt.wantErr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.out, r.err)
			}
		})
	}
}

func TestInvalidConfigurationStopsEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"serve"}, {"migrate", "status"}, {"createsuperuser", "-email", "a@example.com"}} {
		t.Run(args[0]+" refuses SECRET_KEY=changethis in production", func(t *testing.T) {
			r := runKeel(t, map[string]string{"SECRET_KEY": "changethis", "DATABASE_URL": sqliteURL(t), "KEEL_ADDR": "127.0.0.1:0"}, "a long enough pass\n", args...)
			if r.code != 1 || !strings.Contains(r.err, "SECRET_KEY: ") {
				t.Errorf("exit %d, stderr: %s", r.code, r.err)
			}
		})
	}
}

func TestMigrateCommand(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": sqliteURL(t)}
	plan := "Rolling back group 1 undoes, in this order:\n" +
		"  20261127150002_auth_flows          destroys table auth_flows\n" +
		"  20261127150001_passkeys            destroys table passkeys, table webauthn_user_handles\n" +
		"  20261127150000_identities          destroys table identities\n" +
		"  20261127140001_totp                destroys table recovery_codes, table totp\n" +
		"  20261127140000_email_verification  destroys table one_time_tokens, column users.is_verified\n" +
		"  20261127120000_audit_events        destroys table audit_events\n" +
		"  20261127100002_secrets             destroys table secrets\n" +
		"  20261127100001_api_tokens          destroys table api_tokens\n" +
		"  20261127100000_session_metadata    destroys column sessions.id, column sessions.created_at, column sessions.last_used_at, column sessions.client_addr, column sessions.user_agent\n" +
		"  20251125000001_item_counts         destroys table item_counts\n" +
		"  20250601000001_init                destroys table counters, table reset_tokens, table sessions, table items, table users\n"
	steps := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  []string
		wantErr  string
	}{
		{"status on a new database lists pending migrations", []string{"migrate", "status"}, "", 0, []string{"pending", "0 of"}, ""},
		{"up applies them", []string{"migrate", "up"}, "", 0, []string{"applied "}, ""},
		{"up again has nothing to do", []string{"migrate"}, "", 0, []string{"up to date"}, ""},
		{"status shows them applied", []string{"migrate", "status"}, "", 0, []string{"11 of 11 applied", "0 pending"}, ""},
		{"down without -yes lists what it would destroy, newest first, and refuses", []string{"migrate", "down"}, "yes\n", 1, []string{plan}, "not rolled back: this destroys data for good; back the database up, then run keel migrate down -yes"},
		{"the refused rollback left every migration applied", []string{"migrate", "status"}, "", 0, []string{"0 pending"}, ""},
		{"down -yes rolls them back in the order listed", []string{"migrate", "down", "-yes"}, "", 0, []string{plan +
			"rolled back 20261127150002_auth_flows\nrolled back 20261127150001_passkeys\nrolled back 20261127150000_identities\n" +
			"rolled back 20261127140001_totp\nrolled back 20261127140000_email_verification\nrolled back 20261127120000_audit_events\nrolled back 20261127100002_secrets\nrolled back 20261127100001_api_tokens\nrolled back 20261127100000_session_metadata\n" +
			"rolled back 20251125000001_item_counts\nrolled back 20250601000001_init\n"}, ""},
		{"down again has nothing to roll back", []string{"migrate", "-yes", "down"}, "", 0, []string{"nothing to roll back"}, ""},
		{"an argument after the action's flags is a usage error", []string{"migrate", "down", "-yes", "now"}, "", 2, nil, "migrate takes one action"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := runKeel(t, vars, st.stdin, st.args...)
			if r.code != st.wantCode || !strings.Contains(r.err, st.wantErr) {
				t.Fatalf("exit %d, want %d: %s", r.code, st.wantCode, r.err)
			}
			for _, w := range st.wantOut {
				if !strings.Contains(r.out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.out)
				}
			}
		})
	}
	t.Run("memory: has nothing to migrate", func(t *testing.T) {
		r := runKeel(t, map[string]string{"DATABASE_URL": "memory:"}, "", "migrate")
		if r.code != 1 || !strings.Contains(r.err, "memory:") {
			t.Errorf("exit %d: %s", r.code, r.err)
		}
	})
}

func TestCreateSuperuserCommand(t *testing.T) {
	url := sqliteURL(t)
	vars := map[string]string{"DATABASE_URL": url}
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"a password line creates the superuser", []string{"createsuperuser", "-email", " Admin@Example.com ", "-full-name", "Ada"}, "a long enough pass\r\n", 0, "Created superuser admin@example.com", ""},
		{"the same email again fails", []string{"createsuperuser", "-email", "admin@example.com"}, "another long pass\n", 1, "", "already exists"},
		{"a common password fails with keel's reason", []string{"createsuperuser", "-email", "b@example.com"}, "password1\n", 1, "", "password is too common or too easy to guess; choose another"},
		{"a short password fails with keel's reason", []string{"createsuperuser", "-email", "b@example.com"}, "short\n", 1, "", "password must be at least 8 characters"},
		{"a bad email fails with keel's reason", []string{"createsuperuser", "-email", "not-an-email"}, "a long enough pass\n", 1, "", "email is not a valid email address"},
		{"empty stdin fails", []string{"createsuperuser", "-email", "b@example.com"}, "", 1, "", "no password on stdin"},
		{"memory: is refused", []string{"createsuperuser", "-email", "b@example.com"}, "a long enough pass\n", 1, "", "memory:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := vars
			if strings.HasPrefix(tt.name, "memory:") {
				v = map[string]string{"DATABASE_URL": "memory:"}
			}
			r := runKeel(t, v, tt.stdin, tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.out, tt.wantOut) || !strings.Contains(r.err, tt.wantErr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.out, r.err)
			}
			if strings.Contains(r.out+r.err, strings.TrimSpace(tt.stdin)) && tt.stdin != "" {
				t.Errorf("the password was printed:\n%s%s", r.out, r.err)
			}
		})
	}

	t.Run("the superuser is stored with its name and can log in", func(t *testing.T) {
		ctx := context.Background()
		s, err := bunstore.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		u, err := s.UserByEmail(ctx, "admin@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if !u.IsSuperuser || !u.IsActive || u.FullName == nil || *u.FullName != "Ada" {
			t.Errorf("stored user: %+v", u)
		}
		svc, err := keel.New(s, keel.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Login(ctx, keel.LoginInput{Email: "admin@example.com", Password: "a long enough pass"}); err != nil {
			t.Errorf("login: %v", err)
		}
	})
}

func TestReadPasswordLine(t *testing.T) {
	long := strings.Repeat("x", maxPasswordLine)
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"a line ending in LF is read without it", "secret pass\nignored\n", "secret pass", false},
		{"a line ending in CRLF is read without it", "secret pass\r\n", "secret pass", false},
		{"a last line without ending is read", "secret pass", "secret pass", false},
		{"spaces are kept", "  spaced out  \n", "  spaced out  ", false},
		{"the longest line allowed is read", long + "\n", long, false},
		{"a longer line is refused", long + "xx\n", "", true},
		{"nothing is refused", "", "", true},
		{"an empty line is refused", "\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readPasswordLine(strings.NewReader(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %q, %v", got, err)
			}
		})
	}
}

func TestDescribeBuild(t *testing.T) {
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build information says so", nil, false, "(unknown build)"},
		{"a released module shows its version", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}}, true, "v1.2.3 (go1.26.0)"},
		{"a checkout shows devel, the commit and its time", &debug.BuildInfo{
			GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}},
		}, true, "(devel) (commit 0123456789ab+dirty, 2026-01-02T03:04:05Z, go1.26.0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeBuild(tt.info, tt.ok); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// fakeMigrator plans a rollback of the migrations given and records
// whether it rolled back.
type fakeMigrator struct {
	plan   []bunstore.Migration
	rolled bool
}

func (f *fakeMigrator) Migrate(context.Context) ([]bunstore.Migration, error) { return nil, nil }
func (f *fakeMigrator) MigrationStatus(context.Context) ([]bunstore.Migration, error) {
	return nil, nil
}
func (f *fakeMigrator) RollbackPlan(context.Context) ([]bunstore.Migration, error) {
	return f.plan, nil
}
func (f *fakeMigrator) RollbackPlanned(_ context.Context, plan []bunstore.Migration) ([]bunstore.Migration, error) {
	f.rolled = true
	return plan, nil
}

func TestRollbackAsksBeforeDestroyingData(t *testing.T) {
	harmless := []bunstore.Migration{{Name: "2", Comment: "index", GroupID: 3}}
	destructive := []bunstore.Migration{{Name: "2", Comment: "index", GroupID: 3}, {Name: "1", Comment: "notes", GroupID: 3, Drops: []string{"column items.note"}}}
	answer := func(yes bool, err error) func(string) (bool, error) {
		return func(string) (bool, error) { return yes, err }
	}
	tests := []struct {
		name       string
		plan       []bunstore.Migration
		yes        bool
		confirm    func(string) (bool, error)
		wantRolled bool
		wantErr    string
	}{
		{"a rollback that loses no data needs no confirmation", harmless, false, nil, true, ""},
		{"one that destroys data is refused where nobody can answer", destructive, false, nil, false, "-yes"},
		{"it goes on when the person types yes", destructive, false, answer(true, nil), true, ""},
		{"it stops when the person types anything else", destructive, false, answer(false, nil), false, "not rolled back"},
		{"it stops when the answer cannot be read", destructive, false, answer(false, errors.New("EOF on the terminal")), false, "EOF on the terminal"},
		{"-yes goes on without asking", destructive, true, answer(false, errors.New("asked")), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeMigrator{plan: tt.plan}
			var out bytes.Buffer
			err := migrate(context.Background(), m, "down", migrateOptions{out: &out, yes: tt.yes, confirm: tt.confirm})
			if m.rolled != tt.wantRolled || (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("rolled back %v, error %v; want %v, an error saying %q", m.rolled, err, tt.wantRolled, tt.wantErr)
			}
			if !strings.Contains(out.String(), "  2_index  loses no data\n") {
				t.Errorf("the plan is not listed:\n%s", out.String())
			}
		})
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"yes\n", true}, {"  yes \r\n", true}, {"yes", true},
		{"y\n", false}, {"YES please\n", false}, {"\n", false}, {"", false}, {"no\nyes\n", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("the answer %q is yes: %v", tt.in, tt.want), func(t *testing.T) {
			var prompt bytes.Buffer
			got, err := confirm(strings.NewReader(tt.in), &prompt, "Type yes: ")
			if err != nil || got != tt.want {
				t.Errorf("got %v, %v", got, err)
			}
			if prompt.String() != "Type yes: " {
				t.Errorf("prompted %q", prompt.String())
			}
		})
	}
}

func TestUnlockCommand(t *testing.T) {
	ctx := context.Background()
	url := sqliteURL(t)
	vars := map[string]string{"DATABASE_URL": url, "KEEL_RATE_LIMIT_LOGIN_ACCOUNT": "3/1h"}
	if r := runKeel(t, vars, "a long enough pass\n", "createsuperuser", "-email", "ada@example.com"); r.code != 0 {
		t.Fatalf("createsuperuser: %s", r.err)
	}
	s, err := bunstore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc, err := keel.New(s, keel.Config{RateLimits: keel.RateLimits{LoginPerAccount: keel.Limit{Max: 3, Window: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	login := func(password string) error {
		_, err := svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: password})
		return err
	}
	for range 3 {
		if err := login("wrong password!"); !errors.Is(err, keel.ErrIncorrectLogin) {
			t.Fatalf("a wrong password: %v", err)
		}
	}
	if err := login("a long enough pass"); !errors.Is(err, keel.ErrTooManyRequests) {
		t.Fatalf("the account is not locked out: %v", err)
	}

	tests := []struct {
		name     string
		vars     map[string]string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"-email is required", vars, []string{"unlock"}, 2, "", "-email is required"},
		{"arguments are a usage error", vars, []string{"unlock", "-email", "ada@example.com", "now"}, 2, "", "no arguments"},
		{"memory: is refused", map[string]string{"DATABASE_URL": "memory:"}, []string{"unlock", "-email", "ada@example.com"}, 1, "", "memory:"},
		{"an email however written unlocks the account", vars, []string{"unlock", "-email", " ADA@example.com "}, 0, "Unlocked ada@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runKeel(t, tt.vars, "", tt.args...)
			if r.code != tt.wantCode || !strings.Contains(r.out, tt.wantOut) || !strings.Contains(r.err, tt.wantErr) {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.out, r.err)
			}
		})
	}
	if err := login("a long enough pass"); err != nil {
		t.Fatalf("login after keel unlock: %v", err)
	}
}
