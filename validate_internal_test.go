package keel

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestOptionalJSON(t *testing.T) {
	var in struct {
		A Optional[string]  `json:"a"`
		B Optional[*string] `json:"b"`
		C Optional[bool]    `json:"c"`
	}
	if err := json.Unmarshal([]byte(`{"b":null,"c":false}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.A.Set || !in.B.Set || in.B.Value != nil || !in.C.Set || in.C.Value {
		t.Fatalf("%+v", in)
	}
	if err := json.Unmarshal([]byte(`{"c":null}`), &in); err == nil {
		t.Fatal("null accepted for a bool")
	}
	if err := json.Unmarshal([]byte(`{"a":3}`), &in); err == nil {
		t.Fatal("a number accepted for a string")
	}
}

func TestTextFault(t *testing.T) {
	for _, tc := range []struct {
		name, rule, s string
		want          Violation
	}{
		{"text takes printable Unicode", "text", "Ada Lovelace ☕", 0},
		{"text refuses NUL", "text", "a\x00", ControlCharacter},
		{"text refuses a tab", "text", "a\tb", ControlCharacter},
		{"text refuses a line feed", "text", "a\nb", ControlCharacter},
		{"text refuses DEL", "text", "a\x7f", ControlCharacter},
		{"text refuses a C1 control (next line)", "text", "a\u0085b", ControlCharacter},
		{"text refuses bytes that are not UTF-8", "text", "caf\xe9", NotUTF8},
		{"multiline takes tab, line feed and carriage return", "multiline", "a\tb\r\nc\n", 0},
		{"multiline refuses NUL", "multiline", "a\x00", ControlCharacter},
		{"multiline refuses a vertical tab", "multiline", "a\vb", ControlCharacter},
		{"multiline refuses an escape", "multiline", "\x1b[0m", ControlCharacter},
		{"nonul takes a tab and an escape", "nonul", "a\tb\x1b", 0},
		{"nonul refuses NUL", "nonul", "a\x00b", ControlCharacter},
		{"nonul refuses bytes that are not UTF-8", "nonul", "\xff", NotUTF8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := textFault(tc.rule, tc.s); got != tc.want {
				t.Errorf("textFault(%q, %q) = %v, want %v", tc.rule, tc.s, got, tc.want)
			}
		})
	}
}

// TestPlainlyValidAgreesWithTheTags holds each quickValidated input's
// fast path to its validate tags: what it calls valid the validator
// passes, and the other way round.
func TestPlainlyValidAgreesWithTheTags(t *testing.T) {
	v := newValidator()
	t.Run("CreateItemInput's tags are the ones plainlyValid encodes", func(t *testing.T) {
		typ := reflect.TypeFor[CreateItemInput]()
		for field, want := range map[string]string{"Title": "text,min=1,max=255", "Description": "omitnil,multiline,max=255"} {
			f, _ := typ.FieldByName(field)
			if got := f.Tag.Get("validate"); got != want {
				t.Errorf("%s's validate tag is %q; plainlyValid encodes %q: change both", field, got, want)
			}
		}
	})
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name string
		in   CreateItemInput
	}{
		{"a plain title", CreateItemInput{Title: "milk"}},
		{"a title and a description", CreateItemInput{Title: "milk", Description: str("two litres\nfresh")}},
		{"an empty title", CreateItemInput{Title: ""}},
		{"a title of 255 characters", CreateItemInput{Title: strings.Repeat("é", 255)}},
		{"a title of 256 characters", CreateItemInput{Title: strings.Repeat("é", 256)}},
		{"a title of 255 four-byte characters", CreateItemInput{Title: strings.Repeat("😀", 255)}},
		{"a title with a tab", CreateItemInput{Title: "a\tb"}},
		{"a title with NUL", CreateItemInput{Title: "a\x00"}},
		{"a title with a C1 control", CreateItemInput{Title: "a\u0085"}},
		{"a title that is not UTF-8", CreateItemInput{Title: "caf\xe9"}},
		{"an empty description", CreateItemInput{Title: "t", Description: str("")}},
		{"a description with tab, CR and LF", CreateItemInput{Title: "t", Description: str("a\tb\r\nc")}},
		{"a description with NUL", CreateItemInput{Title: "t", Description: str("a\x00")}},
		{"a description with a vertical tab", CreateItemInput{Title: "t", Description: str("a\vb")}},
		{"a description of 255 characters", CreateItemInput{Title: "t", Description: str(strings.Repeat("x", 255))}},
		{"a description of 256 characters", CreateItemInput{Title: "t", Description: str(strings.Repeat("x", 256))}},
		{"a description that is not UTF-8", CreateItemInput{Title: "t", Description: str("\xff")}},
	} {
		t.Run(tc.name+" gets the validator's verdict", func(t *testing.T) {
			want := v.Struct(tc.in) == nil
			if got := tc.in.plainlyValid(); got != want {
				t.Errorf("plainlyValid() = %v, the validator says valid: %v", got, want)
			}
		})
	}
}
