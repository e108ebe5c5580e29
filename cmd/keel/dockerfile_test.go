package main

import (
	"encoding/json"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
)

// dockerfile is what TestDockerfile reads of ../../Dockerfile: the final
// stage's instructions, continuation lines joined.
type dockerfile struct {
	build       string            // the go build command
	env         map[string]string // ENV
	user        string            // USER
	volume      []string          // VOLUME
	healthcheck []string          // HEALTHCHECK ... CMD [...]
	entrypoint  []string          // ENTRYPOINT [...]
	cmd         []string          // CMD [...]
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{env: map[string]string{}}
	execForm := func(s string) []string {
		var args []string
		if err := json.Unmarshal([]byte(s), &args); err != nil {
			t.Fatalf("%q is not an exec-form JSON array: %v", s, err)
		}
		return args
	}
	text := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(b), "")
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(word) {
		case "RUN":
			if strings.Contains(rest, "go build") {
				d.build = rest
			}
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				d.env[k] = v
			}
		case "USER":
			d.user = rest
		case "VOLUME":
			d.volume = execForm(rest)
		case "HEALTHCHECK":
			_, cmd, ok := strings.Cut(rest, "CMD ")
			if !ok {
				t.Fatalf("HEALTHCHECK without CMD: %s", line)
			}
			d.healthcheck = execForm(cmd)
		case "ENTRYPOINT":
			d.entrypoint = execForm(rest)
		case "CMD":
			d.cmd = execForm(rest)
		}
	}
	return d
}

// TestDockerfile keeps the Dockerfile in step with the binary (no image is
// built here): a static build, a non-root user, the SQLite file on the
// volume, and a HEALTHCHECK that is a keel command which passes against a
// running server and fails against none.
func TestDockerfile(t *testing.T) {
	d := readDockerfile(t)
	t.Run("the binary is static", func(t *testing.T) {
		if !strings.Contains(d.build, "CGO_ENABLED=0 go build") || !strings.Contains(d.build, "./cmd/keel") {
			t.Errorf("the build is %q", d.build)
		}
	})
	t.Run("it runs as a user other than root", func(t *testing.T) {
		uid, _, _ := strings.Cut(d.user, ":")
		if uid == "" || uid == "0" || uid == "root" {
			t.Errorf("USER %q", d.user)
		}
	})
	t.Run("its configuration loads, and the SQLite file is on the volume", func(t *testing.T) {
		c := mustConfig(t, d.env)
		file, ok := sqliteFile(c.DatabaseURL)
		if !ok || len(d.volume) != 1 || path.Dir(file) != d.volume[0] {
			t.Errorf("DATABASE_URL %s, VOLUME %q: the file is not on the volume", c.DatabaseURL, d.volume)
		}
	})
	t.Run("it serves by default", func(t *testing.T) {
		if len(d.entrypoint) != 1 || d.entrypoint[0] != "/keel" || len(d.cmd) != 1 || d.cmd[0] != "serve" {
			t.Errorf("ENTRYPOINT %q CMD %q", d.entrypoint, d.cmd)
		}
	})
	t.Run("the HEALTHCHECK passes while keel serves and fails when it does not", func(t *testing.T) {
		if len(d.healthcheck) < 2 || d.healthcheck[0] != "/keel" {
			t.Fatalf("HEALTHCHECK CMD %q does not run /keel", d.healthcheck)
		}
		args := d.healthcheck[1:]
		vars := map[string]string{}
		for k, v := range d.env {
			vars[k] = v
		}
		vars["DATABASE_URL"] = "memory:"
		s := startServe(t, vars)
		vars["KEEL_ADDR"] = strings.TrimPrefix(s.base, "http://") // the port the image's :8000 is here
		if r := runKeel(t, vars, "", args...); r.code != 0 {
			t.Errorf("keel %s: exit %d: %s", strings.Join(args, " "), r.code, r.err)
		}
		vars["KEEL_ADDR"] = closedAddr(t)
		if r := runKeel(t, vars, "", args...); r.code != 1 {
			t.Errorf("keel %s with no server: exit %d, want 1: %s", strings.Join(args, " "), r.code, r.err)
		}
	})
}
