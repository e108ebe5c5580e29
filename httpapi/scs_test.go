package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
)

// A host that wraps the handler in its own scs LoadAndSave keeps its own
// session and keel keeps its own: they share neither cookie nor store.
func TestCoexistsWithHostScs(t *testing.T) {
	e := newEnv(t)
	e.account("alice@example.com", false)
	host := scs.New()
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", e.h))
	mux.HandleFunc("GET /host/visit", func(w http.ResponseWriter, r *http.Request) {
		host.Put(r.Context(), "visits", host.GetInt(r.Context(), "visits")+1)
	})
	h := host.LoadAndSave(mux)

	rec := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/api/login/access-token", strings.NewReader(url.Values{"username": {"alice@example.com"}, "password": {password}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(rec, r)
	if rec.Code != 200 {
		t.Fatalf("login under the host's scs: %d %s", rec.Code, rec.Body)
	}
	var keelCookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == cookieName {
			keelCookie = c
		}
		if c.Name == host.Cookie.Name {
			t.Fatal("the login touched the host's scs session")
		}
	}
	if keelCookie == nil {
		t.Fatal("no keel cookie")
	}

	t.Run("the host's session works beside keel's", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/host/visit", nil))
		var hostCookie *http.Cookie
		for _, c := range rec.Result().Cookies() {
			if c.Name == host.Cookie.Name {
				hostCookie = c
			}
		}
		if hostCookie == nil || hostCookie.Value == keelCookie.Value {
			t.Fatalf("host cookie %+v", hostCookie)
		}
		t.Run("and keel's cookie still authenticates with both present", func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/api/users/me", nil)
			r.AddCookie(keelCookie)
			r.AddCookie(hostCookie)
			h.ServeHTTP(rec, r)
			if rec.Code != 200 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
		t.Run("and the host's token is not a keel session", func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/api/users/me", nil)
			r.Header.Set("Authorization", "Bearer "+hostCookie.Value)
			h.ServeHTTP(rec, r)
			if rec.Code != 401 {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
		})
	})
}
