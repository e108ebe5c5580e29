package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/joho/godotenv"
)

func writeDotenv(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadDotenvReadsTheTemplatesSyntax(t *testing.T) {
	path := writeDotenv(t, "\ufeff# the template's .env\n"+
		"DOMAIN=localhost\n"+
		"\n"+
		"export ENVIRONMENT=local\n"+
		"PROJECT_NAME=\"Full Stack FastAPI Project\"\r\n"+
		"STACK_NAME=full-stack-fastapi-project # a comment\n"+
		"SECRET_KEY='single # quoted'\n"+
		"SENTRY_DSN=\n"+
		"MULTI=\"first\n"+
		"second\" # ends here\n"+
		"  INDENTED = spaced\n"+
		"DATABASE_URL=postgres://${DOMAIN}/db\n")
	got, err := readDotenv(path, true)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"DOMAIN":       "localhost",
		"ENVIRONMENT":  "local",
		"PROJECT_NAME": "Full Stack FastAPI Project",
		"STACK_NAME":   "full-stack-fastapi-project",
		"SECRET_KEY":   "single # quoted",
		"SENTRY_DSN":   "",
		"MULTI":        "first\nsecond",
		"INDENTED":     "spaced",
		"DATABASE_URL": "postgres://localhost/db",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestReadDotenvNamesTheMalformedLine(t *testing.T) {
	const secret = "hunter2-is-my-password"
	tests := []struct {
		name, content, want string
	}{
		{"a line without = is refused by number", "A=1\n" + secret + "\nB=2\n", "line 2: want NAME=value"},
		{"a YAML-style line is refused", "A=1\n\nPASSWORD: " + secret + "\n", "line 3: want NAME=value"},
		{"a name with a dash is refused", "# x\nMY-VAR=" + secret + "\n", "line 2: the name before ="},
		{"a name starting with a digit is refused", "1VAR=" + secret + "\n", "line 1: the name before ="},
		{"an unterminated quote names the line it starts on", "A=1\nB=\"" + secret + "\nC=3\n", "line 2: the quoted value that starts here never ends"},
		{"text after a closing quote is refused on its line", "A=\"x\n" + secret + "\" junk\n", "line 2: only a # comment may follow the closing quote"},
		{"a lone carriage return is refused", "A=1\rB=" + secret + "\n", "line 1: a carriage return"},
		{"CRLF line endings count lines right", "A=1\r\nB=2\r\n" + secret + "\r\n", "line 3: want NAME=value"},
		{"export alone is refused", "export\n", "line 1: want NAME=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeDotenv(t, tt.content)
			_, err := readDotenv(path, true)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v, want an error naming %s and saying %q", err, path, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error repeats the file's text: %v", err)
			}
		})
	}
}

// FuzzScanDotenv checks that scanDotenv accepts only what godotenv reads,
// and as the same names: a file it passes is never refused by godotenv
// (whose message would quote the file) nor read as other variables.
func FuzzScanDotenv(f *testing.F) {
	for _, seed := range []string{
		"A=1\n", "export A=1\nB='x'\n", "A=\"multi\nline\" # c\n", "A=\"x\\\"y\"\n", "A='x\\'\n",
		"#c\n\n  B = 2 # c\r\n", "A=\"x\"B=1", "FOO\nBAR=1\n", "A=1\rB=2", "A:1\n", "export=1\n", "A.B_C9=\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		names, err := scanDotenv(src)
		if err != nil {
			return
		}
		m, gerr := godotenv.UnmarshalBytes(src)
		if gerr != nil {
			t.Fatalf("scanDotenv accepted %q, godotenv refused it: %v", src, gerr)
		}
		got := make([]string, 0, len(m))
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		slices.Sort(names)
		if !slices.Equal(got, slices.Compact(names)) {
			t.Fatalf("%q: godotenv read the names %q, scanDotenv saw %q", src, got, names)
		}
	})
}
