package main

// End-to-end tests of the built binary: `go build` it once, run `keel
// serve` as a child process over real HTTP, stop it with SIGTERM.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/internal/pgtest"
)

// Bounds on waiting for a child process; they fail a stuck test, they do
// not measure anything.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

var keelBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// TestMain removes the binary the end-to-end tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if keelBinary.dir != "" {
		os.RemoveAll(keelBinary.dir)
	}
	os.Exit(code)
}

// buildKeel builds this package's binary once per test run and returns
// its path.
func buildKeel(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test of the built binary skipped in -short mode")
	}
	keelBinary.once.Do(func() {
		keelBinary.dir, keelBinary.err = os.MkdirTemp("", "keel-e2e-")
		if keelBinary.err != nil {
			return
		}
		keelBinary.path = filepath.Join(keelBinary.dir, "keel")
		out, err := exec.Command("go", "build", "-o", keelBinary.path, ".").CombinedOutput()
		if err != nil {
			keelBinary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if keelBinary.err != nil {
		t.Fatal(keelBinary.err)
	}
	return keelBinary.path
}

// process is a `keel serve` child process.
type process struct {
	name   string
	cmd    *exec.Cmd
	stderr *keeltest.SyncBuffer
	base   chan string // the URL it printed, once
	exited chan struct{}
	err    error // what Wait returned, once exited is closed
	url    string
}

// launchKeel starts `keel serve` with only the variables given (plus
// KEEL_ADDR=127.0.0.1:0, a free loopback port), in an empty directory so
// that no .env is read. The test's end kills it if it still runs.
func launchKeel(t *testing.T, name string, vars map[string]string) *process {
	t.Helper()
	return launchKeelIn(t, name, t.TempDir(), vars)
}

// launchKeelIn is launchKeel in the directory dir (whose .env it reads),
// with more arguments for serve. vars win over the defaults it sets.
func launchKeelIn(t *testing.T, name, dir string, vars map[string]string, args ...string) *process {
	t.Helper()
	bin := buildKeel(t)
	all := map[string]string{"KEEL_ADDR": "127.0.0.1:0", "KEEL_SHUTDOWN_TIMEOUT": "10s", "KEEL_LOG_LEVEL": "warn"}
	maps.Copy(all, vars)
	var environ []string
	for k, v := range all {
		environ = append(environ, k+"="+v)
	}
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	cmd.Env = environ
	p := &process{name: name, cmd: cmd, stderr: new(keeltest.SyncBuffer), base: make(chan string, 1), exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "keel is listening on "); ok {
				p.base <- strings.Fields(rest)[0]
			}
		}
		// Wait only after stdout is drained, as os/exec requires.
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.name, p.stderr.String())
		}
	})
	return p
}

// waitReady waits for the address the process prints, then for its
// health check to answer.
func (p *process) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.After(startTimeout)
	select {
	case p.url = <-p.base:
	case <-p.exited:
		t.Fatalf("%s exited before listening (%v):\n%s", p.name, p.err, p.stderr.String())
	case <-deadline:
		t.Fatalf("%s printed no address within %v:\n%s", p.name, startTimeout, p.stderr.String())
	}
	if !strings.HasPrefix(p.url, "http://127.0.0.1:") {
		t.Fatalf("%s listens on %s, want a 127.0.0.1 address", p.name, p.url)
	}
	for {
		resp, err := http.Get(p.url + "/api/v1/utils/health-check/")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "true" {
				return
			}
		}
		select {
		case <-deadline:
			t.Fatalf("%s health check did not answer 200 true within %v (last: %v)", p.name, startTimeout, err)
		case <-p.exited:
			t.Fatalf("%s exited (%v):\n%s", p.name, p.err, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startKeel launches `keel serve` and waits until it answers.
func startKeel(t *testing.T, name string, vars map[string]string) *process {
	t.Helper()
	p := launchKeel(t, name, vars)
	p.waitReady(t)
	return p
}

// terminate sends SIGTERM and requires a clean exit (code 0).
func (p *process) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to %s: %v", p.name, err)
	}
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		t.Fatalf("%s still runs %v after SIGTERM", p.name, stopTimeout)
	}
	if p.err != nil {
		var exit *exec.ExitError
		if errors.As(p.err, &exit) {
			t.Fatalf("%s exited with code %d after SIGTERM, want 0:\n%s", p.name, exit.ExitCode(), p.stderr.String())
		}
		t.Fatalf("%s: %v", p.name, p.err)
	}
}

