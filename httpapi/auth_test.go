package httpapi_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
)

func TestLogin(t *testing.T) {
	e := newEnv(t)
	e.account("alice@example.com", false)
	inactive := e.account("sleepy@example.com", false)
	if _, err := e.svc.UpdateUser(t.Context(), e.account("root@example.com", true), inactive.ID, keel.UpdateUserInput{IsActive: keel.Some(false)}); err != nil {
		t.Fatal(err)
	}

	t.Run("a correct password gets a bearer token and a session cookie", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {" Alice@Example.com "}, "password": {password}, "grant_type": {"password"}}})
		expect(t, res, 200, "")
		body := res.json(t)
		tok, _ := body["access_token"].(string)
		if len(tok) < 22 || body["token_type"] != "bearer" {
			t.Fatalf("token answer %s", res.body)
		}
		var c *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == cookieName {
				c = ck
			}
		}
		if c == nil || c.Value != tok || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge <= 0 {
			t.Fatalf("session cookie %+v", c)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Fatalf("Cache-Control %q", got)
		}
	})
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		detail string
	}{
		{"a wrong password is refused", url.Values{"username": {"alice@example.com"}, "password": {"wrong password!"}}, 400, "Incorrect email or password"},
		{"an unknown email gets the same answer as a wrong password", url.Values{"username": {"nobody@example.com"}, "password": {"wrong password!"}}, 400, "Incorrect email or password"},
		{"an inactive user is told so only after a correct password", url.Values{"username": {"sleepy@example.com"}, "password": {password}}, 400, "Inactive user"},
		{"an inactive user with a wrong password gets the generic answer", url.Values{"username": {"sleepy@example.com"}, "password": {"wrong password!"}}, 400, "Incorrect email or password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(req{method: "POST", path: "/login/access-token", form: tc.form})
			expect(t, res, tc.status, tc.detail)
			if len(res.Cookies()) != 0 {
				t.Fatal("a failed login set a cookie")
			}
		})
	}
	t.Run("missing form fields answer 422 missing", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"scope": {""}}})
		list := validationDetail(t, res)
		if !hasEntry(list, "missing", "body", "username") || !hasEntry(list, "missing", "body", "password") {
			t.Fatalf("422 list %v", list)
		}
	})
	t.Run("a grant_type other than password answers 422", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"alice@example.com"}, "password": {password}, "grant_type": {"client_credentials"}}})
		if !hasEntry(validationDetail(t, res), "string_pattern_mismatch", "body", "grant_type") {
			t.Fatalf("422 %s", res.body)
		}
	})
	t.Run("a JSON login body answers 415", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/login/access-token", json: map[string]string{"username": "alice@example.com", "password": password}})
		expect(t, res, 415, "Unsupported Media Type")
	})
	t.Run("an oversized form answers 413", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/login/access-token", raw: "username=a&password=" + strings.Repeat("x", 2<<20),
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
		expect(t, res, 413, "Request body too large")
	})
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, withKeel(func(c *keel.Config) {
		c.RateLimits.LoginPerAccount = keel.Limit{Max: 3, Window: time.Hour}
	}))
	e.account("alice@example.com", false)
	bad := url.Values{"username": {"alice@example.com"}, "password": {"not the password"}}
	for i := range 3 {
		expect(t, e.do(req{method: "POST", path: "/login/access-token", form: bad}), 400, "Incorrect email or password")
		_ = i
	}
	t.Run("repeated failed logins answer 429 with Retry-After", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/login/access-token", form: bad})
		expect(t, res, 429, "Too many requests")
		secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
		if err != nil || secs < 1 || secs > 3600 {
			t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
		}
	})
	t.Run("the limit holds for the right password too while it lasts", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"alice@example.com"}, "password": {password}}})
		expect(t, res, 429, "Too many requests")
	})
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	_, tok := e.userToken("alice@example.com", false)
	for _, tc := range []struct {
		name   string
		q      req
		status int
		detail string
	}{
		{"no credentials answer 401 Not authenticated", req{}, 401, "Not authenticated"},
		{"an unknown bearer token answers 401 Could not validate credentials", req{bearer: "bogus-token"}, 401, "Could not validate credentials"},
		{"an unknown cookie answers 401 Could not validate credentials", req{cookie: "bogus-token"}, 401, "Could not validate credentials"},
		{"an overlong token answers 401", req{bearer: strings.Repeat("a", 1000)}, 401, "Could not validate credentials"},
		{"a token in the query is ignored", req{path: "/users/me?token=" + tok + "&access_token=" + tok}, 401, "Not authenticated"},
		{"a non-bearer Authorization header is not credentials", req{header: map[string]string{"Authorization": "Basic " + tok}}, 401, "Not authenticated"},
		{"a valid bearer token is accepted", req{bearer: tok}, 200, ""},
		{"a valid cookie is accepted", req{cookie: tok}, 200, ""},
		{"the bearer token wins over a valid cookie", req{bearer: "bogus-token", cookie: tok}, 401, "Could not validate credentials"},
		{"a valid bearer token wins over a bad cookie", req{bearer: tok, cookie: "bogus"}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.method = "GET"
			if q.path == "" {
				q.path = "/users/me"
			}
			res := e.do(q)
			expect(t, res, tc.status, tc.detail)
			if tc.status == 401 && res.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Fatalf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
			}
			if (q.bearer != "" || q.cookie != "") && res.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("Cache-Control %q on an authenticated answer", res.Header.Get("Cache-Control"))
			}
		})
	}
	t.Run("a deactivated user answers 400 Inactive user", func(t *testing.T) {
		u, tok := e.userToken("bob@example.com", false)
		// Deactivate straight in the store, so the session survives.
		u.IsActive = false
		if err := e.store.UpdateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		expect(t, e.do(req{method: "GET", path: "/users/me", bearer: tok}), 400, "Inactive user")
	})
	t.Run("a failing store answers 503, never anonymous", func(t *testing.T) {
		e := newEnv(t)
		_, tok := e.userToken("carol@example.com", false)
		e.store.Close()
		res := e.do(req{method: "GET", path: "/users/me", bearer: tok})
		expect(t, res, 503, "Service Unavailable")
	})
}

