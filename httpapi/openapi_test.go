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
}

type openapiDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		OperationID string                     `json:"operationId"`
		Responses   map[string]json.RawMessage `json:"responses"`
		Security    []map[string][]string      `json:"security"`
	} `json:"paths"`
	Components struct {
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
				r := httptest.NewRequest(strings.ToUpper(method), strings.NewReplacer("{user_id}", "0190a0a0-0000-7000-8000-000000000000", "{id}", "0190a0a0-0000-7000-8000-000000000000", "{email}", "a@example.com").Replace(path), nil)
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
	t.Run("an unknown asset answers 404 JSON", func(t *testing.T) {
		expect(t, e.do(req{method: "GET", path: "/docs/nope.js"}), 404, "Not Found")
	})
}
