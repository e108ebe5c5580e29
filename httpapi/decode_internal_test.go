package httpapi

import "testing"

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
