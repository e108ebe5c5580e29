package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/keel-dev/keel/httpapi"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// operationIDs are those of the FastAPI template, plus keel's own.
var operationIDs = []string{
	"login-login_access_token", "login-test_token", "login-logout", "login-recover_password", "login-reset_password",
	"users-read_users", "users-create_user", "users-read_user_me", "users-update_user_me", "users-delete_user_me",
	"users-update_password_me", "users-register_user", "users-read_user_by_id", "users-update_user", "users-delete_user",
	"items-read_items", "items-create_item", "items-read_item", "items-update_item", "items-delete_item",
	"utils-test_email", "utils-health_check", "utils-ready", "private-create_user",
	"login-list_providers", "login-provider_login", "login-provider_callback", "login-redeem_login_code",
	"login-passkey_login_options", "login-passkey_login",
	"users-read_identities", "users-unlink_identity", "users-read_passkeys", "users-passkey_registration_options",
	"users-register_passkey", "users-delete_passkey",
	// keel's account security: sessions, personal API tokens, unlocking.
	"sessions-read_my_sessions", "sessions-end_other_sessions", "sessions-end_my_session",
	"sessions-read_user_sessions", "sessions-end_user_session",
	"tokens-create_my_api_token", "tokens-read_my_api_tokens", "tokens-revoke_my_api_token",
	"tokens-read_user_api_tokens", "tokens-revoke_user_api_token", "users-unlock_user",
	"users-read_user_me_events", "audit-read_audit_events",
}

// templateSchemaNames are the component schema names of the template's
// document that its frontend imports from the generated client.
var templateSchemaNames = []string{
	"UserPublic", "UsersPublic", "UserCreate", "UserRegister", "UserUpdate", "UserUpdateMe", "UpdatePassword",
	"NewPassword", "ItemPublic", "ItemsPublic", "ItemCreate", "ItemUpdate", "Message", "Token",
	"HTTPValidationError", "ValidationError", "PrivateUserCreate", "Body_login-login_access_token",
}

type openapiDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		OperationID string   `json:"operationId"`
		Tags        []string `json:"tags"`
		Parameters  []struct {
			Name     string `json:"name"`
			In       string `json:"in"`
			Required bool   `json:"required"`
			Schema   struct {
				Type    string `json:"type"`
				Format  string `json:"format"`
				Default *int   `json:"default"`
			} `json:"schema"`
		} `json:"parameters"`
		RequestBody struct {
			Content map[string]struct {
				Schema struct {
					Ref string `json:"$ref"`
				} `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
		Responses map[string]json.RawMessage `json:"responses"`
		Security  []map[string][]string      `json:"security"`
	} `json:"paths"`
	Components struct {
		Schemas         map[string]json.RawMessage `json:"schemas"`
		SecuritySchemes map[string]struct {
			Type  string `json:"type"`
			Flows struct {
				Password struct {
					TokenURL string `json:"tokenUrl"`
				} `json:"password"`
			} `json:"flows"`
		} `json:"securitySchemes"`
	} `json:"components"`
}

func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t, withHTTP(func(c *httpapi.Config) { c.Development = true }))
	t.Run("the document is valid OpenAPI 3.1", func(t *testing.T) {
		d, err := libopenapi.NewDocument(e.doc)
		if err != nil {
			t.Fatal(err)
		}
		v, errs := validator.NewValidator(d)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		ok, verrs := v.ValidateDocument()
		for _, ve := range verrs {
			t.Errorf("%s: %s", ve.Message, ve.Reason)
		}
		if !ok {
			t.Fatal("the document does not validate")
		}
	})
	var doc openapiDoc
	if err := json.Unmarshal(e.doc, &doc); err != nil {
		t.Fatal(err)
	}
	t.Run("the document says it is 3.1", func(t *testing.T) {
		if !strings.HasPrefix(doc.OpenAPI, "3.1") {
			t.Fatalf("openapi %q", doc.OpenAPI)
		}
	})
	var ids []string
	for _, ops := range doc.Paths {
		for _, op := range ops {
			ids = append(ids, op.OperationID)
		}
	}
	t.Run("every operation has the template's operationId", func(t *testing.T) {
		slices.Sort(ids)
		want := slices.Clone(operationIDs)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("operationIds\n got %v\nwant %v", ids, want)
		}
	})
	t.Run("every served route is in the document", func(t *testing.T) {
		for path, ops := range doc.Paths {
			for method := range ops {
				r := httptest.NewRequest(strings.ToUpper(method), strings.NewReplacer("{user_id}", "0190a0a0-0000-7000-8000-000000000000", "{id}", "0190a0a0-0000-7000-8000-000000000000",
					"{session_id}", "0190a0a0-0000-7000-8000-000000000000", "{token_id}", "0190a0a0-0000-7000-8000-000000000000", "{email}", "a@example.com").Replace(path), nil)
				rec := httptest.NewRecorder()
				e.h.ServeHTTP(rec, r)
				if rec.Code == 404 && strings.Contains(rec.Body.String(), `"Not Found"`) || rec.Code == 405 {
					t.Errorf("%s %s is documented but not served: %d", method, path, rec.Code)
				}
			}
		}
		for _, rt := range httpapi.Routes(e.svc, httpapi.Config{Development: true}) {
			if _, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]; !ok {
				t.Errorf("route %s %s is not in the document", rt.Method, rt.Path)
			}
		}
	})
	t.Run("every component schema a template client imports has the template's name", func(t *testing.T) {
		for _, name := range templateSchemaNames {
			if _, ok := doc.Components.Schemas[name]; !ok {
				t.Errorf("no component schema %q", name)
			}
		}
		for name := range doc.Components.Schemas {
			if strings.HasPrefix(name, "FormData") || strings.Contains(strings.ToLower(name), "uuid") {
				t.Errorf("component schema %q is not one of the template's", name)
			}
		}
	})
	t.Run("each body refers to the template's schema", func(t *testing.T) {
		for _, c := range []struct{ method, path, mime, schema string }{
			{"post", "/login/access-token", "application/x-www-form-urlencoded", "Body_login-login_access_token"},
			{"post", "/reset-password/", "application/json", "NewPassword"},
			{"post", "/users/", "application/json", "UserCreate"},
			{"post", "/users/signup", "application/json", "UserRegister"},
			{"patch", "/users/me", "application/json", "UserUpdateMe"},
			{"patch", "/users/me/password", "application/json", "UpdatePassword"},
			{"patch", "/users/{user_id}", "application/json", "UserUpdate"},
			{"post", "/items/", "application/json", "ItemCreate"},
			{"put", "/items/{id}", "application/json", "ItemUpdate"},
			{"post", "/private/users/", "application/json", "PrivateUserCreate"},
		} {
			got := doc.Paths[c.path][c.method].RequestBody.Content[c.mime].Schema.Ref
			if want := "#/components/schemas/" + c.schema; got != want {
				t.Errorf("%s %s %s: $ref %q, want %q", c.method, c.path, c.mime, got, want)
			}
		}
	})
	t.Run("every operation has the template's tag, or one of keel's own", func(t *testing.T) {
		for path, ops := range doc.Paths {
			for method, op := range ops {
				tag, _, _ := strings.Cut(op.OperationID, "-")
				if !slices.Equal(op.Tags, []string{tag}) || !slices.Contains([]string{"login", "users", "items", "utils", "private", "sessions", "tokens", "audit"}, tag) {
					t.Errorf("%s %s: tags %v", method, path, op.Tags)
				}
			}
		}
	})
	t.Run("parameters have the template's names, places and defaults", func(t *testing.T) {
		type param struct {
			name, in, typ, format string
			required              bool
			def                   int
		}
		page := []param{{"skip", "query", "integer", "", false, 0}, {"limit", "query", "integer", "", false, 100}}
		for _, c := range []struct {
			method, path string
			want         []param
		}{
			{"get", "/users/", page},
			// keel's optional cursor follows the template's two.
			{"get", "/items/", append(slices.Clone(page), param{"cursor", "query", "string", "", false, -1})},
			{"get", "/users/{user_id}", []param{{"user_id", "path", "string", "uuid", true, -1}}},
			{"patch", "/users/{user_id}", []param{{"user_id", "path", "string", "uuid", true, -1}}},
			{"delete", "/users/{user_id}", []param{{"user_id", "path", "string", "uuid", true, -1}}},
			{"get", "/items/{id}", []param{{"id", "path", "string", "uuid", true, -1}}},
			{"put", "/items/{id}", []param{{"id", "path", "string", "uuid", true, -1}}},
			{"delete", "/items/{id}", []param{{"id", "path", "string", "uuid", true, -1}}},
			{"post", "/password-recovery/{email}", []param{{"email", "path", "string", "", true, -1}}},
			{"post", "/utils/test-email/", []param{{"email_to", "query", "string", "email", true, -1}}},
		} {
			var got []param
			for _, p := range doc.Paths[c.path][c.method].Parameters {
				def := -1
				if p.Schema.Default != nil {
					def = *p.Schema.Default
				}
				got = append(got, param{p.Name, p.In, p.Schema.Type, p.Schema.Format, p.Required, def})
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s %s: parameters\n got %+v\nwant %+v", c.method, c.path, got, c.want)
			}
		}
	})
	t.Run("ItemsPublic is the template's {data, count} plus an optional next_cursor", func(t *testing.T) {
		var schema struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(doc.Components.Schemas["ItemsPublic"], &schema); err != nil {
			t.Fatal(err)
		}
		req := slices.Sorted(slices.Values(schema.Required))
		if !slices.Equal(req, []string{"count", "data"}) {
			t.Errorf("ItemsPublic requires %v, want count and data", req)
		}
		var names []string
		for n := range schema.Properties {
			names = append(names, n)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"count", "data", "next_cursor"}) {
			t.Errorf("ItemsPublic has the properties %v", names)
		}
	})
	t.Run("the security scheme is the OAuth2 password flow at login/access-token", func(t *testing.T) {
		s := doc.Components.SecuritySchemes["OAuth2PasswordBearer"]
		if s.Type != "oauth2" || s.Flows.Password.TokenURL != "login/access-token" {
			t.Fatalf("security scheme %+v", s)
		}
		if len(doc.Paths["/users/me"]["get"].Security) == 0 || len(doc.Paths["/users/signup"]["post"].Security) != 0 {
			t.Fatal("security requirements are wrong")
		}
	})
	t.Run("the response check rejects an answer that breaks the schema", func(t *testing.T) {
		r := httptest.NewRequest("GET", "/users/me", nil)
		res := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader([]byte(`{"id": 5, "hashed_password": "x"}`))), Request: r}
		if ok, _ := e.val.ValidateHttpResponse(r, res); ok {
			t.Fatal("a broken answer passed the response check")
		}
	})
}

func TestOpenAPIWithoutDevelopment(t *testing.T) {
	e := newEnv(t)
	var doc openapiDoc
	if err := json.Unmarshal(e.doc, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Paths["/private/users/"]; ok {
		t.Fatal("the private route is documented outside development")
	}
}

func TestDocsPage(t *testing.T) {
	e := newEnv(t)
	t.Run("the docs page is served with its own CSP and relative asset URLs", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/docs"})
		expect(t, res, 200, "")
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("Content-Type %q", res.Header.Get("Content-Type"))
		}
		csp := res.Header.Get("Content-Security-Policy")
		if csp != httpapi.DocsContentSecurityPolicy || !strings.Contains(csp, "script-src 'self'") {
			t.Fatalf("CSP %q", csp)
		}
		body := string(res.body)
		if !strings.Contains(body, `src="docs/swagger-ui-bundle.js"`) || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			t.Fatalf("page %s", body)
		}
		if strings.Contains(body, "<script>") {
			t.Fatal("the page has an inline script, which its CSP forbids")
		}
	})
	for _, asset := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "init.js", "favicon-32x32.png"} {
		t.Run("the embedded asset "+asset+" is served without internet", func(t *testing.T) {
			res := e.do(req{method: "GET", path: "/docs/" + asset})
			expect(t, res, 200, "")
			if len(res.body) < 100 {
				t.Fatalf("%s is %d bytes", asset, len(res.body))
			}
		})
	}
	t.Run("a gzip-accepting client gets the asset compressed", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/docs/swagger-ui.css", header: map[string]string{"Accept-Encoding": "gzip"}})
		expect(t, res, 200, "")
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatal("not gzipped")
		}
	})
	t.Run("the page with a trailing slash redirects to the page, relatively", func(t *testing.T) {
		res := e.do(req{method: "GET", path: "/docs/"})
		expect(t, res, 301, "")
		if loc := res.Header.Get("Location"); loc != "../docs" {
			t.Fatalf("Location %q", loc)
		}
	})
	t.Run("an unknown asset answers 404 JSON", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/docs/nope.js"}), 404, "Not Found")
	})
}
