package httpapi

import (
	"reflect"
	"testing"
)

func TestValidUnicode(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
		want bool
	}{
		{"plain text is", `"hello"`, true},
		{"UTF-8 is", `"café ☕"`, true},
		{"escapes of whole characters are", `"caf\u00e9 \u2615 \n \"q\" \\"`, true},
		{"a surrogate pair is", `"\ud83d\ude00"`, true},
		{"an escaped backslash before u is no escape", `"\\ud800"`, true},
		{"a byte that is not UTF-8 is not", "\"caf\xe9\"", false},
		{"a high half alone is not", `"\ud800"`, false},
		{"a high half before another character is not", `"\ud800x"`, false},
		{"a high half before another high half is not", `"\ud800\ud800"`, false},
		{"a low half alone is not", `"\udc00"`, false},
		{"a low half first is not", `"\ude00\ud83d"`, false},
		{"a value that is not a string is", `12`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := validUnicode([]byte(tc.raw)); got != tc.want {
				t.Errorf("validUnicode(%s) = %v, want %v", tc.raw, got, tc.want)
			}
		})
	}
}

// flatProbe has the field kinds decodeFlat takes, and one it does not
// take when given.
type flatProbe struct {
	Title       string  `json:"title" required:"true"`
	Description *string `json:"description"`
	Email       string  `json:"email"`
}

type flatRefused struct {
	Title string `json:"title"`
	Count int    `json:"count"`
}

// TestDecodeFlatMatchesTheGeneralPath: whatever body decodeFlat takes,
// the general path decodes to the same value without error; whatever it
// refuses, it leaves dst as it was.
func TestDecodeFlatMatchesTheGeneralPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		took bool
	}{
		{"a plain object is taken", `{"title":"milk","description":"two litres"}`, true},
		{"white space around everything is taken", " \t\n{ \"title\" : \"milk\" ,\r\n\"description\" : null } \n", true},
		{"a null description is taken", `{"title":"milk","description":null}`, true},
		{"unknown keys are taken and ignored", `{"title":"milk","owner_id":"x","Title":"other"}`, true},
		{"a repeated key is taken, the last winning", `{"title":"a","title":"b","description":"c","description":null}`, true},
		{"multi-byte text is taken", `{"title":"café ☕ 😀","description":"日本"}`, true},
		{"an empty string is taken", `{"title":"","description":""}`, true},
		{"an escape is left to the general path", `{"title":"a\"b"}`, false},
		{"a unicode escape is left to the general path", `{"title":"\u00e9"}`, false},
		{"a control character is left to the general path", "{\"title\":\"a\tb\"}", false},
		{"bytes that are not UTF-8 are left to the general path", "{\"title\":\"caf\xe9\"}", false},
		{"a missing required field is left to the general path", `{"description":"x"}`, false},
		{"null for a string is left to the general path", `{"title":null}`, false},
		{"a number is left to the general path", `{"title":"a","description":1}`, false},
		{"a nested object is left to the general path", `{"title":"a","x":{}}`, false},
		{"an array is left to the general path", `[{"title":"a"}]`, false},
		{"an empty body is left to the general path", ``, false},
		{"an empty object is left to the general path (title is required)", `{}`, false},
		{"trailing data is left to the general path", `{"title":"a"} {}`, false},
		{"a trailing comma is left to the general path", `{"title":"a",}`, false},
		{"an unterminated object is left to the general path", `{"title":"a"`, false},
		{"a bare word after null is left to the general path", `{"title":"a","description":nullx}`, false},
		{"an unquoted key is left to the general path", `{title:"a"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fast flatProbe
			rv := reflect.ValueOf(&fast).Elem()
			took := decodeFlat([]byte(tc.body), rv, cachedJSONFields(rv.Type()))
			if took != tc.took {
				t.Fatalf("decodeFlat took it: %v, want %v", took, tc.took)
			}
			if !took {
				if !reflect.ValueOf(fast).IsZero() {
					t.Fatalf("decodeFlat refused the body but changed dst: %+v", fast)
				}
				return
			}
			var slow flatProbe
			sv := reflect.ValueOf(&slow).Elem()
			if err := decodeFields([]byte(tc.body), sv, cachedJSONFields(sv.Type())); err != nil {
				t.Fatalf("the general path refused what decodeFlat took: %v", err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("decodeFlat gave %+v, the general path %+v", fast, slow)
			}
		})
	}
	t.Run("a type with a field of another kind is left to the general path", func(t *testing.T) {
		var dst flatRefused
		rv := reflect.ValueOf(&dst).Elem()
		if decodeFlat([]byte(`{"title":"a"}`), rv, cachedJSONFields(rv.Type())) {
			t.Error("decodeFlat took a body for a type with an int field")
		}
	})
}

// FuzzDecodeFlat checks decodeFlat against the general path on arbitrary
// bodies.
func FuzzDecodeFlat(f *testing.F) {
	for _, s := range []string{`{"title":"x","description":null}`, `{"title":"a","title":"b"}`, `{"title":"\u00e9"}`, ` {"description":"d","title":"t"} `, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast flatProbe
		rv := reflect.ValueOf(&fast).Elem()
		if !decodeFlat(body, rv, cachedJSONFields(rv.Type())) {
			if !reflect.ValueOf(fast).IsZero() {
				t.Fatalf("decodeFlat refused %q but changed dst: %+v", body, fast)
			}
			return
		}
		var slow flatProbe
		sv := reflect.ValueOf(&slow).Elem()
		if err := decodeFields(body, sv, cachedJSONFields(sv.Type())); err != nil {
			t.Fatalf("the general path refused %q, which decodeFlat took: %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("%q: decodeFlat gave %+v, the general path %+v", body, fast, slow)
		}
	})
}
