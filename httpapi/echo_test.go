package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRejectedValuesAreEchoedShort sends huge rejected values in the body,
// the query and the path: each 422 echoes at most 64 bytes of the value,
// valid UTF-8, and the answer stays small.
func TestRejectedValuesAreEchoedShort(t *testing.T) {
	e := newEnv(t)
	_, tok := e.userToken("root@example.com", true)
	hugeTitle := strings.Repeat("€", 300000) // 900 kB, three bytes a character
	numbers := "[" + strings.Repeat("1,", 100000) + "1]"
	for _, tc := range []struct {
		name   string
		req    req
		typ    string
		prefix string // what the echo must start with
	}{
		{"a title of a million characters", req{method: "POST", path: "/items/", json: map[string]any{"title": strings.Repeat("x", 1000000)}}, "string_too_long", "xxx"},
		{"a title cut inside a character", req{method: "POST", path: "/items/", json: map[string]any{"title": hugeTitle}}, "string_too_long", "€€€"},
		{"a title of the wrong type", req{method: "POST", path: "/items/", raw: `{"title":` + numbers + `}`, header: jsonCT}, "string_type", "[1,1,1"},
		{"a body that is not an object", req{method: "POST", path: "/items/", raw: numbers, header: jsonCT}, "model_attributes_type", "[1,1,1"},
		{"a malformed cursor", req{method: "GET", path: "/items/?cursor=" + strings.Repeat("A", 100000)}, "value_error", "AAAA"},
		{"a skip that is no integer", req{method: "GET", path: "/users/?skip=" + strings.Repeat("9", 100000) + "x"}, "int_parsing", "9999"},
		{"an id that is no UUID", req{method: "GET", path: "/items/" + strings.Repeat("f", 100000)}, "uuid_parsing", "ffff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.bearer = tok
			res := e.do(tc.req)
			list := validationDetail(t, res)
			if len(res.body) > 1024 {
				t.Errorf("the answer is %d bytes", len(res.body))
			}
			for _, entry := range list {
				if entry["type"] != tc.typ {
					continue
				}
				in, ok := entry["input"].(string)
				if !ok {
					b, _ := json.Marshal(entry["input"])
					t.Fatalf("input %s, want a string", b)
				}
				if len(in) > 64 || !utf8.ValidString(in) || strings.ContainsRune(in, utf8.RuneError) || !strings.HasPrefix(in, tc.prefix) {
					t.Errorf("input %q (%d bytes), want at most 64 bytes of valid UTF-8 starting %q", in, len(in), tc.prefix)
				}
				return
			}
			t.Fatalf("no %s entry in %v", tc.typ, list)
		})
	}
}
