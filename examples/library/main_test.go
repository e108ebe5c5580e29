package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRun runs the example and checks every step it reports, in order: the
// refusals (common password, wrong password, deleted item, revoked
// sessions) are keel's, not the example's, so this also pins the
// behaviour the example shows off.
func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\noutput so far:\n%s", err, out.String())
	}
	want := []string{
		"signed up ada@example.com (superuser: false)",
		"signing up with a common password: invalid (password is too common or too easy to guess; choose another)",
		"login with a wrong password: wrong email or password",
		"logged in as ada@example.com",
		`created item "Notes on the engine"`,
		`created item "Bernoulli numbers"`,
		"2 item(s), newest first:",
		"  - Bernoulli numbers",
		"  - Notes on the engine",
		`updated item "Bernoulli numbers": description "Note G"`,
		`deleted item "Notes on the engine"`,
		"reading the deleted item: item not found",
		"1 item(s), newest first:",
		"  - Bernoulli numbers",
		"changed the password",
		"the other session after the change: session is unknown, expired or revoked",
		"login with the old password: wrong email or password",
		"the session that changed the password still works",
		"logged out",
		"the token after logout: session is unknown, expired or revoked",
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, g, w)
		}
	}
}
