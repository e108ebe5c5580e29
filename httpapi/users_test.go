package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
)

func TestSignUp(t *testing.T) {
	e := newEnv(t)
	t.Run("a new account answers 201 UserPublic without any secret", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/users/signup", json: map[string]any{"email": " New@Example.com", "password": password, "full_name": "New"}})
		expect(t, res, 201, "")
		u := res.json(t)
		if u["email"] != "new@example.com" || u["full_name"] != "New" || u["is_active"] != true || u["is_superuser"] != false {
			t.Fatalf("user %s", res.body)
		}
		for _, secret := range []string{"hashed_password", "password", "argon2", password} {
			if strings.Contains(string(res.body), secret) {
				t.Fatalf("the answer carries %q: %s", secret, res.body)
			}
		}
	})
	t.Run("is_superuser and other fields a caller may not set are ignored", func(t *testing.T) {
		id := uuid.New().String()
		res := e.do(req{method: "POST", path: "/users/signup", json: map[string]any{"email": "sneaky@example.com", "password": password,
			"is_superuser": true, "is_active": false, "id": id, "hashed_password": "x", "created_at": "2000-01-01T00:00:00Z"}})
		expect(t, res, 201, "")
		u := res.json(t)
		if u["is_superuser"] != false || u["is_active"] != true || u["id"] == id || strings.HasPrefix(u["created_at"].(string), "2000") {
			t.Fatalf("mass assignment: %s", res.body)
		}
	})
	for _, tc := range []struct {
		name   string
		body   any
		status int
		detail string
		typ    string
		field  string
	}{
		{"a taken email answers 400", map[string]any{"email": "NEW@example.com", "password": password}, 400, "The user with this email already exists in the system", "", ""},
		{"a missing email answers 422 missing", map[string]any{"password": password}, 422, "", "missing", "email"},
		{"a missing password answers 422 missing", map[string]any{"email": "a@example.com"}, 422, "", "missing", "password"},
		{"a short password answers 422", map[string]any{"email": "a@example.com", "password": "short"}, 422, "", "string_too_short", "password"},
		{"a password over 128 characters answers 422", map[string]any{"email": "a@example.com", "password": strings.Repeat("é", 129)}, 422, "", "string_too_long", "password"},
		{"a common password answers 422", map[string]any{"email": "a@example.com", "password": "password1"}, 422, "", "value_error", "password"},
		{"an invalid email answers 422", map[string]any{"email": "not-an-email", "password": password}, 422, "", "value_error", "email"},
		{"a number for the email answers 422 string_type", map[string]any{"email": 5, "password": password}, 422, "", "string_type", "email"},
		{"null for the email answers 422 string_type", map[string]any{"email": nil, "password": password}, 422, "", "string_type", "email"},
		{"a full name over 255 characters answers 422", map[string]any{"email": "a@example.com", "password": password, "full_name": strings.Repeat("n", 256)}, 422, "", "string_too_long", "full_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(req{method: "POST", path: "/users/signup", json: tc.body})
			if tc.status != 422 {
				expect(t, res, tc.status, tc.detail)
				return
			}
			if list := validationDetail(t, res); !hasEntry(list, tc.typ, "body", tc.field) {
				t.Fatalf("422 list %v lacks %s at body.%s", list, tc.typ, tc.field)
			}
		})
	}
	t.Run("a password is never echoed in a 422", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/users/signup", json: map[string]any{"email": "a@example.com", "password": "tiny-pw"}})
		if strings.Contains(string(res.body), "tiny-pw") {
			t.Fatalf("422 echoes the password: %s", res.body)
		}
	})
}