// call makes one request to the process and decodes a JSON answer into
// out (when not nil and the status is 2xx).
func (p *process) call(t *testing.T, method, path, token, contentType, body string, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, p.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, p.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s on %s: decoding %s: %v", method, path, p.name, b, err)
		}
	}
	return resp.StatusCode, string(b)
}

// want fails t unless the answer has the status and, when detail is not
// empty, that {"detail": ...} or {"message": ...}.
func want(t *testing.T, what string, status int, body string, wantStatus int, wantMessage string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("%s: %d %s, want %d", what, status, body, wantStatus)
	}
	if wantMessage == "" {
		return
	}
	var m struct{ Detail, Message string }
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.Detail+m.Message != wantMessage {
		t.Fatalf("%s: body %s, want the message %q", what, body, wantMessage)
	}
}

type e2eUser struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

type e2eItem struct {
	ID          string  `json:"id"`
	Title       string  `json:"title"`
	Description *string `json:"description"`
	OwnerID     string  `json:"owner_id"`
}

type e2eItems struct {
	Data  []e2eItem `json:"data"`
	Count int       `json:"count"`
}

func (p *process) signUp(t *testing.T, email, password string) e2eUser {
	t.Helper()
	var u e2eUser
	status, body := p.call(t, "POST", "/api/v1/users/signup", "", "application/json",
		fmt.Sprintf(`{"email":%q,"password":%q,"full_name":"E2E"}`, email, password), &u)
	want(t, "sign up on "+p.name, status, body, http.StatusCreated, "")
	if u.Email != email || u.ID == "" {
		t.Fatalf("sign up on %s answered %s", p.name, body)
	}
	return u
}

func (p *process) logIn(t *testing.T, email, password string) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	form := url.Values{"username": {email}, "password": {password}, "grant_type": {"password"}}.Encode()
	status, body := p.call(t, "POST", "/api/v1/login/access-token", "", "application/x-www-form-urlencoded", form, &tok)
	want(t, "log in on "+p.name, status, body, http.StatusOK, "")
	if tok.AccessToken == "" || tok.TokenType != "bearer" {
		t.Fatalf("log in on %s answered %s", p.name, body)
	}
	return tok.AccessToken
}

func (p *process) createItem(t *testing.T, token, title string) e2eItem {
	t.Helper()
	var it e2eItem
	status, body := p.call(t, "POST", "/api/v1/items/", token, "application/json",
		fmt.Sprintf(`{"title":%q,"description":"made by %s"}`, title, p.name), &it)
	want(t, "create item on "+p.name, status, body, http.StatusCreated, "")
	return it
}

// walkthrough is a user's whole life over HTTP on p: sign up, log in,
// create, read, list, update and delete an item, log out; the token then
// answers 401.
func walkthrough(t *testing.T, p *process) {
	const email, password = "walker@example.com", "a walk in the park"
	user := p.signUp(t, email, password)
	token := p.logIn(t, email, password)

	var me e2eUser
	status, body := p.call(t, "POST", "/api/v1/login/test-token", token, "", "", &me)
	want(t, "test the token", status, body, http.StatusOK, "")
	if me.ID != user.ID {
		t.Fatalf("the token belongs to %s, want %s", me.ID, user.ID)
	}

	item := p.createItem(t, token, "Groceries")
	if item.Title != "Groceries" || item.OwnerID != user.ID || item.Description == nil {
		t.Fatalf("created %+v, owned by %s", item, user.ID)
	}

	var got e2eItem
	status, body = p.call(t, "GET", "/api/v1/items/"+item.ID, token, "", "", &got)
	want(t, "get the item", status, body, http.StatusOK, "")
	if got.ID != item.ID || got.Title != "Groceries" || got.OwnerID != user.ID || got.Description == nil || *got.Description != *item.Description {
		t.Fatalf("got %s, want %+v", body, item)
	}

	var list e2eItems
	status, body = p.call(t, "GET", "/api/v1/items/?skip=0&limit=10", token, "", "", &list)
	want(t, "list items", status, body, http.StatusOK, "")
	if list.Count != 1 || len(list.Data) != 1 || list.Data[0].ID != item.ID {
		t.Fatalf("list = %s, want the one item", body)
	}

	var updated e2eItem
	status, body = p.call(t, "PUT", "/api/v1/items/"+item.ID, token, "application/json", `{"title":"Groceries and wine"}`, &updated)
	want(t, "update the item", status, body, http.StatusOK, "")
	if updated.Title != "Groceries and wine" || updated.Description == nil || *updated.Description != *item.Description {
		t.Fatalf("updated = %s: want the new title and the description kept", body)
	}

	status, body = p.call(t, "DELETE", "/api/v1/items/"+item.ID, token, "", "", nil)
	want(t, "delete the item", status, body, http.StatusOK, "Item deleted successfully")
	status, body = p.call(t, "GET", "/api/v1/items/"+item.ID, token, "", "", nil)
	want(t, "get the deleted item", status, body, http.StatusNotFound, "Item not found")

	status, body = p.call(t, "POST", "/api/v1/logout", token, "", "", nil)
	want(t, "log out", status, body, http.StatusOK, "Logged out")
	status, body = p.call(t, "GET", "/api/v1/users/me", token, "", "", nil)
	want(t, "the token after logout", status, body, http.StatusUnauthorized, "Could not validate credentials")
}

