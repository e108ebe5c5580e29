package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
)

const (
	msgReadOnly      = "This API token is read-only"
	msgTokenCannot   = "API tokens cannot do this: log in with a password"
	msgTokenNotFound = "API token not found"
)

// newAPIToken makes a personal API token over HTTP with the session token
// and returns the answer's fields.
func (e *env) newAPIToken(session string, scope keel.Scope) map[string]any {
	e.t.Helper()
	res := e.do(req{method: "POST", path: "/users/me/tokens", bearer: session,
		json: map[string]any{"name": "ci " + string(scope), "scope": scope, "expires_in_days": 30}})
	if res.StatusCode != 201 {
		e.t.Fatalf("creating a token: %d %s", res.StatusCode, res.body)
	}
	return res.json(e.t)
}

func TestAPITokensOverHTTP(t *testing.T) {
	e := newEnv(t)
	u, session := e.userToken("ada@example.com", false)

	created := e.newAPIToken(session, keel.ScopeFull)
	token, _ := created["token"].(string)
	if !strings.HasPrefix(token, keel.APITokenPrefix) || created["scope"] != "full" || created["name"] != "ci full" {
		t.Fatalf("created %v", created)
	}
	t.Run("the token authenticates as a bearer token", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/users/me", bearer: token})
		expect(t, res, 200, "")
		if res.json(t)["id"] != u.ID.String() || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET /users/me with the token: %s", res.body)
		}
		expect(t, e.do(req{method: "POST", path: "/items/", bearer: token, json: map[string]any{"title": "by token"}}), 201, "")
	})
	t.Run("the list shows its use and never the token", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/users/me/tokens", bearer: session})
		expect(t, res, 200, "")
		if strings.Contains(string(res.body), token[len(keel.APITokenPrefix):]) || res.json(t)["count"] != float64(1) {
			t.Fatalf("list %s", res.body)
		}
		tok := res.json(t)["data"].([]any)[0].(map[string]any)
		if tok["id"] != created["id"] || tok["last_used_at"] == nil {
			t.Errorf("listed %v", tok)
		}
	})
	t.Run("a token in the session cookie is refused", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/users/me", cookie: token})
		expect(t, res, 401, "Could not validate credentials")
	})
	t.Run("a token in the URL is ignored", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/users/me?access_token=" + url.QueryEscape(token)}), 401, "Not authenticated")
	})
	t.Run("a revoked token stops working at once", func(t *testing.T) {
		expect(t, e.do(req{method: "DELETE", path: "/users/me/tokens/" + created["id"].(string), bearer: session}), 200, "")
		expect(t, e.do(req{method: "GET", path: "/users/me", bearer: token}), 401, "Could not validate credentials")
		expect(t, e.do(req{method: "DELETE", path: "/users/me/tokens/" + created["id"].(string), bearer: session}), 404, msgTokenNotFound)
	})
	t.Run("a bad request names its fields", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/users/me/tokens", bearer: session, json: map[string]any{"name": "", "scope": "admin", "expires_in_days": 400}})
		list := validationDetail(t, res)
		for _, want := range []struct{ typ, field string }{{"string_too_short", "name"}, {"value_error", "scope"}, {"less_than_equal", "expires_in_days"}} {
			if !hasEntry(list, want.typ, "body", want.field) {
				t.Errorf("no %s for %s in %v", want.typ, want.field, list)
			}
		}
		res = e.do(req{method: "POST", path: "/users/me/tokens", bearer: session, json: map[string]any{"name": "x"}})
		list = validationDetail(t, res)
		if !hasEntry(list, "missing", "body", "scope") || !hasEntry(list, "missing", "body", "expires_in_days") {
			t.Errorf("missing fields not reported: %v", list)
		}
	})
}

func TestAnExpiredAPITokenIsRefused(t *testing.T) {
	clock := time.Now()
	e := newEnv(t, withKeel(func(c *keel.Config) { c.Now = func() time.Time { return clock } }))
	_, session := e.userToken("ada@example.com", false)
	res := e.do(req{method: "POST", path: "/users/me/tokens", bearer: session, json: map[string]any{"name": "day", "scope": "read", "expires_in_days": 1}})
	expect(t, res, 201, "")
	token := res.json(t)["token"].(string)
	expect(t, e.do(req{method: "GET", path: "/users/me", bearer: token}), 200, "")
	clock = clock.Add(24 * time.Hour)
	expect(t, e.do(req{method: "GET", path: "/users/me", bearer: token}), 401, "Could not validate credentials")
}

