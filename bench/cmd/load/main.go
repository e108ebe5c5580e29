// Command load is keel's load harness: it builds the keel binary, serves a
// fresh store (memstore, a SQLite file, a PostgreSQL schema), seeds one
// user with items through the API, drives the workloads with wrk against
// it and against a bare net/http handler (the ceiling), and prints one
// table and the targets. See bench/README.md.
//
// Everything runs on 127.0.0.1; every wrk run is bounded in time.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

type options struct {
	stores     []string
	pgURL      string
	duration   time.Duration
	runs       int
	conns      int
	threads    int
	items      int
	extraItems int
	deepSkip   int
	workloads  []string
	soak       time.Duration
	profileDir string
	logLevel   string
	hashBench  bool
	serverEnv  []string
	out        string
}

func main() {
	var o options
	var stores, workloads, serverEnv string
	defStores := "mem,sqlite"
	if os.Getenv("KEEL_TEST_DATABASE_URL") != "" {
		defStores += ",postgres"
	}
	flag.StringVar(&stores, "stores", defStores, "stores to serve: mem, sqlite, postgres (postgres by default when KEEL_TEST_DATABASE_URL is set)")
	flag.StringVar(&o.pgURL, "pg", os.Getenv("KEEL_TEST_DATABASE_URL"), "PostgreSQL server URL (loopback only); each run gets a fresh schema")
	flag.DurationVar(&o.duration, "d", 10*time.Second, "duration of each wrk run")
	flag.IntVar(&o.runs, "runs", 3, "runs of each workload; the table shows medians")
	flag.IntVar(&o.conns, "c", 32, "wrk connections")
	flag.IntVar(&o.threads, "t", 2, "wrk threads")
	flag.IntVar(&o.items, "items", 1000, "items seeded through the API")
	flag.IntVar(&o.extraItems, "extra-items", 0, "PostgreSQL only: items added in bulk with SQL (scale check), W1 picks ids among all")
	flag.IntVar(&o.deepSkip, "deep-skip", 0, "when > 0, also W2-deep: GET /api/v1/items/?skip=N&limit=20")
	flag.StringVar(&workloads, "w", "bare,W1,W2,W3,W4", "workloads to run")
	flag.DurationVar(&o.soak, "soak", 0, "when > 0, also W1 for this long, sampling RSS every second (growth check)")
	flag.StringVar(&o.profileDir, "profile", "", "directory for pprof CPU and alloc profiles of the first run of each workload (sets KEEL_PPROF_ADDR)")
	flag.StringVar(&o.logLevel, "log-level", "info", "KEEL_LOG_LEVEL of the server (info keeps the access log on, as in production)")
	flag.BoolVar(&o.hashBench, "hash-bench", true, "run BenchmarkPasswordHashing/op=login to predict the W4 ceiling")
	flag.StringVar(&serverEnv, "server-env", "", "extra environment of keel serve, comma-separated KEY=VALUE pairs (e.g. GOMAXPROCS=2,KEEL_MAX_CONCURRENT_HASHES=1), to compare settings")
	flag.StringVar(&o.out, "out", "", "also write the table (markdown) to this file")
	flag.Parse()
	o.stores = splitList(stores)
	o.workloads = splitList(workloads)
	o.serverEnv = splitList(serverEnv)
	for _, kv := range o.serverEnv {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			fmt.Fprintf(os.Stderr, "load: -server-env: %q is not KEY=VALUE\n", kv)
			os.Exit(2)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// row is one line of the table: medians over the runs.
type row struct {
	store, workload string
	conns           int
	res             result
	rssMaxKiB       int64
	note            string
	// locked counts "database is locked" in the server's log after the
	// store's runs.
	locked int
}

func run(ctx context.Context, o options) error {
	wrk, err := ensureWrk(ctx)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "keel-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "keel")
	logf("building %s", bin)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/keel")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/keel: %w", err)
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}
	commit := gitCommit(root)

	var hashPerSec float64
	if o.hashBench && slices.Contains(o.workloads, "W4") {
		if hashPerSec, err = hashCeiling(ctx, root); err != nil {
			return err
		}
	}

	var rows []row
	var bareRPS float64
	if slices.Contains(o.workloads, "bare") {
		addr, stopBare, err := bare()
		if err != nil {
			return err
		}
		sc, err := staticScript("bare", "GET", "/", nil, "").write(tmp)
		if err != nil {
			return err
		}
		r, err := repeat(ctx, o, "bare", wrkRun{wrk: wrk, url: "http://" + addr, script: sc, conns: o.conns, threads: o.threads, duration: o.duration}, nil)
		stopBare()
		if err != nil {
			return err
		}
		bareRPS = r.rps()
		rows = append(rows, row{store: "-", workload: "bare net/http, 192 B", conns: o.conns, res: r})
	}

	for _, store := range o.stores {
		rs, err := runStore(ctx, o, wrk, bin, tmp, store)
		rows = append(rows, rs...)
		if err != nil {
			printTable(os.Stdout, rows, bareRPS)
			return fmt.Errorf("store %s: %w", store, err)
		}
	}

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "Run %s, commit %s, %d CPUs (%s/%s), wrk -t%d -c%d -d%s, medians of %d runs, %d items seeded through the API",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), commit, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		o.threads, o.conns, o.duration, o.runs, o.items)
	if o.extraItems > 0 {
		fmt.Fprintf(&buf, " + %d in bulk (PostgreSQL)", o.extraItems)
	}
	if len(o.serverEnv) > 0 {
		fmt.Fprintf(&buf, ", keel serve with %s", strings.Join(o.serverEnv, " "))
	}
	buf.WriteString(".\n\n")
	printTable(&buf, rows, bareRPS)
	buf.WriteString("\n")
	printTargets(&buf, rows, bareRPS, hashPerSec)
	os.Stdout.Write(buf.Bytes())
	if o.out != "" {
		return os.WriteFile(o.out, buf.Bytes(), 0o644)
	}
	return nil
}