func TestTestToken(t *testing.T) {
	e := newEnv(t)
	u, tok := e.userToken("alice@example.com", false)
	res := e.do(req{method: "POST", path: "/login/test-token", bearer: tok})
	expect(t, res, 200, "")
	if res.json(t)["id"] != u.ID.String() {
		t.Fatalf("test-token answered %s", res.body)
	}
	expect(t, e.do(req{method: "POST", path: "/login/test-token"}), 401, "Not authenticated")
}

func TestSessionFixation(t *testing.T) {
	e := newEnv(t)
	e.account("alice@example.com", false)
	planted := "attacker-chosen-session-token-000000000000"
	res := e.do(req{method: "POST", path: "/login/access-token", cookie: planted,
		form: url.Values{"username": {"alice@example.com"}, "password": {password}}})
	expect(t, res, 200, "")
	tok, _ := res.json(t)["access_token"].(string)
	t.Run("login issues a new token, not the pre-existing cookie", func(t *testing.T) {
		if tok == planted {
			t.Fatal("the planted token was promoted")
		}
		for _, c := range res.Cookies() {
			if c.Name == cookieName && c.Value != tok {
				t.Fatalf("cookie %q is not the new token", c.Value)
			}
		}
	})
	t.Run("the planted cookie is still not a session", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/users/me", cookie: planted}), 401, "Could not validate credentials")
	})
	t.Run("every login issues a different token", func(t *testing.T) {
		if again := e.login("alice@example.com"); again == tok {
			t.Fatal("two logins got the same token")
		}
	})
}

