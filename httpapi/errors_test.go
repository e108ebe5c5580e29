package httpapi_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
)

// TestErrorAnswersAreTheTemplatesExactWords pins every error answer byte
// for byte: the status and the whole body, the template's wording and
// pydantic's types, messages and inputs. keel's own errors speak the
// domain; these answers are httpapi's translation of them.
func TestErrorAnswersAreTheTemplatesExactWords(t *testing.T) {
	e := newEnv(t, withHTTP(func(c *httpapi.Config) { c.Development = true }), withKeel(func(c *keel.Config) { c.MaxPageLimit = 50 }))
	ctx := context.Background()
	ada, adaTok := e.userToken("ada@example.com", false)
	root, rootTok := e.userToken("root@example.com", true)
	e.account("taken@example.com", false)
	_, pwTok := e.userToken("pw@example.com", false)
	off, offTok := e.userToken("off@example.com", false)
	off.IsActive = false
	if err := e.store.UpdateUser(ctx, off); err != nil { // behind keel's back, so the session stays
		t.Fatal(err)
	}
	it, err := e.svc.CreateItem(ctx, ada, keel.CreateItemInput{Title: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	missing := uuid.Must(uuid.NewV7()).String()
	adaPath, itemPath := "/users/"+ada.ID.String(), "/items/"+it.ID.String()
	long := strings.Repeat("n", 256)

	tests := []struct {
		name   string
		req    req
		status int
		body   string
	}{
		// Authentication.
		{"no credentials answer 401 Not authenticated", req{method: "GET", path: "/users/me"},
			401, `{"detail":"Not authenticated"}`},
		{"an unknown token answers 401 Could not validate credentials", req{method: "GET", path: "/users/me", bearer: "nope"},
			401, `{"detail":"Could not validate credentials"}`},
		{"an inactive user's token answers 400 Inactive user", req{method: "GET", path: "/users/me", bearer: offTok},
			400, `{"detail":"Inactive user"}`},
		{"a wrong password answers 400 Incorrect email or password", req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"ada@example.com"}, "password": {"wrong password"}}},
			400, `{"detail":"Incorrect email or password"}`},
		{"an inactive user's right password answers 400 Inactive user", req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"off@example.com"}, "password": {password}}},
			400, `{"detail":"Inactive user"}`},
		{"a cookie request from another origin answers 403", req{method: "POST", path: "/logout", cookie: adaTok, header: map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}},
			403, `{"detail":"Cross-origin request refused"}`},

		// Permissions.
		{"a user on a superuser route answers 403", req{method: "GET", path: "/users/", bearer: adaTok},
			403, `{"detail":"The user doesn't have enough privileges"}`},
		{"a user reading another user answers 403", req{method: "GET", path: "/users/" + root.ID.String(), bearer: adaTok},
			403, `{"detail":"The user doesn't have enough privileges"}`},
		{"a superuser deleting itself answers 403", req{method: "DELETE", path: "/users/me", bearer: rootTok},
			403, `{"detail":"Super users are not allowed to delete themselves"}`},

		// Passwords.
		{"a wrong current password answers 400", req{method: "PATCH", path: "/users/me/password", bearer: pwTok, json: map[string]any{"current_password": "not my password", "new_password": "a brand new password"}},
			400, `{"detail":"Incorrect password"}`},
		{"the same new password answers 400", req{method: "PATCH", path: "/users/me/password", bearer: pwTok, json: map[string]any{"current_password": password, "new_password": password}},
			400, `{"detail":"New password cannot be the same as the current one"}`},
		{"an unknown reset token answers 400 Invalid token", req{method: "POST", path: "/reset-password/", json: map[string]any{"token": "made-up", "new_password": "a brand new password"}},
			400, `{"detail":"Invalid token"}`},
		{"an empty reset token answers 400 Invalid token", req{method: "POST", path: "/reset-password/", json: map[string]any{"token": "", "new_password": "a brand new password"}},
			400, `{"detail":"Invalid token"}`},

		// A taken email, in each route's words.
		{"signing up with a taken email answers 400", req{method: "POST", path: "/users/signup", json: map[string]any{"email": "Taken@example.com", "password": password}},
			400, `{"detail":"The user with this email already exists in the system"}`},
		{"creating a user with a taken email answers 400 with a full stop", req{method: "POST", path: "/users/", bearer: rootTok, json: map[string]any{"email": "taken@example.com", "password": password}},
			400, `{"detail":"The user with this email already exists in the system."}`},
		{"the private route with a taken email answers 400 with a full stop", req{method: "POST", path: "/private/users/", json: map[string]any{"email": "taken@example.com", "password": password, "full_name": "T"}},
			400, `{"detail":"The user with this email already exists in the system."}`},
		{"taking a taken email for oneself answers 409", req{method: "PATCH", path: "/users/me", bearer: adaTok, json: map[string]any{"email": "taken@example.com"}},
			409, `{"detail":"User with this email already exists"}`},
		{"giving a user a taken email answers 409", req{method: "PATCH", path: adaPath, bearer: rootTok, json: map[string]any{"email": "taken@example.com"}},
			409, `{"detail":"User with this email already exists"}`},

		// Missing things, in each route's words.
		{"reading a missing user answers 404 User not found", req{method: "GET", path: "/users/" + missing, bearer: rootTok},
			404, `{"detail":"User not found"}`},
		{"updating a missing user answers 404 in its own words", req{method: "PATCH", path: "/users/" + missing, bearer: rootTok, json: map[string]any{"full_name": "x"}},
			404, `{"detail":"The user with this id does not exist in the system"}`},
		{"deleting a missing user answers 404 User not found", req{method: "DELETE", path: "/users/" + missing, bearer: rootTok},
			404, `{"detail":"User not found"}`},
		{"reading a missing item answers 404 Item not found", req{method: "GET", path: "/items/" + missing, bearer: adaTok},
			404, `{"detail":"Item not found"}`},
		{"updating someone else's item answers 404 Item not found", req{method: "PUT", path: itemPath, bearer: pwTok, json: map[string]any{"title": "x"}},
			404, `{"detail":"Item not found"}`},
		{"deleting someone else's item answers 404 Item not found", req{method: "DELETE", path: itemPath, bearer: pwTok},
			404, `{"detail":"Item not found"}`},

		// Validation of bodies.
		{"every failing field of a sign-up is listed in pydantic's words", req{method: "POST", path: "/users/signup", json: map[string]any{"email": "not-an-email", "password": "short", "full_name": long}},
			422, `{"detail":[{"type":"value_error","loc":["body","email"],"msg":"value is not a valid email address","input":"not-an-email"},` +
				`{"type":"string_too_short","loc":["body","password"],"msg":"String should have at least 8 characters","input":null},` +
				`{"type":"string_too_long","loc":["body","full_name"],"msg":"String should have at most 255 characters","input":"` + long[:64] + `"}]}`},
		{"a long email and a long password are too long", req{method: "POST", path: "/users/signup", json: map[string]any{"email": strings.Repeat("e", 250) + "@example.com", "password": strings.Repeat("é", 129)}},
			422, `{"detail":[{"type":"string_too_long","loc":["body","email"],"msg":"String should have at most 255 characters","input":"` + strings.Repeat("e", 64) + `"},` +
				`{"type":"string_too_long","loc":["body","password"],"msg":"String should have at most 128 characters","input":null}]}`},
		{"a common password is a value error", req{method: "POST", path: "/users/signup", json: map[string]any{"email": "new@example.com", "password": "password1"}},
			422, `{"detail":[{"type":"value_error","loc":["body","password"],"msg":"Value error, this password is too common or too easy to guess; choose another","input":null}]}`},
		{"missing fields answer 422 missing", req{method: "POST", path: "/users/signup", json: map[string]any{}},
			422, `{"detail":[{"type":"missing","loc":["body","email"],"msg":"Field required","input":null},{"type":"missing","loc":["body","password"],"msg":"Field required","input":null}]}`},
		{"values of the wrong type answer 422, a password never echoed", req{method: "POST", path: "/users/signup", json: map[string]any{"email": 5, "password": 12345678}},
			422, `{"detail":[{"type":"string_type","loc":["body","email"],"msg":"Input should be a valid string","input":5},{"type":"string_type","loc":["body","password"],"msg":"Input should be a valid string","input":null}]}`},
		{"an empty title is one character short", req{method: "POST", path: "/items/", bearer: adaTok, json: map[string]any{"title": ""}},
			422, `{"detail":[{"type":"string_too_short","loc":["body","title"],"msg":"String should have at least 1 character","input":""}]}`},
		{"an update's new values are checked", req{method: "PATCH", path: adaPath, bearer: rootTok, json: map[string]any{"email": "nope", "password": "short"}},
			422, `{"detail":[{"type":"value_error","loc":["body","email"],"msg":"value is not a valid email address","input":"nope"},{"type":"string_too_short","loc":["body","password"],"msg":"String should have at least 8 characters","input":null}]}`},
		{"a new password that is too common is refused", req{method: "PATCH", path: "/users/me/password", bearer: pwTok, json: map[string]any{"current_password": "short", "new_password": "password1"}},
			422, `{"detail":[{"type":"string_too_short","loc":["body","current_password"],"msg":"String should have at least 8 characters","input":null},{"type":"value_error","loc":["body","new_password"],"msg":"Value error, this password is too common or too easy to guess; choose another","input":null}]}`},

		// Validation of queries.
		{"a negative skip and a zero limit answer 422 together", req{method: "GET", path: "/items/?skip=-1&limit=0", bearer: adaTok},
			422, `{"detail":[{"type":"greater_than_equal","loc":["query","skip"],"msg":"Input should be greater than or equal to 0","input":"-1"},{"type":"greater_than_equal","loc":["query","limit"],"msg":"Input should be greater than or equal to 1","input":"0"}]}`},
		{"a limit over the maximum answers 422 with the input as given", req{method: "GET", path: "/users/?limit=%2051", bearer: rootTok},
			422, `{"detail":[{"type":"less_than_equal","loc":["query","limit"],"msg":"Input should be less than or equal to 50","input":" 51"}]}`},
		{"a limit that is no integer answers 422 int_parsing", req{method: "GET", path: "/items/?skip=x&limit=51", bearer: adaTok},
			422, `{"detail":[{"type":"int_parsing","loc":["query","skip"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"},{"type":"less_than_equal","loc":["query","limit"],"msg":"Input should be less than or equal to 50","input":"51"}]}`},
		{"a malformed cursor is a value error", req{method: "GET", path: "/items/?cursor=bad", bearer: adaTok},
			422, `{"detail":[{"type":"value_error","loc":["query","cursor"],"msg":"Value error, the cursor is malformed","input":"bad"}]}`},
		{"a bad test email address is a value error", req{method: "POST", path: "/utils/test-email/?email_to=nope", bearer: rootTok},
			422, `{"detail":[{"type":"value_error","loc":["query","email_to"],"msg":"value is not a valid email address","input":"nope"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(tt.req)
			if res.StatusCode != tt.status || string(res.body) != tt.body {
				t.Fatalf("answer %d %s\nwant   %d %s", res.StatusCode, res.body, tt.status, tt.body)
			}
			if got := res.Header.Get("WWW-Authenticate"); (tt.status == 401) != (got == "Bearer") {
				t.Errorf("WWW-Authenticate %q on a %d", got, tt.status)
			}
		})
	}

	t.Run("too many failed logins answer 429 with Retry-After", func(t *testing.T) {
		e := newEnv(t, withKeel(func(c *keel.Config) { c.RateLimits.LoginPerAccount = keel.Limit{Max: 1, Window: time.Hour} }))
		e.account("ada@example.com", false)
		form := url.Values{"username": {"ada@example.com"}, "password": {"wrong password"}}
		e.do(req{method: "POST", path: "/login/access-token", form: form})
		res := e.do(req{method: "POST", path: "/login/access-token", form: form})
		if res.StatusCode != 429 || string(res.body) != `{"detail":"Too many requests"}` || res.Header.Get("Retry-After") == "" {
			t.Fatalf("answer %d %s (Retry-After %q)", res.StatusCode, res.body, res.Header.Get("Retry-After"))
		}
	})
}