func TestUsersMe(t *testing.T) {
	e := newEnv(t)
	u, tok := e.userToken("alice@example.com", false)
	e.account("taken@example.com", false)
	t.Run("GET /users/me answers the caller", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/users/me", bearer: tok})
		expect(t, res, 200, "")
		if res.json(t)["id"] != u.ID.String() {
			t.Fatalf("me %s", res.body)
		}
	})
	t.Run("PATCH /users/me changes the name and leaves the rest", func(t *testing.T) {
		res := e.do(req{method: "PATCH", path: "/users/me", bearer: tok, json: map[string]any{"full_name": "Alice A"}})
		expect(t, res, 200, "")
		if m := res.json(t); m["full_name"] != "Alice A" || m["email"] != "alice@example.com" {
			t.Fatalf("me %s", res.body)
		}
	})
	t.Run("PATCH /users/me with null clears the name", func(t *testing.T) {
		res := e.do(req{method: "PATCH", path: "/users/me", bearer: tok, json: map[string]any{"full_name": nil}})
		expect(t, res, 200, "")
		if m := res.json(t); m["full_name"] != nil {
			t.Fatalf("me %s", res.body)
		}
	})
	t.Run("PATCH /users/me ignores is_superuser", func(t *testing.T) {
		res := e.do(req{method: "PATCH", path: "/users/me", bearer: tok, json: map[string]any{"is_superuser": true, "is_active": false}})
		expect(t, res, 200, "")
		if m := res.json(t); m["is_superuser"] != false || m["is_active"] != true {
			t.Fatalf("mass assignment: %s", res.body)
		}
	})
	t.Run("PATCH /users/me to a taken email answers 409", func(t *testing.T) {
		expect(t, e.do(req{method: "PATCH", path: "/users/me", bearer: tok, json: map[string]any{"email": "Taken@example.com"}}), 409, "User with this email already exists")
	})
	t.Run("PATCH /users/me with null for the email answers 422", func(t *testing.T) {
		if list := validationDetail(t, e.do(req{method: "PATCH", path: "/users/me", bearer: tok, json: map[string]any{"email": nil}})); !hasEntry(list, "string_type", "body", "email") {
			t.Fatalf("list %v", list)
		}
	})
}

func TestUpdatePasswordMe(t *testing.T) {
	e := newEnv(t)
	e.account("alice@example.com", false)
	current, other := e.login("alice@example.com"), e.login("alice@example.com")
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		detail string
	}{
		{"a wrong current password answers 400", map[string]any{"current_password": "not the password", "new_password": "a new password here"}, 400, "Incorrect password"},
		{"the same password answers 400", map[string]any{"current_password": password, "new_password": password}, 400, "New password cannot be the same as the current one"},
		{"missing fields answer 422", map[string]any{}, 422, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, e.do(req{method: "PATCH", path: "/users/me/password", bearer: current, json: tc.body}), tc.status, tc.detail)
		})
	}
	t.Run("a password change ends other sessions and keeps the current one", func(t *testing.T) {
		res := e.do(req{method: "PATCH", path: "/users/me/password", bearer: current, json: map[string]any{"current_password": password, "new_password": "a new password here"}})
		expect(t, res, 200, "")
		if res.json(t)["message"] != "Password updated successfully" {
			t.Fatalf("answer %s", res.body)
		}
		expect(t, e.do(req{method: "GET", path: "/users/me", bearer: current}), 200, "")
		expect(t, e.do(req{method: "GET", path: "/users/me", bearer: other}), 401, "Could not validate credentials")
	})
}

func TestDeleteUserMe(t *testing.T) {
	e := newEnv(t)
	_, tok := e.userToken("alice@example.com", false)
	_, root := e.userToken("root@example.com", true)
	t.Run("a superuser may not delete itself", func(t *testing.T) {
		expect(t, e.do(req{method: "DELETE", path: "/users/me", bearer: root}), 403, "Super users are not allowed to delete themselves")
	})
	t.Run("a user deletes itself and its session goes with it", func(t *testing.T) {
		res := e.do(req{method: "DELETE", path: "/users/me", bearer: tok})
		expect(t, res, 200, "")
		if res.json(t)["message"] != "User deleted successfully" {
			t.Fatalf("answer %s", res.body)
		}
		expect(t, e.do(req{method: "GET", path: "/users/me", bearer: tok}), 401, "Could not validate credentials")
	})
}

