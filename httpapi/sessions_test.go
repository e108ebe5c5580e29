package httpapi_test

import (
	"net/url"
	"testing"
)

// loginAs logs in over HTTP with a user agent and returns the token.
func (e *env) loginAs(email, userAgent string) string {
	e.t.Helper()
	res := e.do(req{method: "POST", path: "/login/access-token", header: map[string]string{"User-Agent": userAgent},
		form: url.Values{"username": {email}, "password": {password}}})
	if res.StatusCode != 200 {
		e.t.Fatalf("login %s: %d %s", email, res.StatusCode, res.body)
	}
	return res.json(e.t)["access_token"].(string)
}

// sessions lists the caller's sessions over HTTP.
func (e *env) sessions(token string) []map[string]any {
	e.t.Helper()
	res := e.do(req{method: "GET", path: "/users/me/sessions", bearer: token})
	if res.StatusCode != 200 {
		e.t.Fatalf("GET /users/me/sessions: %d %s", res.StatusCode, res.body)
	}
	var out []map[string]any
	for _, s := range res.json(e.t)["data"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

func TestSessionsOverHTTP(t *testing.T) {
	e := newEnv(t)
	e.account("ada@example.com", false)
	first := e.loginAs("ada@example.com", "Firefox/140.0")
	second := e.loginAs("ada@example.com", "curl/8.0\x7f")

	t.Run("a user lists its sessions with where they came from and which is current", func(t *testing.T) {
		list := e.sessions(second)
		if len(list) != 2 {
			t.Fatalf("sessions %v", list)
		}
		for i, want := range []struct {
			ua      string
			current bool
		}{{"curl/8.0", true}, {"Firefox/140.0", false}} {
			s := list[i]
			if s["user_agent"] != want.ua || s["current"] != want.current || s["client_addr"] != "192.0.2.10" {
				t.Errorf("session %d = %v, want %q current %v from 192.0.2.10", i, s, want.ua, want.current)
			}
			if s["id"] == first || s["id"] == second {
				t.Error("a session's id is its token")
			}
		}
	})
	t.Run("ending the other sessions keeps this one", func(t *testing.T) {
		third := e.login("ada@example.com")
		res := e.do(req{method: "DELETE", path: "/users/me/sessions", bearer: second})
		expect(t, res, 200, "")
		if res.json(t)["message"] != "Ended 2 other sessions" {
			t.Errorf("answer %s", res.body)
		}
		for _, tok := range []string{first, third} {
			expect(t, e.do(req{method: "GET", path: "/users/me", bearer: tok}), 401, "Could not validate credentials")
		}
		expect(t, e.do(req{method: "GET", path: "/users/me", bearer: second}), 200, "")
	})
	t.Run("ending one session by its id", func(t *testing.T) {
		other := e.login("ada@example.com")
		var id string
		for _, s := range e.sessions(second) {
			if s["current"] == false {
				id = s["id"].(string)
			}
		}
		expect(t, e.do(req{method: "DELETE", path: "/users/me/sessions/" + id, bearer: second}), 200, "")
		expect(t, e.do(req{method: "GET", path: "/users/me", bearer: other}), 401, "Could not validate credentials")
		expect(t, e.do(req{method: "DELETE", path: "/users/me/sessions/" + id, bearer: second}), 404, "Session not found")
		expect(t, e.do(req{method: "DELETE", path: "/users/me/sessions/not-a-uuid", bearer: second}), 422, "")
	})
	t.Run("ending the current session by cookie clears the cookie", func(t *testing.T) {
		cookie := e.login("ada@example.com")
		var id string
		for _, s := range e.sessions(cookie) {
			if s["current"] == true {
				id = s["id"].(string)
			}
		}
		res := e.do(req{method: "DELETE", path: "/users/me/sessions/" + id, cookie: cookie, header: map[string]string{"Sec-Fetch-Site": "same-origin"}})
		expect(t, res, 200, "")
		cs := res.Cookies()
		if len(cs) != 1 || cs[0].Name != cookieName || cs[0].MaxAge >= 0 {
			t.Errorf("cookies %v", cs)
		}
		expect(t, e.do(req{method: "GET", path: "/users/me", cookie: cookie}), 401, "Could not validate credentials")
	})
}

func TestAnotherUsersSessionsAreOutOfReach(t *testing.T) {
	e := newEnv(t)
	_, ada := e.userToken("ada@example.com", false)
	bob, bobToken := e.userToken("bob@example.com", false)
	bobsID := e.sessions(bobToken)[0]["id"].(string)

	expect(t, e.do(req{method: "DELETE", path: "/users/me/sessions/" + bobsID, bearer: ada}), 404, "Session not found")
	expect(t, e.do(req{method: "DELETE", path: "/users/" + bob.ID.String() + "/sessions/" + bobsID, bearer: ada}), 403, "The user doesn't have enough privileges")
	expect(t, e.do(req{method: "GET", path: "/users/" + bob.ID.String() + "/sessions", bearer: ada}), 403, "The user doesn't have enough privileges")
	expect(t, e.do(req{method: "GET", path: "/users/me", bearer: bobToken}), 200, "")

	_, root := e.userToken("root@example.com", true)
	res := e.do(req{method: "GET", path: "/users/" + bob.ID.String() + "/sessions", bearer: root})
	expect(t, res, 200, "")
	if list := res.json(t)["data"].([]any); len(list) != 1 || list[0].(map[string]any)["current"] != false {
		t.Fatalf("bob's sessions as root sees them: %s", res.body)
	}
	expect(t, e.do(req{method: "DELETE", path: "/users/" + bob.ID.String() + "/sessions/" + bobsID, bearer: root}), 200, "")
	expect(t, e.do(req{method: "GET", path: "/users/me", bearer: bobToken}), 401, "Could not validate credentials")
	expect(t, e.do(req{method: "GET", path: "/users/0190a0a0-0000-7000-8000-000000000000/sessions", bearer: root}), 404, "User not found")
}
