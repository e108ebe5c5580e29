package httpapi_test

import (
	"github.com/keel-dev/keel"
	"testing"
)

func TestUtils(t *testing.T) {
	e := newEnv(t)
	_, su := e.userToken("root@example.com", true)
	t.Run("the health check answers true in both path forms", func(t *testing.T) {
		for _, p := range []string{"/utils/health-check/", "/utils/health-check"} {
			res := e.do(req{method: "GET", path: p})
			expect(t, res, 200, "")
			if string(res.body) != "true" {
				t.Fatalf("%s answered %s", p, res.body)
			}
		}
	})
	t.Run("ready answers 200 while the store answers", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/utils/ready"}), 200, "")
	})
	t.Run("a superuser sends a test email", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/utils/test-email/?email_to=Someone@example.com", bearer: su})
		expect(t, res, 201, "")
		if res.json(t)["message"] != "Test email sent" {
			t.Fatalf("answer %s", res.body)
		}
		if got := e.mail.Tests(); len(got) != 1 || got[0] != "someone@example.com" {
			t.Fatalf("mails %v", got)
		}
	})
	t.Run("test-email without email_to answers 422 at the query", func(t *testing.T) {
		if list := validationDetail(t, e.do(req{method: "POST", path: "/utils/test-email/", bearer: su})); !hasEntry(list, "missing", "query", "email_to") {
			t.Fatalf("list %v", list)
		}
	})
	t.Run("test-email with a bad address answers 422 at the query", func(t *testing.T) {
		if list := validationDetail(t, e.do(req{method: "POST", path: "/utils/test-email?email_to=nope", bearer: su})); !hasEntry(list, "value_error", "query", "email_to") {
			t.Fatalf("list %v", list)
		}
	})
	t.Run("test-email without credentials answers 401", func(t *testing.T) {
		expect(t, e.do(req{method: "POST", path: "/utils/test-email/?email_to=a@example.com"}), 401, "Not authenticated")
	})
	t.Run("ready answers 503 once the store is down", func(t *testing.T) {
		e.store.Close()
		expect(t, e.do(req{method: "GET", path: "/utils/ready"}), 503, "Service Unavailable")
	})
}

func TestTestEmailWithoutMailer(t *testing.T) {
	e := newEnv(t, withKeel(func(c *keel.Config) { c.Mailer = nil }))
	_, su := e.userToken("root@example.com", true)
	expect(t, e.do(req{method: "POST", path: "/utils/test-email/?email_to=a@example.com", bearer: su}), 503, "Service Unavailable")
}