func TestSuperuserUsers(t *testing.T) {
	e := newEnv(t)
	root, su := e.userToken("root@example.com", true)
	alice, tok := e.userToken("alice@example.com", false)
	bob := e.account("bob@example.com", false)

	t.Run("a non-superuser is refused the superuser routes with 403", func(t *testing.T) {
		for _, q := range []req{
			{method: "GET", path: "/users/"},
			{method: "POST", path: "/users/", json: map[string]any{"email": "x@example.com", "password": password}},
			{method: "PATCH", path: "/users/" + bob.ID.String(), json: map[string]any{"full_name": "x"}},
			{method: "DELETE", path: "/users/" + bob.ID.String()},
			{method: "GET", path: "/users/" + bob.ID.String()},
			{method: "POST", path: "/utils/test-email/?email_to=a@example.com"},
		} {
			q.bearer = tok
			expect(t, e.do(q), 403, "The user doesn't have enough privileges")
		}
	})
	t.Run("a non-superuser may read itself by id", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/users/" + alice.ID.String(), bearer: tok}), 200, "")
	})
	t.Run("GET /users/ lists newest first with the total count, in both path forms", func(t *testing.T) {
		for _, p := range []string{"/users/", "/users"} {
			res := e.do(req{method: "GET", path: p + "?skip=0&limit=2", bearer: su})
			expect(t, res, 200, "")
			m := res.json(t)
			data, _ := m["data"].([]any)
			if m["count"] != float64(3) || len(data) != 2 || data[0].(map[string]any)["email"] != "bob@example.com" {
				t.Fatalf("%s: %s", p, res.body)
			}
		}
	})
	t.Run("POST /users/ creates a superuser when asked", func(t *testing.T) {
		res := e.do(req{method: "POST", path: "/users", bearer: su, json: map[string]any{"email": "admin2@example.com", "password": password, "is_superuser": true, "is_active": true}})
		expect(t, res, 201, "")
		if res.json(t)["is_superuser"] != true {
			t.Fatalf("user %s", res.body)
		}
	})
	t.Run("POST /users/ with a taken email answers 400", func(t *testing.T) {
		expect(t, e.do(req{method: "POST", path: "/users/", bearer: su, json: map[string]any{"email": "bob@example.com", "password": password}}), 400, "The user with this email already exists in the system.")
	})
	t.Run("GET /users/{id} of a missing user answers 404", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/users/" + uuid.NewString(), bearer: su}), 404, "User not found")
	})
	t.Run("a malformed user id answers 422 at the path, never 500", func(t *testing.T) {
		for _, bad := range []string{"nope", "12345", uuid.NewString() + "0", url.PathEscape("{" + uuid.NewString() + "}")} {
			res := e.do(req{method: "GET", path: "/users/" + bad, bearer: su})
			if list := validationDetail(t, res); !hasEntry(list, "uuid_parsing", "path", "user_id") {
				t.Fatalf("%s: %v", bad, list)
			}
		}
	})
	t.Run("PATCH /users/{id} updates any field", func(t *testing.T) {
		res := e.do(req{method: "PATCH", path: "/users/" + bob.ID.String(), bearer: su, json: map[string]any{"full_name": "Bob", "is_superuser": true}})
		expect(t, res, 200, "")
		if m := res.json(t); m["full_name"] != "Bob" || m["is_superuser"] != true {
			t.Fatalf("user %s", res.body)
		}
	})
	t.Run("PATCH /users/{id} of a missing user answers 404 with its own wording", func(t *testing.T) {
		expect(t, e.do(req{method: "PATCH", path: "/users/" + uuid.NewString(), bearer: su, json: map[string]any{"full_name": "x"}}), 404, "The user with this id does not exist in the system")
	})
	t.Run("PATCH /users/{id} to a taken email answers 409", func(t *testing.T) {
		expect(t, e.do(req{method: "PATCH", path: "/users/" + bob.ID.String(), bearer: su, json: map[string]any{"email": "alice@example.com"}}), 409, "User with this email already exists")
	})
	t.Run("PATCH /users/{id} with a wrong type answers 422 bool_type", func(t *testing.T) {
		if list := validationDetail(t, e.do(req{method: "PATCH", path: "/users/" + bob.ID.String(), bearer: su, json: map[string]any{"is_active": "yes"}})); !hasEntry(list, "bool_type", "body", "is_active") {
			t.Fatalf("list %v", list)
		}
	})
	t.Run("deactivating a user ends its sessions", func(t *testing.T) {
		_, ctok := e.userToken("carol@example.com", false)
		carol, _ := e.svc.Login(t.Context(), keel.LoginInput{Email: "carol@example.com", Password: password})
		expect(t, e.do(req{method: "PATCH", path: "/users/" + carol.User.ID.String(), bearer: su, json: map[string]any{"is_active": false}}), 200, "")
		expect(t, e.do(req{method: "GET", path: "/users/me", bearer: ctok}), 401, "Could not validate credentials")
	})
	t.Run("DELETE /users/{id} of a missing user answers 404", func(t *testing.T) {
		expect(t, e.do(req{method: "DELETE", path: "/users/" + uuid.NewString(), bearer: su}), 404, "User not found")
	})
	t.Run("a superuser may not delete itself by id", func(t *testing.T) {
		expect(t, e.do(req{method: "DELETE", path: "/users/" + root.ID.String(), bearer: su}), 403, "Super users are not allowed to delete themselves")
	})
	t.Run("DELETE /users/{id} deletes the user", func(t *testing.T) {
		expect(t, e.do(req{method: "DELETE", path: "/users/" + bob.ID.String(), bearer: su}), 200, "")
		expect(t, e.do(req{method: "GET", path: "/users/" + bob.ID.String(), bearer: su}), 404, "User not found")
	})
}