func TestLogout(t *testing.T) {
	for _, via := range []string{"bearer", "cookie"} {
		t.Run("logging out by "+via+" ends the session for both transports", func(t *testing.T) {
			e := newEnv(t)
			_, tok := e.userToken("alice@example.com", false)
			q := req{method: "POST", path: "/logout"}
			if via == "bearer" {
				q.bearer = tok
			} else {
				q.cookie = tok
				q.header = map[string]string{"Sec-Fetch-Site": "same-origin"}
			}
			res := e.do(q)
			expect(t, res, 200, "")
			if res.json(t)["message"] != "Logged out" {
				t.Fatalf("logout answered %s", res.body)
			}
			cleared := false
			for _, c := range res.Cookies() {
				cleared = cleared || (c.Name == cookieName && c.MaxAge < 0)
			}
			if !cleared {
				t.Fatal("logout did not clear the cookie")
			}
			expect(t, e.do(req{method: "GET", path: "/users/me", bearer: tok}), 401, "Could not validate credentials")
			expect(t, e.do(req{method: "GET", path: "/users/me", cookie: tok}), 401, "Could not validate credentials")
		})
	}
	t.Run("logging out without credentials answers 401", func(t *testing.T) {
		e := newEnv(t)
		expect(t, e.do(req{method: "POST", path: "/logout"}), 401, "Not authenticated")
	})
}

func TestCrossOriginProtection(t *testing.T) {
	e := newEnv(t, withHTTP(func(c *httpapi.Config) { c.CORSOrigins = []string{"https://app.example.com"} }))
	_, tok := e.userToken("alice@example.com", false)
	item := map[string]string{"title": "x"}
	for _, tc := range []struct {
		name   string
		q      req
		status int
	}{
		{"a cookie POST from another site is refused", req{cookie: tok, header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}}, 403},
		{"a cookie POST with only a foreign Origin is refused", req{cookie: tok, header: map[string]string{"Origin": "https://evil.example"}}, 403},
		{"a bearer POST from another site works", req{bearer: tok, header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}}, 201},
		{"a cookie POST from the same origin works", req{cookie: tok, header: map[string]string{"Sec-Fetch-Site": "same-origin"}}, 201},
		{"a cookie POST from a configured frontend origin works", req{cookie: tok, header: map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://app.example.com"}}, 201},
		{"a cookie POST from a non-browser client works", req{cookie: tok}, 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.method, q.path, q.json = "POST", "/items/", item
			res := e.do(q)
			expect(t, res, tc.status, "")
			if tc.status == 403 && res.detail(t) != "Cross-origin request refused" {
				t.Fatalf("detail %s", res.body)
			}
		})
	}
	t.Run("a cookie GET from another site is allowed (safe method)", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/users/me", cookie: tok, header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
		expect(t, res, 200, "")
	})
}

func TestPasswordRecovery(t *testing.T) {
	const msg = "If that email is registered, we sent a password recovery link"
	e := newEnv(t)
	e.account("alice@example.com", false)
	for _, tc := range []struct{ name, email string }{
		{"a registered email gets the fixed message", "alice@example.com"},
		{"an unknown email gets the same message", "nobody@example.com"},
		{"a malformed email gets the same message", "not-an-email"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(req{method: "POST", path: "/password-recovery/" + url.PathEscape(tc.email)})
			expect(t, res, 200, "")
			if res.json(t)["message"] != msg {
				t.Fatalf("answer %s", res.body)
			}
		})
	}
	t.Run("the registered email got a reset token", func(t *testing.T) {
		m := e.mail.WaitReset(t)
		if got := e.mail.Resets(); len(got) != 1 || m.To != "alice@example.com" || m.Token == "" {
			t.Fatalf("mails %+v", got)
		}
	})
	t.Run("without a mailer the answer is still 200 and the failure is logged", func(t *testing.T) {
		e := newEnv(t, withKeel(func(c *keel.Config) { c.Mailer = nil }))
		e.account("alice@example.com", false)
		res := e.do(req{method: "POST", path: "/password-recovery/alice@example.com"})
		expect(t, res, 200, "")
		if !strings.Contains(e.logs.String(), "password recovery failed") {
			t.Fatalf("no log line: %s", e.logs)
		}
	})
	t.Run("with the store down the answer is 503, for any email, and nothing is sent", func(t *testing.T) {
		e := newEnv(t)
		e.account("alice@example.com", false)
		e.store.Close()
		for _, email := range []string{"alice@example.com", "nobody@example.com"} {
			expect(t, e.do(req{method: "POST", path: "/password-recovery/" + email}), 503, "Service Unavailable")
		}
		if err := e.svc.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(e.mail.Resets()); n != 0 {
			t.Fatalf("%d mails sent", n)
		}
	})
	t.Run("too many requests from one address answer 429 with Retry-After", func(t *testing.T) {
		e := newEnv(t, withKeel(func(c *keel.Config) { c.RateLimits.RecoveryPerAddress = keel.Limit{Max: 2, Window: time.Hour} }))
		for range 2 {
			expect(t, e.do(req{method: "POST", path: "/password-recovery/x@example.com"}), 200, "")
		}
		res := e.do(req{method: "POST", path: "/password-recovery/x@example.com"})
		expect(t, res, 429, "Too many requests")
		if res.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
	})
}

