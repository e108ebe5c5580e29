package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keel-dev/keel/internal/pgtest"
)

// stores are the databases the host's tests run on.
var stores = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"memory", func(*testing.T) string { return "memory:" }},
	{"SQLite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "mount.db") }},
	{"PostgreSQL", func(t *testing.T) string { return pgtest.Schema(t) }},
}

// call sends a request with the options and returns the answer.
func call(t *testing.T, method, u string, opts ...func(*http.Request)) answer {
	t.Helper()
	r, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(r)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{res.StatusCode, res.Header, string(b)}
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func cookie(tok string) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "keel_session", Value: tok}) }
}

func header(k, v string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

func body(contentType, s string) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set("Content-Type", contentType)
		r.Body = io.NopCloser(strings.NewReader(s))
		r.ContentLength = int64(len(s))
	}
}

// signUpAndLogin opens an account through keel's API and returns a token.
func signUpAndLogin(t *testing.T, base, email, name string) string {
	t.Helper()
	a := call(t, "POST", base+"/api/users/signup", body("application/json",
		fmt.Sprintf(`{"email":%q,"password":"analytical engine","full_name":%q}`, email, name)))
	if a.status != http.StatusCreated {
		t.Fatalf("sign-up %s = %d %s", email, a.status, a.body)
	}
	return login(t, base, email)
}

func login(t *testing.T, base, email string) string {
	t.Helper()
	a := call(t, "POST", base+"/api/login/access-token", body("application/x-www-form-urlencoded",
		url.Values{"username": {email}, "password": {"analytical engine"}}.Encode()))
	if a.status != 200 {
		t.Fatalf("login %s = %d %s", email, a.status, a.body)
	}
	return decode[struct {
		AccessToken string `json:"access_token"`
	}](t, a).AccessToken
}

type notesPage struct {
	Data []struct {
		ID     string `json:"id"`
		UserID string `json:"user_id"`
		Body   string `json:"body"`
	} `json:"data"`
}

func TestHostProgram(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			base, out, stop := start(t, []string{"-addr", "127.0.0.1:0", "-db", st.url(t)}, nil)
			tok := signUpAndLogin(t, base, "ada@example.com", "Ada")
			revoked := login(t, base, "ada@example.com")
			if a := call(t, "POST", base+"/api/logout", bearer(revoked)); a.status != 200 {
				t.Fatalf("logout = %d %s", a.status, a.body)
			}
			notes := func() notesPage {
				t.Helper()
				a := call(t, "GET", base+"/notes", bearer(tok))
				if a.status != 200 {
					t.Fatalf("GET /notes = %d %s", a.status, a.body)
				}
				return decode[notesPage](t, a)
			}
			crossSite := []func(*http.Request){header("Sec-Fetch-Site", "cross-site"), header("Origin", "https://evil.example")}

			for _, tc := range []struct {
				name   string
				method string
				opts   []func(*http.Request)
				status int
			}{
				{"a bearer token reads the notes", "GET", []func(*http.Request){bearer(tok)}, 200},
				{"the session cookie reads the notes", "GET", []func(*http.Request){cookie(tok)}, 200},
				{"no credentials answer 401", "GET", nil, 401},
				{"a revoked token answers 401", "GET", []func(*http.Request){bearer(revoked)}, 401},
				{"a bearer token writes a note", "POST", []func(*http.Request){bearer(tok), body("application/json", `{"body":"by bearer"}`)}, 201},
				{"the cookie writes a note from the same origin", "POST", []func(*http.Request){cookie(tok), header("Sec-Fetch-Site", "same-origin"), body("application/json", `{"body":"by cookie"}`)}, 201},
				{"a revoked token writes nothing", "POST", []func(*http.Request){bearer(revoked), body("application/json", `{"body":"revoked"}`)}, 401},
				{"a cookie POST from another site answers 403", "POST", append([]func(*http.Request){cookie(tok), body("application/json", `{"body":"forged"}`)}, crossSite...), 403},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := call(t, tc.method, base+"/notes", tc.opts...)
					if a.status != tc.status {
						t.Fatalf("%s /notes = %d %s, want %d", tc.method, a.status, a.body, tc.status)
					}
					if a.status != 200 && a.status != 201 && !strings.Contains(a.body, `"detail"`) {
						t.Errorf("the refusal is not keel's JSON error: %s", a.body)
					}
				})
			}
			t.Run("only the accepted writes are there, newest first", func(t *testing.T) {
				var bodies []string
				for _, n := range notes().Data {
					bodies = append(bodies, n.Body)
				}
				if strings.Join(bodies, ",") != "by cookie,by bearer" {
					t.Fatalf("notes %q", bodies)
				}
			})
			t.Run("another user sees only its own notes", func(t *testing.T) {
				other := signUpAndLogin(t, base, "grace@example.com", "")
				a := call(t, "GET", base+"/notes", bearer(other))
				if p := decode[notesPage](t, a); a.status != 200 || len(p.Data) != 0 {
					t.Fatalf("GET /notes as another user = %d %s", a.status, a.body)
				}
			})
			t.Run("the sign-up made the profile", func(t *testing.T) {
				a := call(t, "GET", base+"/profile", bearer(tok))
				p := decode[struct {
					Handle      string `json:"handle"`
					DisplayName string `json:"display_name"`
				}](t, a)
				if a.status != 200 || p.Handle != "ada" || p.DisplayName != "Ada" {
					t.Fatalf("GET /profile = %d %s", a.status, a.body)
				}
			})
			t.Run("a sign-up whose profile is refused leaves no user behind", func(t *testing.T) {
				a := call(t, "POST", base+"/api/users/signup", body("application/json", `{"email":"ada@example.org","password":"analytical engine"}`))
				if a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "the handle ada is taken") {
					t.Fatalf("sign-up with a taken handle = %d %s", a.status, a.body)
				}
				a = call(t, "POST", base+"/api/login/access-token", body("application/x-www-form-urlencoded",
					url.Values{"username": {"ada@example.org"}, "password": {"analytical engine"}}.Encode()))
				if a.status != http.StatusBadRequest {
					t.Fatalf("the refused user can log in: %d %s", a.status, a.body)
				}
			})
			t.Run("a deleted user takes its profile and notes along", func(t *testing.T) {
				tok := signUpAndLogin(t, base, "linus@example.com", "")
				call(t, "POST", base+"/notes", bearer(tok), body("application/json", `{"body":"to go"}`))
				if a := call(t, "DELETE", base+"/api/users/me", bearer(tok)); a.status != 200 {
					t.Fatalf("DELETE /api/users/me = %d %s", a.status, a.body)
				}
				// The handle is free again: the profile went with the user.
				signUpAndLogin(t, base, "linus@example.org", "")
			})
			t.Run("the after hook welcomed each user once the sign-up committed", func(t *testing.T) {
				stop() // Close drains the after hooks
				logs := out.String()
				for _, email := range []string{"ada@example.com", "grace@example.com"} {
					if strings.Count(logs, "msg=welcome user="+email) != 1 {
						t.Errorf("no single welcome for %s:\n%s", email, logs)
					}
				}
				if strings.Contains(logs, "user=ada@example.org") {
					t.Errorf("the refused sign-up was welcomed:\n%s", logs)
				}
			})
		})
	}
}
