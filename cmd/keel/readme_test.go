package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestREADMEConfigurationTable keeps the repository README's table of
// variables what `keel env -markdown` prints.
func TestREADMEConfigurationTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := writeSettingsMarkdown(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), table.String()) {
		t.Errorf("README.md does not hold the table `go run ./cmd/keel env -markdown` prints; paste it in:\n%s", table.String())
	}
}
