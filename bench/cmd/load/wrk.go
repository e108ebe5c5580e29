package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ensureWrk finds wrk, installing the Debian package when it is missing.
func ensureWrk(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("wrk"); err == nil {
		return p, nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", fmt.Errorf("wrk is not installed and apt-get is not available: install wrk (https://github.com/wg/wrk)")
	}
	var pre []string
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("sudo"); err != nil {
			return "", fmt.Errorf("wrk is not installed and installing it needs root: apt-get install -y wrk")
		}
		pre = []string{"sudo", "-n"}
	}
	fmt.Fprintln(os.Stderr, "load: wrk is missing; running apt-get install -y wrk")
	apt := func(args ...string) error {
		args = append(append(pre, "apt-get"), args...)
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	if err := apt("install", "-y", "wrk"); err != nil {
		// The package lists may be missing (a fresh container): update once.
		if err := apt("update"); err != nil {
			return "", fmt.Errorf("apt-get update: %w", err)
		}
		if err := apt("install", "-y", "wrk"); err != nil {
			return "", fmt.Errorf("apt-get install -y wrk: %w", err)
		}
	}
	return exec.LookPath("wrk")
}

// result is what one wrk run measured.
type result struct {
	Requests   int64   `json:"requests"`
	DurationUS int64   `json:"duration_us"`
	Connect    int64   `json:"connect"`
	Read       int64   `json:"read"`
	Write      int64   `json:"write"`
	Status     int64   `json:"status"`
	Timeout    int64   `json:"timeout"`
	P50US      float64 `json:"p50"`
	P90US      float64 `json:"p90"`
	P99US      float64 `json:"p99"`
	MaxUS      float64 `json:"max"`
}

func (r result) rps() float64 {
	if r.DurationUS == 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

// errors is every failed request: non-2xx/3xx answers and socket errors.
func (r result) errors() int64 { return r.Connect + r.Read + r.Write + r.Status + r.Timeout }

// doneLua prints wrk's summary as one JSON line that run parses.
const doneLua = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`

// script is a wrk Lua script: a request description plus doneLua.
type script struct {
	name string
	body string
}

func (s script) write(dir string) (string, error) {
	p := filepath.Join(dir, s.name+".lua")
	return p, os.WriteFile(p, []byte(s.body+doneLua), 0o600)
}

// luaString quotes s for Lua.
func luaString(s string) string { return strconv.Quote(s) }

// staticScript sends the same request every time, which wrk builds once.
func staticScript(name, method, path string, headers map[string]string, body string) script {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %s\nwrk.path = %s\n", luaString(method), luaString(path))
	for k, v := range headers {
		fmt.Fprintf(&b, "wrk.headers[%s] = %s\n", luaString(k), luaString(v))
	}
	if body != "" {
		fmt.Fprintf(&b, "wrk.body = %s\n", luaString(body))
	}
	return script{name: name, body: b.String()}
}

// randomItemScript reads a random item of ids on every request.
func randomItemScript(name, token string, ids []string) script {
	var b strings.Builder
	b.WriteString("local ids = {\n")
	for _, id := range ids {
		fmt.Fprintf(&b, "%s,\n", luaString(id))
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "local headers = {[\"Authorization\"] = %s}\n", luaString("Bearer "+token))
	b.WriteString(`
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  math.randomseed(os.time() * 7919 + (tid or 0) * 104729)
end
function request()
  return wrk.format("GET", "/api/v1/items/" .. ids[math.random(#ids)], headers)
end
`)
	return script{name: name, body: b.String()}
}

// wrkRun is one wrk invocation.
type wrkRun struct {
	wrk      string
	url      string
	script   string
	conns    int
	threads  int
	duration time.Duration
}

func (w wrkRun) run(ctx context.Context) (result, error) {
	// wrk stops itself after duration; the context bounds a wedged wrk.
	ctx, cancel := context.WithTimeout(ctx, w.duration+30*time.Second)
	defer cancel()
	args := []string{
		"-t" + strconv.Itoa(w.threads), "-c" + strconv.Itoa(w.conns),
		"-d" + strconv.Itoa(int(w.duration.Seconds())) + "s",
		"--timeout", "5s", "-s", w.script, w.url,
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, w.wrk, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("wrk %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "WRKJSON "); ok {
			var r result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return result{}, fmt.Errorf("wrk summary %q: %w", line, err)
			}
			return r, nil
		}
	}
	return result{}, fmt.Errorf("wrk printed no summary: %s %s", out.String(), errb.String())
}
