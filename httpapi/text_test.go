package httpapi_test

import (
	"net/url"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
)

// TestTextFieldsOnTheWire sends NUL, control characters and text that is
// not Unicode in bodies, queries and paths, on every store: a 422 names
// the field and nothing is stored; nothing answers 500.
func TestTextFieldsOnTheWire(t *testing.T) {
	for _, tc := range []struct {
		name  string
		req   func(tok string) req
		typ   string
		loc   []any
		input any // the echoed input; nil for a password
	}{
		{"a title of NULs", func(tok string) req {
			return req{method: "POST", path: "/items/", bearer: tok, raw: `{"title":"\u0000\u0000\u0000"}`, header: jsonCT}
		}, "value_error", []any{"body", "title"}, "\x00\x00\x00"},
		{"a title with a newline", func(tok string) req {
			return req{method: "POST", path: "/items/", bearer: tok, json: map[string]any{"title": "a\nb"}}
		}, "value_error", []any{"body", "title"}, "a\nb"},
		{"a title with a byte that is not UTF-8", func(tok string) req {
			return req{method: "POST", path: "/items/", bearer: tok, raw: "{\"title\":\"caf\xe9\"}", header: jsonCT}
		}, "string_unicode", []any{"body", "title"}, "caf\ufffd"},
		{"a title with half a surrogate pair", func(tok string) req {
			return req{method: "POST", path: "/items/", bearer: tok, raw: `{"title":"\ud800x"}`, header: jsonCT}
		}, "string_unicode", []any{"body", "title"}, "\ufffdx"},
		{"a description with NUL", func(tok string) req {
			return req{method: "POST", path: "/items/", bearer: tok, json: map[string]any{"title": "ok", "description": "a\x00b"}}
		}, "value_error", []any{"body", "description"}, "a\x00b"},
		{"a sign-up password with NUL", func(string) req {
			return req{method: "POST", path: "/users/signup", json: map[string]any{"email": "new@example.com", "password": "correct\x00horse battery"}}
		}, "value_error", []any{"body", "password"}, nil},
		{"a sign-up password that is not Unicode", func(string) req {
			return req{method: "POST", path: "/users/signup", raw: `{"email":"new@example.com","password":"correct horse \udfff"}`, header: jsonCT}
		}, "string_unicode", []any{"body", "password"}, nil},
		{"a new full name with a tab", func(tok string) req {
			return req{method: "PATCH", path: "/users/me", bearer: tok, json: map[string]any{"full_name": "Ada\tL"}}
		}, "value_error", []any{"body", "full_name"}, "Ada\tL"},
		{"a test email address with NUL", func(string) req {
			return req{method: "POST", path: "/utils/test-email/?email_to=a%00b@example.com"}
		}, "value_error", []any{"query", "email_to"}, "a\x00b@example.com"},
	} {
		t.Run(tc.name+" answers 422 and stores nothing", func(t *testing.T) {
			keeltest.EachStore(t, func(t *testing.T, st keel.Store) {
				e := newEnvOn(t, st)
				_, tok := e.userToken("root@example.com", true)
				q := tc.req(tok)
				if q.bearer == "" && q.path != "/users/signup" {
					q.bearer = tok
				}
				list := validationDetail(t, e.do(q))
				if !hasEntry(list, tc.typ, tc.loc...) {
					t.Fatalf("422 %v, want %s at %v", list, tc.typ, tc.loc)
				}
				for _, entry := range list {
					if entry["loc"].([]any)[1] == tc.loc[1] && entry["input"] != tc.input {
						t.Errorf("input %q, want %q", entry["input"], tc.input)
					}
				}
				items := e.do(req{method: "GET", path: "/items/", bearer: tok}).json(t)
				if items["count"] != 0.0 {
					t.Errorf("items after the refusal: %v", items)
				}
				users := e.do(req{method: "GET", path: "/users/", bearer: tok}).json(t)
				if users["count"] != 1.0 {
					t.Errorf("users after the refusal: %v", users["count"])
				}
				me := e.do(req{method: "GET", path: "/users/me", bearer: tok}).json(t)
				if me["full_name"] != nil {
					t.Errorf("full name after the refusal: %q", me["full_name"])
				}
			})
		})
	}
}

// TestEmailsNoAccountHasOnTheWire: logging in or asking for a recovery
// mail with an email no account can have is the answer to an unknown
// email, on every store, never a 500.
func TestEmailsNoAccountHasOnTheWire(t *testing.T) {
	keeltest.EachStore(t, func(t *testing.T, st keel.Store) {
		e := newEnvOn(t, st)
		e.account("ada@example.com", false)
		for _, email := range []string{"a\x00da@example.com", "ad\xffa@example.com"} {
			res := e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {email}, "password": {password}}})
			expect(t, res, 400, "Incorrect email or password")
			expect(t, e.do(req{method: "POST", path: "/password-recovery/" + url.PathEscape(email)}), 200, "")
		}
		if err := e.svc.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(e.mail.Resets()); n != 0 {
			t.Errorf("%d recovery mails sent", n)
		}
	})
}

var jsonCT = map[string]string{"Content-Type": "application/json"}

// TestDescriptionKeepsLineBreaks: the control characters a description
// documents it takes come back as they were sent, on every store.
func TestDescriptionKeepsLineBreaks(t *testing.T) {
	keeltest.EachStore(t, func(t *testing.T, st keel.Store) {
		e := newEnvOn(t, st)
		_, tok := e.userToken("ada@example.com", false)
		const desc = "one\ttwo\r\nthree\n"
		res := e.do(req{method: "POST", path: "/items/", bearer: tok, json: map[string]any{"title": "lines", "description": desc}})
		expect(t, res, 201, "")
		got := e.do(req{method: "GET", path: "/items/" + res.json(t)["id"].(string), bearer: tok}).json(t)
		if got["description"] != desc {
			t.Errorf("description %q, want %q", got["description"], desc)
		}
	})
}