func TestPaging(t *testing.T) {
	e := newEnv(t, withKeel(func(c *keel.Config) { c.MaxPageLimit = 50; c.DefaultPageLimit = 20 }))
	_, su := e.userToken("root@example.com", true)
	for _, tc := range []struct {
		name, query, typ, field string
	}{
		{"a negative skip answers 422", "skip=-1", "greater_than_equal", "skip"},
		{"a zero limit answers 422", "limit=0", "greater_than_equal", "limit"},
		{"a limit over the maximum answers 422", "limit=51", "less_than_equal", "limit"},
		{"a non-integer limit answers 422", "limit=ten", "int_parsing", "limit"},
		{"a non-integer skip answers 422", "skip=1.5", "int_parsing", "skip"},
		{"an overflowing skip answers 422", "skip=99999999999999999999999", "int_parsing", "skip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []string{"/users/", "/items/"} {
				if list := validationDetail(t, e.do(req{method: "GET", path: p + "?" + tc.query, bearer: su})); !hasEntry(list, tc.typ, "query", tc.field) {
					t.Fatalf("%s: %v", p, list)
				}
			}
		})
	}
	t.Run("the maximum limit is accepted", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/items/?limit=50&skip=0", bearer: su}), 200, "")
	})
}

func TestPrivateUsers(t *testing.T) {
	body := map[string]any{"email": "dev@example.com", "password": password, "full_name": "Dev", "is_verified": true}
	t.Run("outside development the route does not exist", func(t *testing.T) {
		e := newEnv(t)
		expect(t, e.do(req{method: "POST", path: "/private/users/", json: body}), 404, "Not Found")
	})
	t.Run("in development it creates a user", func(t *testing.T) {
		e := newEnv(t, withHTTP(func(c *httpapi.Config) { c.Development = true }))
		res := e.do(req{method: "POST", path: "/private/users/", json: body})
		expect(t, res, 201, "")
		if res.json(t)["full_name"] != "Dev" {
			t.Fatalf("user %s", res.body)
		}
		expect(t, e.do(req{method: "POST", path: "/private/users", json: body}), 400, "The user with this email already exists in the system.")
		if list := validationDetail(t, e.do(req{method: "POST", path: "/private/users/", json: map[string]any{"email": "x@example.com", "password": password}})); !hasEntry(list, "missing", "body", "full_name") {
			t.Fatalf("list %v", list)
		}
	})
	t.Run("in development the cookie is not Secure", func(t *testing.T) {
		e := newEnv(t, withHTTP(func(c *httpapi.Config) { c.Development = true }))
		e.account("alice@example.com", false)
		res := e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {"alice@example.com"}, "password": {password}}})
		for _, c := range res.Cookies() {
			if c.Name == cookieName && c.Secure {
				t.Fatal("Secure cookie in development")
			}
		}
	})
}
