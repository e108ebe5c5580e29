package keel

import (
	"encoding/json"
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
