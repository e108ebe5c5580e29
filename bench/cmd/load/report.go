package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: %s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// moduleRoot is the directory of the keel module (go.mod).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run load inside the keel module")
	}
	return filepath.Dir(mod), nil
}

func gitCommit(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += "+dirty"
	}
	return c
}

// hashCeiling runs BenchmarkPasswordHashing/op=login-parallel with -cpu
// set to the machine's cores (b.RunParallel: as many logins at once as
// cores) and returns the logins per second it measures: the W4 ceiling.
// It measures what the cores sustain together rather than multiplying one
// core's figure, because argon2id is memory-hard and does not scale
// linearly with cores that share caches and memory bandwidth. One core's
// figure (op=login, -cpu 1) is logged beside it for comparison.
func hashCeiling(ctx context.Context, root string) (float64, error) {
	n := runtime.NumCPU()
	logf("BenchmarkPasswordHashing/op=login on 1 core and op=login-parallel on %d (predicts the W4 ceiling)", n)
	// bench returns the fastest ns/op of count runs: on a shared machine
	// neighbours only ever slow a run down, so the fastest is the closest to
	// what the cores can do.
	bench := func(op string, cpu, iters, count int) (float64, error) {
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkPasswordHashing$/^op="+op+"$",
			"-benchtime", strconv.Itoa(iters)+"x", "-count", strconv.Itoa(count), "-cpu", strconv.Itoa(cpu), ".")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("hashing benchmark: %v: %s", err, out)
		}
		var ns []float64
		for _, m := range regexp.MustCompile(`op=`+regexp.QuoteMeta(op)+`(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`).FindAllSubmatch(out, -1) {
			v, err := strconv.ParseFloat(string(m[1]), 64)
			if err != nil {
				return 0, err
			}
			ns = append(ns, v)
		}
		if len(ns) == 0 {
			return 0, fmt.Errorf("hashing benchmark printed no ns/op: %s", out)
		}
		slices.Sort(ns)
		logf("  op=%s -cpu %d: %.1f ms/op, fastest of %d (median %.1f, slowest %.1f)", op, cpu, ns[0]/1e6, len(ns), ns[len(ns)/2]/1e6, ns[len(ns)-1]/1e6)
		return ns[0], nil
	}
	one, err := bench("login", 1, 20, 3)
	if err != nil {
		return 0, err
	}
	par, err := bench("login-parallel", n, 50*n, 5)
	if err != nil {
		return 0, err
	}
	perSec := 1e9 / par
	logf("one login costs %.1f ms of one core (%.0f/s); %d cores sustain %.0f logins/s (%.2fx one core)",
		one/1e6, 1e9/one, n, perSec, one/par)
	return perSec, nil
}

// profiler captures a CPU and an alloc profile during a run.
type profiler struct {
	srv     *keelServer
	dir     string
	name    string
	seconds int
}

func (p *profiler) start(ctx context.Context) (wait func()) {
	if p == nil || p.srv.pprof == "" {
		return func() {}
	}
	secs := max(p.seconds, 1)
	var wg sync.WaitGroup
	for _, kind := range []string{"profile", "allocs"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			file := filepath.Join(p.dir, p.name+"."+map[string]string{"profile": "cpu", "allocs": "allocs"}[kind]+".pprof")
			u := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", p.srv.pprof, kind, secs)
			if err := fetch(ctx, u, file); err != nil {
				logf("profile %s: %v", p.name, err)
			}
		}()
	}
	return wg.Wait
}

// repeat runs w o.runs times and returns the medians; the first run is
// profiled when prof is set.
func repeat(ctx context.Context, o options, label string, w wrkRun, prof *profiler) (result, error) {
	var rs []result
	for i := range o.runs {
		wait := func() {}
		if i == 0 {
			wait = prof.start(ctx)
		}
		r, err := w.run(ctx)
		wait()
		if err != nil {
			return result{}, err
		}
		logf("  %s run %d: %.0f req/s, p50 %.2f ms, p99 %.2f ms, errors %d", label, i+1, r.rps(), r.P50US/1e3, r.P99US/1e3, r.errors())
		rs = append(rs, r)
	}
	return median(rs), nil
}

// median takes the median of every field on its own.
func median(rs []result) result {
	med := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rps := med(func(r result) float64 { return r.rps() })
	return result{
		Requests:   int64(rps * 1e6),
		DurationUS: 1e6 * 1e6,
		Status:     int64(med(func(r result) float64 { return float64(r.Status) })),
		Connect:    int64(med(func(r result) float64 { return float64(r.Connect + r.Read + r.Write + r.Timeout) })),
		P50US:      med(func(r result) float64 { return r.P50US }),
		P90US:      med(func(r result) float64 { return r.P90US }),
		P99US:      med(func(r result) float64 { return r.P99US }),
		MaxUS:      med(func(r result) float64 { return r.MaxUS }),
	}
}

