package httpapi_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
)

// TestAccountSecurityOverHTTPOnEveryStore runs sessions, API tokens, the
// lockout and the session cap end to end through two APIs on one
// database: what one ends, the other refuses at once.
func TestAccountSecurityOverHTTPOnEveryStore(t *testing.T) {
	for _, kind := range keeltest.StoreKinds {
		t.Run("on "+kind, func(t *testing.T) {
			t.Parallel()
			storeA, storeB := keeltest.TwoProcesses(t, kind)
			cfg := withKeel(func(c *keel.Config) {
				c.MaxSessionsPerUser = 3
				c.RateLimits.LoginPerAccount = keel.Limit{Max: 3, Window: time.Hour}
			})
			a, b := newEnvOn(t, storeA, cfg), newEnvOn(t, storeB, cfg)
			a.account("ada@example.com", false)
			_, root := a.userToken("root@example.com", true)
			login := func(e *env, pass, device, userAgent string) *resp {
				return e.do(req{method: "POST", path: "/login/access-token", device: device, header: map[string]string{"User-Agent": userAgent},
					form: url.Values{"username": {"ada@example.com"}, "password": {pass}}})
			}
			first := login(a, password, "", "first browser")
			expect(t, first, 200, "")
			s1 := first.json(t)["access_token"].(string)
			device := deviceCookie(first).Value
			s2 := b.loginAs("ada@example.com", "second browser")

			t.Run("a session ended through one server is refused by the other at once", func(t *testing.T) {
				list := b.sessions(s2)
				if len(list) != 2 || list[0]["user_agent"] != "second browser" || list[1]["user_agent"] != "first browser" || list[0]["current"] != true {
					t.Fatalf("sessions %v", list)
				}
				expect(t, a.do(req{method: "GET", path: "/users/me", bearer: s1}), 200, "")
				expect(t, b.do(req{method: "DELETE", path: "/users/me/sessions/" + list[1]["id"].(string), bearer: s2}), 200, "")
				expect(t, a.do(req{method: "GET", path: "/users/me", bearer: s1}), 401, "Could not validate credentials")
			})

			t.Run("a read-only API token reads, writes nothing, and dies when revoked", func(t *testing.T) {
				created := a.newAPIToken(s2, keel.ScopeRead)
				token := created["token"].(string)
				expect(t, b.do(req{method: "GET", path: "/items/", bearer: token}), 200, "")
				expect(t, b.do(req{method: "POST", path: "/items/", bearer: token, json: map[string]any{"title": "no"}}), 403, msgReadOnly)
				expect(t, b.do(req{method: "POST", path: "/users/me/tokens", bearer: token,
					json: map[string]any{"name": "more", "scope": "full", "expires_in_days": 1}}), 403, msgTokenCannot)
				expect(t, b.do(req{method: "DELETE", path: "/users/me/tokens/" + created["id"].(string), bearer: s2}), 200, "")
				expect(t, a.do(req{method: "GET", path: "/items/", bearer: token}), 401, "Could not validate credentials")
			})

			t.Run("during a lockout the device cookie of one server's login works on the other", func(t *testing.T) {
				for range 3 {
					expect(t, b.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"ada@example.com"}, "password": {"wrong password!"}}}), 400, "")
				}
				expect(t, a.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"ada@example.com"}, "password": {password}}}), 429, "Too many requests")
				expect(t, login(b, password, device, "first browser"), 200, "")
				u, err := storeA.UserByEmail(t.Context(), "ada@example.com")
				if err != nil {
					t.Fatal(err)
				}
				expect(t, a.do(req{method: "POST", path: "/users/" + u.ID.String() + "/unlock", bearer: root}), 200, "")
				expect(t, login(b, password, "", "third browser"), 200, "")
			})

			t.Run("a login past the cap ends the least recently used session", func(t *testing.T) {
				// ada has s2 and the two lockout logins: three, the cap. None
				// has been used since its login, so s2, the oldest, is the
				// least recently used.
				before := a.sessions(s2)
				if len(before) != 3 || before[2]["current"] != true {
					t.Fatalf("sessions before: %v", before)
				}
				s4 := a.loginAs("ada@example.com", "fourth browser")
				expect(t, b.do(req{method: "GET", path: "/users/me", bearer: s2}), 401, "Could not validate credentials")
				after := b.sessions(s4)
				if len(after) != 3 || after[0]["user_agent"] != "fourth browser" || after[1]["id"] != before[0]["id"] || after[2]["id"] != before[1]["id"] {
					t.Errorf("sessions after: %v", after)
				}
			})
		})
	}
}