// runStore serves one store and runs the workloads against it.
func runStore(ctx context.Context, o options, wrk, bin, tmp, store string) (rows []row, err error) {
	var dbURL string
	var bulk *sql.DB
	switch store {
	case "mem":
		dbURL = "memory:"
	case "sqlite":
		dir, err := os.MkdirTemp(tmp, "sqlite-")
		if err != nil {
			return nil, err
		}
		dbURL = "sqlite://" + filepath.Join(dir, "keel.db")
	case "postgres":
		if o.pgURL == "" {
			return nil, fmt.Errorf("postgres needs -pg or KEEL_TEST_DATABASE_URL")
		}
		u, db, drop, err := pgSchema(ctx, o.pgURL)
		if err != nil {
			return nil, err
		}
		defer drop()
		dbURL, bulk = u, db
	default:
		return nil, fmt.Errorf("unknown store %q (want mem, sqlite or postgres)", store)
	}
	logf("%s: starting keel serve", store)
	srv, err := startKeel(ctx, bin, dbURL, tmp, o.logLevel, o.profileDir != "", o.serverEnv)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	logf("%s: seeding %d items through the API", store, o.items)
	token, ids, err := seed(ctx, srv.url(), o.items)
	if err != nil {
		return nil, err
	}
	if store == "postgres" && o.extraItems > 0 {
		logf("%s: adding %d items in bulk", store, o.extraItems)
		if ids, err = bulkItems(ctx, bulk, o.extraItems, 10_000); err != nil {
			return nil, err
		}
	}
	auth := map[string]string{"Authorization": "Bearer " + token}
	scripts := map[string]script{
		"W1": randomItemScript(store+"-w1", token, ids),
		"W2": staticScript(store+"-w2", "GET", "/api/v1/items/?limit=20", auth, ""),
		"W3": staticScript(store+"-w3", "POST", "/api/v1/items/",
			map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"},
			`{"title":"bench","description":"created by wrk"}`),
		"W4": staticScript(store+"-w4", "POST", "/api/v1/login/access-token",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, loginForm()),
	}
	if o.deepSkip > 0 {
		scripts["W2-deep"] = staticScript(store+"-w2deep", "GET", fmt.Sprintf("/api/v1/items/?skip=%d&limit=20", o.deepSkip), auth, "")
	}
	paths := map[string]string{}
	for k, s := range scripts {
		if paths[k], err = s.write(tmp); err != nil {
			return nil, err
		}
	}
	mk := func(w string, conns int) wrkRun {
		return wrkRun{wrk: wrk, url: srv.url(), script: paths[w], conns: conns, threads: o.threads, duration: o.duration}
	}
	names := map[string]string{
		"W1": "W1 get item", "W2": "W2 list 20 + count", "W3": "W3 create item", "W4": "W4 login",
		"W2-deep": fmt.Sprintf("W2 skip=%d", o.deepSkip),
	}
	order := []string{"W1", "W2"}
	if o.deepSkip > 0 {
		order = append(order, "W2-deep")
	}
	order = append(order, "W3")
	for _, w := range order {
		if !slices.Contains(o.workloads, w) && (w != "W2-deep" || !slices.Contains(o.workloads, "W2")) {
			continue
		}
		logf("%s: %s", store, w)
		var prof *profiler
		if o.profileDir != "" {
			prof = &profiler{srv: srv, dir: o.profileDir, name: store + "-" + strings.ToLower(w), seconds: int(o.duration.Seconds()) - 2}
		}
		rss := sampleRSS(srv, 250*time.Millisecond)
		r, err := repeat(ctx, o, store+" "+w, mk(w, o.conns), prof)
		samples := rss.stop()
		if err != nil {
			return rows, err
		}
		rows = append(rows, row{store: store, workload: names[w], conns: o.conns, res: r, rssMaxKiB: slices.Max(samples)})
		if w == "W1" && o.soak > 0 {
			// Right after W1, before W3 adds items and W4 hashes.
			r, err := soakW1(ctx, o, srv, mk("W1", o.conns))
			if err != nil {
				return rows, err
			}
			r.store = store
			rows = append(rows, r)
		}
	}
	if slices.Contains(o.workloads, "W4") {
		logf("%s: W4 at %d connections", store, o.conns)
		rss := sampleRSS(srv, 250*time.Millisecond)
		var prof *profiler
		if o.profileDir != "" {
			prof = &profiler{srv: srv, dir: o.profileDir, name: store + "-w4", seconds: int(o.duration.Seconds()) - 2}
		}
		r, err := repeat(ctx, o, store+" W4", mk("W4", o.conns), prof)
		samples := rss.stop()
		if err != nil {
			return rows, err
		}
		rows = append(rows, row{store: store, workload: names["W4"], conns: o.conns, res: r, rssMaxKiB: slices.Max(samples)})

		logf("%s: W4 at %d connections with W1 alongside", store, 2*o.conns)
		rss = sampleRSS(srv, 250*time.Millisecond)
		var w4s, w1s []result
		for range o.runs {
			type out struct {
				r   result
				err error
			}
			ch := make(chan out, 1)
			go func() {
				r, err := mk("W4", 2*o.conns).run(ctx)
				ch <- out{r, err}
			}()
			r1, err := mk("W1", o.conns).run(ctx)
			r4 := <-ch
			if err == nil {
				err = r4.err
			}
			if err != nil {
				rss.stop()
				return rows, err
			}
			w4s, w1s = append(w4s, r4.r), append(w1s, r1)
		}
		samples = rss.stop()
		rows = append(rows,
			row{store: store, workload: names["W4"], conns: 2 * o.conns, res: median(w4s), rssMaxKiB: slices.Max(samples)},
			row{store: store, workload: "W1 beside W4", conns: o.conns, res: median(w1s), rssMaxKiB: slices.Max(samples)})
	}
	locked := countInFile(srv.logPath, "database is locked")
	for i := range rows {
		rows[i].locked = locked
	}
	return rows, nil
}

// soakW1 runs W1 for o.soak, sampling the server's RSS every second, and
// notes the largest RSS of the first and of the last quarter.
func soakW1(ctx context.Context, o options, srv *keelServer, w wrkRun) (row, error) {
	logf("W1 soak for %s", o.soak)
	rss := sampleRSS(srv, time.Second)
	w.duration = o.soak
	r, err := w.run(ctx)
	samples := rss.stop()
	if err != nil {
		return row{}, err
	}
	q := max(len(samples)/4, 1)
	first, last := slices.Max(samples[:q]), slices.Max(samples[len(samples)-q:])
	return row{workload: "W1 soak " + o.soak.String(), conns: o.conns, res: r, rssMaxKiB: slices.Max(samples),
		note: fmt.Sprintf("RSS max first quarter %.1f MiB, last quarter %.1f MiB", float64(first)/1024, float64(last)/1024)}, nil
}