func TestResetPassword(t *testing.T) {
	e := newEnv(t)
	u, tok := e.userToken("alice@example.com", false)
	expect(t, e.do(req{method: "POST", path: "/password-recovery/alice@example.com"}), 200, "")
	reset := e.mail.WaitReset(t).Token

	t.Run("missing fields answer 422", func(t *testing.T) {
		list := validationDetail(t, e.do(req{method: "POST", path: "/reset-password/", json: map[string]any{}}))
		if !hasEntry(list, "missing", "body", "token") || !hasEntry(list, "missing", "body", "new_password") {
			t.Fatalf("list %v", list)
		}
	})
	t.Run("a short new password answers 422", func(t *testing.T) {
		list := validationDetail(t, e.do(req{method: "POST", path: "/reset-password/", json: map[string]any{"token": reset, "new_password": "short"}}))
		if !hasEntry(list, "string_too_short", "body", "new_password") {
			t.Fatalf("list %v", list)
		}
	})
	t.Run("an unknown token answers 400 Invalid token", func(t *testing.T) {
		expect(t, e.do(req{method: "POST", path: "/reset-password/", json: map[string]any{"token": "nope", "new_password": "a brand new password"}}), 400, "Invalid token")
	})
	t.Run("the emailed token sets the password and ends every session", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/reset-password", json: map[string]any{"token": reset, "new_password": "a brand new password"}})
		expect(t, res, 200, "")
		if res.json(t)["message"] != "Password updated successfully" {
			t.Fatalf("answer %s", res.body)
		}
		expect(t, e.do(req{method: "GET", path: "/users/me", bearer: tok}), 401, "Could not validate credentials")
		if _, err := e.svc.Login(t.Context(), keel.LoginInput{Email: u.Email, Password: "a brand new password"}); err != nil {
			t.Fatalf("the new password does not work: %v", err)
		}
	})
	t.Run("the token works only once", func(t *testing.T) {
		expect(t, e.do(req{method: "POST", path: "/reset-password/", json: map[string]any{"token": reset, "new_password": "another new password"}}), 400, "Invalid token")
	})
}

func TestCookieLifecycle(t *testing.T) {
	t.Run("a stale cookie is cleared", func(t *testing.T) {
		e := newEnv(t)
		res := e.do(req{method: "GET", path: "/users/me", cookie: "stale-token"})
		expect(t, res, 401, "Could not validate credentials")
		cleared := false
		for _, c := range res.Cookies() {
			cleared = cleared || (c.Name == cookieName && c.MaxAge < 0)
		}
		if !cleared {
			t.Fatal("the stale cookie was not cleared")
		}
	})
	t.Run("with an idle timeout a cookie request renews the cookie", func(t *testing.T) {
		e := newEnv(t, withKeel(func(c *keel.Config) { c.IdleTimeout = time.Hour }))
		_, tok := e.userToken("alice@example.com", false)
		res := e.do(req{method: "GET", path: "/users/me", cookie: tok})
		expect(t, res, 200, "")
		var c *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == cookieName {
				c = ck
			}
		}
		if c == nil || c.Value != tok || c.MaxAge <= 0 || c.MaxAge > 3600 {
			t.Fatalf("renewed cookie %+v", c)
		}
	})
	t.Run("the cookie names can be configured", func(t *testing.T) {
		e := newEnv(t, withHTTP(func(c *httpapi.Config) { c.CookieName, c.DeviceCookieName = "host_keel", "host_device" }))
		e.account("alice@example.com", false)
		res := e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"alice@example.com"}, "password": {password}}})
		expect(t, res, 200, "")
		if cs := res.Cookies(); len(cs) != 2 || cs[0].Name != "host_keel" || cs[1].Name != "host_device" {
			t.Fatalf("cookies %v", cs)
		}
	})
}
