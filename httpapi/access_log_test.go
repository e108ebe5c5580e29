package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
)

func TestAccessLogNeverHoldsSecrets(t *testing.T) {
	e := newEnv(t)
	_, tok := e.userToken("alice@example.com", false)
	e.do(req{method: "GET", path: "/users/me?token=" + tok, bearer: tok, cookie: tok})
	e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"alice@example.com"}, "password": {"wrong-secret-pw"}}})
	e.do(req{method: "PATCH", path: "/users/me/password", bearer: tok, json: map[string]string{"current_password": password, "new_password": "another secret pw"}})
	e.do(req{method: "POST", path: "/password-recovery/private.person@example.com"})
	e.noValidate = true
	e.do(req{method: "GET", path: "/no/such/route"})
	e.noValidate = false
	l := e.logs.String()
	for _, secret := range []string{tok, password, "wrong-secret-pw", "another secret pw", "Bearer", "private.person"} {
		if strings.Contains(l, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, l)
		}
	}
	if !strings.Contains(l, `route="GET /users/me"`) || !strings.Contains(l, `route="POST /password-recovery/{email}"`) ||
		!strings.Contains(l, "path=/no/such/route") || !strings.Contains(l, "status=200") || !strings.Contains(l, "request_id=") {
		t.Fatalf("access log lacks fields:\n%s", l)
	}
}