func TestE2ESQLite(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "keel.db")}
	p := startKeel(t, "keel", vars)
	walkthrough(t, p)
	p.terminate(t)

	t.Run("the account outlives the process", func(t *testing.T) {
		p := startKeel(t, "keel (restarted)", vars)
		token := p.logIn(t, "walker@example.com", "a walk in the park")
		var list e2eItems
		status, body := p.call(t, "GET", "/api/v1/items/", token, "", "", &list)
		want(t, "list items after the restart", status, body, http.StatusOK, "")
		if list.Count != 0 {
			t.Errorf("after the restart the deleted item is back: %s", body)
		}
		p.terminate(t)
	})
}

func TestE2EPostgreSQL(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": pgtest.Schema(t)}
	// Both start (and migrate) at once on the one schema.
	a, b := launchKeel(t, "keel A", vars), launchKeel(t, "keel B", vars)
	a.waitReady(t)
	b.waitReady(t)

	t.Run("a user's whole walk works", func(t *testing.T) { walkthrough(t, a) })

	const email, password = "shared@example.com", "two servers one base"
	user := a.signUp(t, email, password)
	tokenA := a.logIn(t, email, password)

	t.Run("a token issued by one process works on the other", func(t *testing.T) {
		var me e2eUser
		status, body := b.call(t, "GET", "/api/v1/users/me", tokenA, "", "", &me)
		want(t, "GET /users/me on B with A's token", status, body, http.StatusOK, "")
		if me.ID != user.ID {
			t.Errorf("B says the token is %s's, want %s", me.ID, user.ID)
		}
	})

	t.Run("an item created on one process is visible on the other", func(t *testing.T) {
		item := b.createItem(t, tokenA, "Made on B")
		var got e2eItem
		status, body := a.call(t, "GET", "/api/v1/items/"+item.ID, tokenA, "", "", &got)
		want(t, "get B's item on A", status, body, http.StatusOK, "")
		if got.Title != "Made on B" || got.OwnerID != user.ID {
			t.Errorf("A sees %s", body)
		}
		var list e2eItems
		status, body = a.call(t, "GET", "/api/v1/items/", tokenA, "", "", &list)
		want(t, "list on A", status, body, http.StatusOK, "")
		if list.Count != 1 || len(list.Data) != 1 || list.Data[0].ID != item.ID {
			t.Errorf("A lists %s, want B's item", body)
		}
	})

	t.Run("a logout on one process is honoured by the other at once", func(t *testing.T) {
		tokenB := b.logIn(t, email, password)
		status, body := b.call(t, "GET", "/api/v1/users/me", tokenB, "", "", nil)
		want(t, "the new token on B", status, body, http.StatusOK, "")
		status, body = a.call(t, "POST", "/api/v1/logout", tokenB, "", "", nil)
		want(t, "log B's token out on A", status, body, http.StatusOK, "Logged out")
		status, body = b.call(t, "GET", "/api/v1/users/me", tokenB, "", "", nil)
		want(t, "the logged-out token on B", status, body, http.StatusUnauthorized, "Could not validate credentials")
		status, body = b.call(t, "GET", "/api/v1/users/me", tokenA, "", "", nil)
		want(t, "the user's other session on B", status, body, http.StatusOK, "")
	})

	a.terminate(t)
	b.terminate(t)
}

func TestE2EAddrFlagWinsOverKEEL_ADDR(t *testing.T) {
	// KEEL_ADDR names a port in use: only -addr lets keel start.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	p := launchKeelIn(t, "keel -addr", t.TempDir(), map[string]string{"DATABASE_URL": "memory:", "KEEL_ADDR": busy.Addr().String()}, "-addr", "127.0.0.1:0")
	p.waitReady(t)
	if strings.HasSuffix(p.url, busy.Addr().String()) {
		t.Errorf("keel says it listens on KEEL_ADDR's %s", p.url)
	}
	p.terminate(t)
}

