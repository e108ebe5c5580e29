package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
)

// deviceCookie returns the device cookie an answer sets, or nil.
func deviceCookie(res *resp) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == httpapi.DefaultDeviceCookieName {
			return c
		}
	}
	return nil
}

func TestALoginSetsADeviceCookie(t *testing.T) {
	e := newEnv(t)
	e.account("ada@example.com", false)
	res := e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"ada@example.com"}, "password": {password}}})
	expect(t, res, 200, "")
	c := deviceCookie(res)
	if c == nil || c.Value == "" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge < 300*24*3600 {
		t.Fatalf("device cookie %+v", c)
	}
	if _, ok := res.json(t)["device_token"]; ok {
		t.Error("the login's body shows the device token")
	}
	res = e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"ada@example.com"}, "password": {"wrong password!"}}})
	expect(t, res, 400, "Incorrect email or password")
	if deviceCookie(res) != nil {
		t.Error("a failed login set a device cookie")
	}
}

func TestTheLockoutSparesTheOwnersBrowser(t *testing.T) {
	e := newEnv(t, withKeel(func(c *keel.Config) {
		c.RateLimits.LoginPerAccount = keel.Limit{Max: 3, Window: time.Hour}
	}))
	ada := e.account("ada@example.com", false)
	_, root := e.userToken("root@example.com", true)
	attempt := func(pass, device string) *resp {
		return e.do(req{method: "POST", path: "/login/access-token", device: device, form: url.Values{"username": {"ada@example.com"}, "password": {pass}}})
	}
	first := attempt(password, "")
	expect(t, first, 200, "")
	device := deviceCookie(first).Value
	// Strangers guess until the account is locked out.
	for range 3 {
		expect(t, attempt("wrong password!", ""), 400, "Incorrect email or password")
	}

	t.Run("a client without the device cookie is refused, right password or wrong", func(t *testing.T) {
		for _, p := range []string{password, "wrong password!"} {
			res := attempt(p, "")
			expect(t, res, 429, "Too many requests")
			if res.Header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
		}
	})
	t.Run("a forged device cookie is refused", func(t *testing.T) {
		forged := device[:len(device)-2] + "AA"
		if forged == device {
			forged = device[:len(device)-2] + "BB"
		}
		expect(t, attempt(password, forged), 429, "Too many requests")
	})
	t.Run("the owner's browser logs in with its device cookie", func(t *testing.T) {
		res := attempt(password, device)
		expect(t, res, 200, "")
		if c := deviceCookie(res); c == nil || c.Value == device {
			t.Errorf("the login did not renew the device cookie: %+v", c)
		}
	})
	t.Run("another account's device cookie is refused", func(t *testing.T) {
		e.account("bob@example.com", false)
		res := e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"bob@example.com"}, "password": {password}}})
		expect(t, res, 200, "")
		expect(t, attempt(password, deviceCookie(res).Value), 429, "Too many requests")
	})
	t.Run("a superuser lifts the lockout", func(t *testing.T) {
		_, other := e.userToken("carol@example.com", false)
		expect(t, e.do(req{method: "POST", path: "/users/" + ada.ID.String() + "/unlock", bearer: other}), 403, "The user doesn't have enough privileges")
		expect(t, attempt(password, ""), 429, "Too many requests")
		res := e.do(req{method: "POST", path: "/users/" + ada.ID.String() + "/unlock", bearer: root})
		expect(t, res, 200, "")
		if res.json(t)["message"] != "Account unlocked" {
			t.Errorf("answer %s", res.body)
		}
		expect(t, attempt(password, ""), 200, "")
		expect(t, e.do(req{method: "POST", path: "/users/0190a0a0-0000-7000-8000-000000000000/unlock", bearer: root}), 404, "User not found")
	})
}
