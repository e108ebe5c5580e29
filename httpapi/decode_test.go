package httpapi_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keel-dev/keel"
)

// fuzzRoutes are the JSON endpoints whose decoding FuzzDecodeJSON drives.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/users/signup"},
	{"PATCH", "/users/me"},
	{"PATCH", "/users/me/password"},
	{"POST", "/users/"},
	{"PATCH", "/users/{user}"},
	{"POST", "/items/"},
	{"PUT", "/items/{item}"},
	{"POST", "/reset-password/"},
}

// FuzzDecodeJSON sends arbitrary bodies to the JSON endpoints: no input may
// panic or answer 500, every answer is JSON and matches the OpenAPI
// document. The seed corpus in testdata/fuzz/FuzzDecodeJSON runs with
// every plain `go test`.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@example.com","password":"correct horse battery"}`,
		`{"title":"x","description":null}`,
		`{"email":null}`, `{"title":1e999}`, `[]`, `"x"`, `null`, `{`, `{"a":` + strings.Repeat("[", 2000),
		`{"full_name":"\ud800"}`, `{"is_active":"true"}`, `{"email":{"$ne":""}}`,
	} {
		for i := range fuzzRoutes {
			f.Add(uint8(i), []byte(s))
		}
	}
	e := newEnv(f, withKeel(func(c *keel.Config) { c.RateLimits.Disabled = true }))
	_, tok := e.userToken("fuzz-root@example.com", true)
	other := e.account("fuzz-other@example.com", false)
	it, err := e.svc.CreateItem(f.Context(), other, keel.CreateItemInput{Title: "t"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		e.t = t // fuzz inputs run one at a time in a process
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := strings.NewReplacer("{user}", other.ID.String(), "{item}", it.ID.String()).Replace(rt.path)
		q := req{method: rt.method, path: path, raw: string(body), bearer: tok, header: map[string]string{"Content-Type": "application/json"}}
		r := e.build(q)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("%s %s answered %d for %q: %s", rt.method, path, rec.Code, body, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s answered non-JSON for %q: %s", rt.method, path, body, rec.Body)
		}
		e.checkResponse(r, rec.Result())
	})
}