// TestAPITokensCannotDoWhatTheirScopeForbids tries every route that changes
// something with a superuser's read-only token, and every route that
// manages credentials with its full token: each is refused, and nothing
// changes. A route added to the table without a request here fails the
// test.
func TestAPITokensCannotDoWhatTheirScopeForbids(t *testing.T) {
	e := newEnv(t, withHTTP(func(c *httpapi.Config) { c.Development = true }))
	_, rootSession := e.userToken("root@example.com", true)
	bob, bobSession := e.userToken("bob@example.com", false)
	readOnly := e.newAPIToken(rootSession, keel.ScopeRead)["token"].(string)
	full := e.newAPIToken(rootSession, keel.ScopeFull)["token"].(string)
	bobsToken := e.newAPIToken(bobSession, keel.ScopeRead)
	item := e.do(req{method: "POST", path: "/items/", bearer: rootSession, json: map[string]any{"title": "kept"}}).json(t)
	bobSessions := e.do(req{method: "GET", path: "/users/me/sessions", bearer: bobSession}).json(t)
	bobSessionID := bobSessions["data"].([]any)[0].(map[string]any)["id"].(string)

	ids := strings.NewReplacer("{user_id}", bob.ID.String(), "{id}", item["id"].(string), "{session_id}", bobSessionID,
		"{token_id}", bobsToken["id"].(string))
	// A valid request to every route that changes something, so that only
	// the token's scope can refuse it.
	bodies := map[string]req{
		"POST /logout":                                  {},
		"POST /users/":                                  {json: map[string]any{"email": "new@example.com", "password": password}},
		"PATCH /users/me":                               {json: map[string]any{"full_name": "Root"}},
		"DELETE /users/me":                              {},
		"PATCH /users/me/password":                      {json: map[string]any{"current_password": password, "new_password": "a brand new passphrase"}},
		"PATCH /users/{user_id}":                        {json: map[string]any{"full_name": "Bob"}},
		"DELETE /users/{user_id}":                       {},
		"DELETE /users/me/sessions":                     {},
		"DELETE /users/me/sessions/{session_id}":        {},
		"DELETE /users/{user_id}/sessions/{session_id}": {},
		"POST /users/me/tokens":                         {json: map[string]any{"name": "more", "scope": "full", "expires_in_days": 1}},
		"DELETE /users/me/tokens/{token_id}":            {},
		"DELETE /users/{user_id}/tokens/{token_id}":     {},
		"POST /users/{user_id}/unlock":                  {},
		"POST /items/":                                  {json: map[string]any{"title": "new"}},
		"PUT /items/{id}":                               {json: map[string]any{"title": "changed"}},
		"DELETE /items/{id}":                            {},
		"POST /utils/test-email/":                       {path: "/utils/test-email/?email_to=x@example.com"},
		"DELETE /users/me/identities/{id}":              {},
		"POST /users/me/passkeys/options":               {},
		"POST /users/me/passkeys":                       {json: map[string]any{"ceremony": "c", "name": "key", "credential": map[string]any{}}},
		"DELETE /users/me/passkeys/{id}":                {},
	}
	// Routes that take no credentials, and the one that changes nothing.
	skip := map[string]bool{"POST /login/test-token": true}
	// What a full token may still not do: manage credentials.
	credentials := map[string]bool{
		"POST /logout": true, "DELETE /users/me": true, "PATCH /users/me/password": true, "DELETE /users/{user_id}": true,
		"DELETE /users/me/sessions": true, "DELETE /users/me/sessions/{session_id}": true, "DELETE /users/{user_id}/sessions/{session_id}": true,
		"POST /users/me/tokens": true, "DELETE /users/me/tokens/{token_id}": true, "DELETE /users/{user_id}/tokens/{token_id}": true,
		"DELETE /users/me/identities/{id}": true, "POST /users/me/passkeys/options": true, "POST /users/me/passkeys": true,
		"DELETE /users/me/passkeys/{id}": true,
	}
	extra := map[string]req{
		"PATCH /users/me with an email":          {method: "PATCH", path: "/users/me", json: map[string]any{"email": "root2@example.com"}},
		"PATCH /users/{user_id} with an email":   {method: "PATCH", path: "/users/{user_id}", json: map[string]any{"email": "bob2@example.com"}},
		"PATCH /users/{user_id} with a password": {method: "PATCH", path: "/users/{user_id}", json: map[string]any{"password": "a brand new passphrase"}},
		"PATCH /users/{user_id} deactivating":    {method: "PATCH", path: "/users/{user_id}", json: map[string]any{"is_active": false}},
	}
	try := func(t *testing.T, name string, q req, token string, details ...string) {
		t.Helper()
		q.bearer = token
		q.path = ids.Replace(q.path)
		res := e.do(q)
		if res.StatusCode != 403 || !strings.Contains(strings.Join(details, "\n"), res.detail(t)) {
			t.Errorf("%s with the token: %d %s, want 403 %q", name, res.StatusCode, res.body, details)
		}
	}
	for _, rt := range httpapi.Routes(e.svc, httpapi.Config{Development: true}) {
		name := rt.Method + " " + rt.Path
		if rt.Public || rt.Method == "GET" || skip[name] {
			continue
		}
		q, ok := bodies[name]
		if !ok {
			t.Errorf("%s changes something and has no request in this test", name)
			continue
		}
		q.method = rt.Method
		if q.path == "" {
			q.path = rt.Path
		}
		t.Run("a read-only token is refused "+name, func(t *testing.T) {
			try(t, name, q, readOnly, msgReadOnly, msgTokenCannot)
		})
		if credentials[name] {
			t.Run("a full token is refused "+name, func(t *testing.T) { try(t, name, q, full, msgTokenCannot) })
		}
	}
	for name, q := range extra {
		t.Run("a full token is refused "+name, func(t *testing.T) { try(t, name, q, full, msgTokenCannot) })
	}

	t.Run("and nothing changed", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/items/" + item["id"].(string), bearer: rootSession})
		expect(t, res, 200, "")
		if res.json(t)["title"] != "kept" {
			t.Errorf("the item is %s", res.body)
		}
		res = e.do(req{method: "GET", path: "/users/" + bob.ID.String(), bearer: rootSession})
		expect(t, res, 200, "")
		if got := res.json(t); got["full_name"] != nil || got["email"] != "bob@example.com" || got["is_active"] != true {
			t.Errorf("bob is %s", res.body)
		}
		expect(t, e.do(req{method: "GET", path: "/users/me", bearer: bobSession}), 200, "")
		expect(t, e.do(req{method: "GET", path: "/users/me", bearer: bobsToken["token"].(string)}), 200, "")
		if n := e.do(req{method: "GET", path: "/users/me/tokens", bearer: rootSession}).json(t)["count"]; n != float64(2) {
			t.Errorf("root has %v tokens, want 2", n)
		}
		expect(t, e.do(req{method: "GET", path: "/items/", bearer: readOnly}), 200, "")
		if n := e.do(req{method: "GET", path: "/items/", bearer: rootSession}).json(t)["count"]; n != float64(1) {
			t.Errorf("root has %v items, want 1", n)
		}
	})
	t.Run("a full token does what its scope allows", func(t *testing.T) {
		expect(t, e.do(req{method: "PUT", path: "/items/" + item["id"].(string), bearer: full, json: map[string]any{"title": "changed"}}), 200, "")
		expect(t, e.do(req{method: "POST", path: "/users/" + bob.ID.String() + "/unlock", bearer: full}), 200, "")
	})
}