// TestE2ETemplateDotenv starts keel in a directory holding the FastAPI
// template's .env as it ships: development mode, "changethis" everywhere.
// It starts, and the template's superuser logs in with the template's
// password.
func TestE2ETemplateDotenv(t *testing.T) {
	dir := t.TempDir()
	dotenv := `# Domain
DOMAIN=localhost
FRONTEND_HOST=http://localhost:5173
ENVIRONMENT=local
PROJECT_NAME="Full Stack FastAPI Project"
STACK_NAME=full-stack-fastapi-project
BACKEND_CORS_ORIGINS="http://localhost,http://localhost:5173,https://localhost,https://localhost:5173"
SECRET_KEY=changethis
FIRST_SUPERUSER=admin@example.com
FIRST_SUPERUSER_PASSWORD=changethis
SMTP_HOST=
SMTP_USER=
SMTP_PASSWORD=
EMAILS_FROM_EMAIL=info@example.com
SMTP_TLS=True
SMTP_SSL=False
SMTP_PORT=587
POSTGRES_SERVER=localhost
POSTGRES_PORT=5432
POSTGRES_DB=app
POSTGRES_USER=postgres
POSTGRES_PASSWORD=changethis
SENTRY_DSN=
DOCKER_IMAGE_BACKEND=backend
DOCKER_IMAGE_FRONTEND=frontend
`
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(dotenv), 0o600); err != nil {
		t.Fatal(err)
	}
	p := launchKeelIn(t, "keel (template .env)", dir, map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(dir, "app.db")})
	p.waitReady(t)
	token := p.logIn(t, "admin@example.com", "changethis")
	status, body := p.call(t, "GET", "/api/v1/users/", token, "", "", nil)
	want(t, "list users as the template's superuser", status, body, http.StatusOK, "")
	p.terminate(t)
	if !strings.Contains(p.stderr.String(), `FIRST_SUPERUSER_PASSWORD is \"changethis\"`) {
		t.Errorf("no warning about the placeholder password:\n%s", p.stderr.String())
	}
}

// TestE2EHealthcheck runs `keel healthcheck` as a container's HEALTHCHECK
// does: 0 while the server is up, 1 once it stopped.
func TestE2EHealthcheck(t *testing.T) {
	p := startKeel(t, "keel", map[string]string{"DATABASE_URL": "memory:"})
	addr := strings.TrimPrefix(p.url, "http://")
	check := func() (int, string) {
		cmd := exec.Command(buildKeel(t), "healthcheck", "-addr", addr, "-timeout", "10s")
		cmd.Dir = t.TempDir()
		cmd.Env = []string{}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if code, out := check(); code != 0 {
		t.Errorf("healthcheck of a running server: exit %d: %s", code, out)
	}
	p.terminate(t)
	if code, out := check(); code != 1 || !strings.Contains(out, "connection refused") {
		t.Errorf("healthcheck of a stopped server: exit %d, want 1 saying the connection was refused: %s", code, out)
	}
}

// TestE2EVersionFromVCS builds keel in a fresh git repository holding this
// module: keel version names the commit, and +dirty once a file changed.
func TestE2EVersionFromVCS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds keel twice; skipped in -short mode")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	run := func(dir string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	files := run("../..", "git", "ls-files", "--cached", "--others", "--exclude-standard")
	repo := t.TempDir()
	for _, f := range strings.Split(files, "\n") {
		b, err := os.ReadFile(filepath.Join("../..", f))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(repo, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(repo, "git", "init", "-q")
	run(repo, "git", "add", "-A")
	run(repo, "git", "-c", "user.name=keel", "-c", "user.email=keel@example.com", "commit", "-q", "-m", "a build")
	commit := run(repo, "git", "rev-parse", "HEAD")[:12]
	bin := filepath.Join(t.TempDir(), "keel")
	version := func() string {
		run(repo, "go", "build", "-buildvcs=true", "-o", bin, "./cmd/keel")
		return run(repo, bin, "--version")
	}

	if v := version(); !strings.Contains(v, "commit "+commit+",") {
		t.Errorf("keel --version = %q, want it to name the commit %s (not dirty)", v, commit)
	}
	if err := os.WriteFile(filepath.Join(repo, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := version(); !strings.Contains(v, "commit "+commit+"+dirty") {
		t.Errorf("keel --version = %q, want the commit %s marked +dirty", v, commit)
	}
}
