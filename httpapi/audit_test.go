package httpapi_test

import (
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/internal/keeltest"
)

// events returns the data of an AuditEventsPublic answer.
func events(t *testing.T, res *resp) []map[string]any {
	t.Helper()
	expect(t, res, 200, "")
	var out []map[string]any
	for _, d := range res.json(t)["data"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

func TestAuditRoutes(t *testing.T) {
	e := newEnv(t)
	ada, adaToken := e.userToken("ada@example.com", false)
	bob, bobToken := e.userToken("bob@example.com", false)
	_, rootToken := e.userToken("root@example.com", true)
	// A wrong password for bob, from a client that says who it is.
	e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"bob@example.com"}, "password": {"not bob's password"}},
		header: map[string]string{"User-Agent": "curl/8.5 (attacker)", "X-Request-ID": "req-bob-1"}})

	t.Run("a user reads the events about itself and no one else", func(t *testing.T) {
		got := events(t, e.do(req{method: "GET", path: "/users/me/events", bearer: adaToken}))
		if len(got) != 2 { // signed up, logged in
			t.Fatalf("%d events, want 2: %v", len(got), got)
		}
		for _, ev := range got {
			if ev["user_id"] != ada.ID.String() {
				t.Errorf("ada reads %v", ev)
			}
		}
	})

	t.Run("a user naming another user's id still reads only its own events", func(t *testing.T) {
		got := events(t, e.do(req{method: "GET", path: "/users/me/events?user_id=" + bob.ID.String(), bearer: adaToken}))
		for _, ev := range got {
			if ev["user_id"] != ada.ID.String() {
				t.Errorf("ada reads %v", ev)
			}
		}
	})

	t.Run("a user cannot read the audit log", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/audit/events?user_id=" + bob.ID.String(), bearer: adaToken}), 403, "The user doesn't have enough privileges")
	})

	t.Run("no one reads events anonymously", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/users/me/events"}), 401, "Not authenticated")
		expect(t, e.do(req{method: "GET", path: "/audit/events"}), 401, "Not authenticated")
	})

	t.Run("a user sees its failed login without the reason", func(t *testing.T) {
		got := events(t, e.do(req{method: "GET", path: "/users/me/events?kind=login_failed", bearer: bobToken}))
		if len(got) != 1 {
			t.Fatalf("%d events, want 1: %v", len(got), got)
		}
		detail := got[0]["detail"].(map[string]any)
		if _, ok := detail["reason"]; ok {
			t.Errorf("bob reads the reason: %v", got[0])
		}
	})

	t.Run("a superuser reads a user's failed login with its reason, client and request", func(t *testing.T) {
		got := events(t, e.do(req{method: "GET", path: "/audit/events?kind=login_failed&user_id=" + bob.ID.String(), bearer: rootToken}))
		if len(got) != 1 {
			t.Fatalf("%d events, want 1: %v", len(got), got)
		}
		ev := got[0]
		detail := ev["detail"].(map[string]any)
		if ev["kind"] != "login_failed" || ev["actor_id"] != nil || ev["user_id"] != bob.ID.String() || detail["reason"] != "wrong_password" ||
			ev["client_addr"] != "192.0.2.10" || ev["user_agent"] != "curl/8.5 (attacker)" || ev["request_id"] != "req-bob-1" {
			t.Errorf("event %v", ev)
		}
	})

	t.Run("a superuser pages the log with next_cursor", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/audit/events?limit=2", bearer: rootToken})
		first := events(t, res)
		next, _ := res.json(t)["next_cursor"].(string)
		if len(first) != 2 || next == "" {
			t.Fatalf("first page %v, next %q", first, next)
		}
		second := events(t, e.do(req{method: "GET", path: "/audit/events?limit=2&cursor=" + url.QueryEscape(next), bearer: rootToken}))
		if len(second) == 0 || second[0]["id"] == first[1]["id"] {
			t.Errorf("second page %v repeats or is empty", second)
		}
	})

	for _, tc := range []struct {
		name, query, typ, field string
	}{
		{"an unknown kind is 422", "kind=login_faild", "value_error", "kind"},
		{"a malformed user id is 422", "user_id=bob", "uuid_parsing", "user_id"},
		{"a time that is not RFC 3339 is 422", "since=yesterday", "datetime_parsing", "since"},
		{"a range that ends before it starts is 422", "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "value_error", "until"},
		{"a limit of 0 is 422", "limit=0", "greater_than_equal", "limit"},
		{"a cursor keel did not make is 422", "cursor=nope", "value_error", "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := validationDetail(t, e.do(req{method: "GET", path: "/audit/events?" + tc.query, bearer: rootToken}))
			if !hasEntry(list, tc.typ, "query", tc.field) {
				t.Errorf("422 %v, want %s at query.%s", list, tc.typ, tc.field)
			}
		})
	}
}

// An audit line carries the request id once, when keel's logger has
// LogHandler too.
func TestAuditLinesCarryTheRequestIDOnce(t *testing.T) {
	var logs keeltest.SyncBuffer
	log := slog.New(httpapi.LogHandler(slog.NewJSONHandler(&logs, nil)))
	e := newEnv(t, withKeel(func(c *keel.Config) { c.Logger = log }), withHTTP(func(c *httpapi.Config) { c.Logger = log }))
	e.account("alice@example.com", false)
	res := e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"alice@example.com"}, "password": {password}},
		header: map[string]string{"X-Request-ID": "login-7"}})
	expect(t, res, 200, "")
	found := false
	for l := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(l, `"event":"login_succeeded"`) {
			found = true
			if strings.Count(l, `"request_id"`) != 1 || !strings.Contains(l, `"request_id":"login-7"`) {
				t.Errorf("audit line %s: want request_id login-7 once", l)
			}
		}
	}
	if !found {
		t.Errorf("no audit line:\n%s", logs.String())
	}
}