func TestAnotherUsersAPITokenCannotBeRevoked(t *testing.T) {
	e := newEnv(t)
	_, ada := e.userToken("ada@example.com", false)
	bob, bobSession := e.userToken("bob@example.com", false)
	bobs := e.newAPIToken(bobSession, keel.ScopeFull)
	id := bobs["id"].(string)
	expect(t, e.do(req{method: "DELETE", path: "/users/me/tokens/" + id, bearer: ada}), 404, msgTokenNotFound)
	expect(t, e.do(req{method: "DELETE", path: "/users/" + bob.ID.String() + "/tokens/" + id, bearer: ada}), 403, "The user doesn't have enough privileges")
	expect(t, e.do(req{method: "GET", path: "/users/" + bob.ID.String() + "/tokens", bearer: ada}), 403, "The user doesn't have enough privileges")
	expect(t, e.do(req{method: "GET", path: "/users/me", bearer: bobs["token"].(string)}), 200, "")

	_, root := e.userToken("root@example.com", true)
	res := e.do(req{method: "GET", path: "/users/" + bob.ID.String() + "/tokens", bearer: root})
	expect(t, res, 200, "")
	if res.json(t)["count"] != float64(1) {
		t.Fatalf("bob's tokens: %s", res.body)
	}
	expect(t, e.do(req{method: "DELETE", path: "/users/" + bob.ID.String() + "/tokens/" + id, bearer: root}), 200, "")
	expect(t, e.do(req{method: "GET", path: "/users/me", bearer: bobs["token"].(string)}), 401, "Could not validate credentials")
}