func printTable(w io.Writer, rows []row, bare float64) {
	fmt.Fprintln(w, "| store | workload | conns | req/s | p50 ms | p99 ms | errors | % of bare | RSS max MiB |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		pct := "-"
		if bare > 0 {
			pct = fmt.Sprintf("%.1f%%", 100*r.res.rps()/bare)
		}
		rss := "-"
		if r.rssMaxKiB > 0 {
			rss = fmt.Sprintf("%.0f", float64(r.rssMaxKiB)/1024)
		}
		wl := r.workload
		if r.note != "" {
			wl += " (" + r.note + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %d | %.0f | %.2f | %.2f | %d | %s | %s |\n",
			r.store, wl, r.conns, r.res.rps(), r.res.P50US/1e3, r.res.P99US/1e3, r.res.errors(), pct, rss)
	}
}

// target is one goal of the issue and whether the run met it.
type target struct {
	what string
	got  string
	ok   bool
}

func printTargets(w io.Writer, rows []row, bare, hashPerSec float64) {
	find := func(store, prefix string, conns int) *row {
		for i := range rows {
			if rows[i].store == store && strings.HasPrefix(rows[i].workload, prefix) && (conns == 0 || rows[i].conns == conns) {
				return &rows[i]
			}
		}
		return nil
	}
	var ts []target
	share := func(store, wl string, min float64) {
		r := find(store, wl, 0)
		if r == nil || bare == 0 {
			return
		}
		p := 100 * r.res.rps() / bare
		ts = append(ts, target{fmt.Sprintf("%s %s >= %.1f%% of bare", store, wl, min), fmt.Sprintf("%.1f%%", p), p >= min})
	}
	share("postgres", "W1", 12)
	share("postgres", "W2 list", 8)
	share("postgres", "W3", 8)
	if r := find("postgres", "W1 get", 0); r != nil {
		ts = append(ts, target{"postgres W1 p99 < 20 ms", fmt.Sprintf("%.1f ms", r.res.P99US/1e3), r.res.P99US < 20e3})
	}
	share("sqlite", "W1", 19)
	share("sqlite", "W2 list", 9)
	share("sqlite", "W3", 5.5)
	if r := find("sqlite", "W1 get", 0); r != nil {
		ts = append(ts, target{"sqlite: no 'database is locked'", strconv.Itoa(r.locked) + " in the log", r.locked == 0})
	}
	share("mem", "W1", 40)
	for _, store := range []string{"mem", "sqlite", "postgres"} {
		if r := find(store, "W1 get", 0); r != nil {
			mib := float64(r.rssMaxKiB) / 1024
			ts = append(ts, target{store + " RSS under W1 < 100 MB", fmt.Sprintf("%.0f MiB", mib), mib*1.048576 < 100})
		}
		for i := range rows {
			if rows[i].store == store && rows[i].res.errors() > 0 {
				ts = append(ts, target{fmt.Sprintf("%s %s c%d without errors", store, rows[i].workload, rows[i].conns), strconv.FormatInt(rows[i].res.errors(), 10), false})
			}
		}
		w4 := find(store, "W4", 0)
		if w4 != nil && hashPerSec > 0 {
			ts = append(ts, target{fmt.Sprintf("%s W4 >= 80%% of the hashing benchmark on all cores (%.0f/s)", store, hashPerSec),
				fmt.Sprintf("%.0f/s = %.0f%%", w4.res.rps(), 100*w4.res.rps()/hashPerSec), w4.res.rps() >= 0.8*hashPerSec})
		}
		w1, beside := find(store, "W1 get", 0), find(store, "W1 beside", 0)
		if w1 != nil && beside != nil {
			ts = append(ts, target{fmt.Sprintf("%s W1 p99 beside W4 c64 < 5x alone (%.1f ms)", store, w1.res.P99US/1e3),
				fmt.Sprintf("%.1f ms = %.1fx", beside.res.P99US/1e3, beside.res.P99US/w1.res.P99US), beside.res.P99US < 5*w1.res.P99US})
			mib := float64(beside.rssMaxKiB) / 1024
			ts = append(ts, target{store + " RSS during W4 c64 bounded (< 150 MiB)", fmt.Sprintf("%.0f MiB", mib), mib < 150})
		}
		if s := find(store, "W1 soak", 0); s != nil {
			ts = append(ts, target{store + " no RSS growth across the W1 soak", s.note, !grew(s.note)})
		}
	}
	fmt.Fprintln(w, "| target | measured | met |")
	fmt.Fprintln(w, "|---|--:|:-:|")
	for _, t := range ts {
		ok := "yes"
		if !t.ok {
			ok = "**no**"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", t.what, t.got, ok)
	}
}

// grew reads the soak note: the last quarter's max over the first's by
// more than 10% (and 4 MiB) is growth.
func grew(note string) bool {
	var first, last float64
	if _, err := fmt.Sscanf(note, "RSS max first quarter %f MiB, last quarter %f MiB", &first, &last); err != nil {
		return true
	}
	return last > first*1.1 && last-first > 4
}

// countInFile counts the lines of path that contain s.
func countInFile(path, s string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte(s))
}
