package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/metrics"
	"github.com/keel-dev/keel/store/bunstore"
)

// The HTTP server's timeouts (docs/SECURITY.md: read-header, read, write and
// idle timeouts are set).
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	purgeInterval     = time.Hour
	// apiPrefix is where httpapi is mounted.
	apiPrefix = "/api/v1"
)

// serveCmd runs `keel serve`: the HTTP server, until ctx ends (SIGINT or
// SIGTERM).
func serveCmd(ctx context.Context, args []string, sio stdio, env lookupFunc) error {
	fs := flagSet("serve", sio.err, "serve [-addr host:port] [-env-file file]", func(w io.Writer) {
		fmt.Fprintln(w, "Environment variables (an empty value counts as unset):")
		fmt.Fprintln(w)
		writeSettings(w)
	})
	envFile := envFileFlag(fs)
	var addr string
	fs.Func("addr", "listen on this `host:port` (:0 picks a free port); wins over KEEL_ADDR", func(v string) (err error) {
		addr, err = parseAddr(v)
		return err
	})
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"serve takes no arguments"}
	}
	c, err := loadConfigFiles(fs, *envFile, env)
	if err != nil {
		return err
	}
	addrFrom := "KEEL_ADDR"
	if addr != "" {
		c.Addr, addrFrom = addr, "-addr"
	}
	setProcs(&c, env)
	log := newLogger(c, sio.err)
	log.InfoContext(ctx, "scheduling", "gomaxprocs", runtime.GOMAXPROCS(0), "max_concurrent_hashes", c.MaxHashes)
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("%s: %w", addrFrom, err)
	}
	create := program(os.Args[0]) + " createsuperuser"
	if explicitFlag(fs, "env-file") {
		create += " " + commandLine("-env-file", *envFile)
	}
	return serve(ctx, c, ln, create+" -email you@example.com", log, sio.out)
}

// serve runs the server on ln until ctx ends, then shuts down in order:
// stop accepting and drain requests in flight (at most
// KEEL_SHUTDOWN_TIMEOUT), stop the purger, wait for emails being sent,
// close the store, send the last spans. It closes ln. createSuperuser is
// the command the banner suggests when there is no superuser.
func serve(ctx context.Context, c config, ln net.Listener, createSuperuser string, log *slog.Logger, out io.Writer) (err error) {
	defer ln.Close()
	var frontend http.Handler
	if c.FrontendDir != "" {
		if frontend, err = newFrontend(c.FrontendDir); err != nil {
			return fmt.Errorf("KEEL_FRONTEND_DIR: %w", err)
		}
	}
	var (
		observers []httpapi.Observer
		storeOpts []bunstore.Option
	)
	tr, err := startTracing(ctx, c, log)
	if err != nil {
		return fmt.Errorf("starting tracing: %w", err)
	}
	if tr != nil {
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
			defer cancel()
			if err := tr.Shutdown(ctx); err != nil {
				log.Warn("the last spans could not be sent", "err", err)
			}
		}()
		observers = append(observers, tr)
		storeOpts = append(storeOpts, bunstore.WithQueryHook(tr.QueryHook()))
	}
	var m *metrics.Metrics
	if c.MetricsAddr != "" {
		m = metrics.New()
		observers = append(observers, m)
	}
	s, err := openStore(ctx, c, log, storeOpts...)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the store: %w", cerr))
		}
	}()
	if c.isMemory() {
		log.WarnContext(ctx, "DATABASE_URL is memory:: every account and item is lost when keel stops")
	}
	if c.Migrate {
		if err := migrateUp(ctx, s, log); err != nil {
			return err
		}
	}
	var after []keel.AfterHook
	if m != nil {
		after = append(after, m.Count)
	}
	svc, err := newService(c, s, log, after...)
	if err != nil {
		return err
	}
	if err := bootstrapSuperuser(ctx, c, svc, s, log); err != nil {
		return err
	}
	if !c.EmailsEnabled() {
		log.WarnContext(ctx, "SMTP_HOST is not set: emails are logged, not sent")
	}

	var pprofAddr, metricsAddr net.Addr
	if c.PprofAddr != "" {
		var stopPprof func()
		pprofAddr, stopPprof, err = startPprof(ctx, c.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	if m != nil {
		reg, err := metricsRegistry(m, svc, s)
		if err != nil {
			return fmt.Errorf("KEEL_METRICS_ADDR: %w", err)
		}
		var stopMetrics func()
		metricsAddr, stopMetrics, err = startMetrics(ctx, c.MetricsAddr, reg, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}

	// StrictFraming covers the routes outside the API too, and
	// FramingListener with FramingContext lets it see the requests that
	// could smuggle another (docs/SECURITY.md).
	srv := &http.Server{
		Handler:           httpapi.StrictFraming(routes(apiHandler(c, svc, log, observers...), frontend)),
		ConnContext:       httpapi.FramingContext,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	purgeCtx, stopPurger := context.WithCancel(context.WithoutCancel(ctx))
	purged := make(chan struct{})
	go func() {
		defer close(purged)
		svc.RunPurger(purgeCtx, purgeInterval)
	}()

	// The banner goes out before serving starts (connections wait in the
	// listener's queue meanwhile): whoever reads it can rely on it whole.
	writeBanner(ctx, out, bannerInfo{
		config: c, addr: ln.Addr(), pprofAddr: pprofAddr, metricsAddr: metricsAddr, store: s, createSuperuser: createSuperuser, log: log,
	})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(httpapi.FramingListener(ln)) }()
	log.InfoContext(ctx, "keel is serving", "addr", ln.Addr().String(), "environment", c.Environment, "development", c.Development())

	select {
	case err = <-served:
		// The listener failed; nothing is left to drain.
		err = fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
		log.InfoContext(ctx, "shutting down", "timeout", c.ShutdownTimeout)
		err = shutdown(srv, c.ShutdownTimeout, log)
	}
	stopPurger()
	<-purged
	closeCtx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if cerr := svc.Close(closeCtx); cerr != nil {
		log.Warn("emails still being sent were abandoned", "err", cerr)
	}
	return err
}

// shutdown stops accepting connections and waits for requests in flight,
// at most timeout; then it closes what is left.
func shutdown(srv *http.Server, timeout time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("requests still running at the shutdown deadline were cut off", "err", err)
		return srv.Close()
	}
	return nil
}

// routes mounts the API at /api/v1, sends /docs to its documentation and,
// when frontend is not nil, serves it at every other path. Paths under
// /api/ are never the frontend's: a missing one is the API's JSON 404.
func routes(api, frontend http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(apiPrefix+"/", http.StripPrefix(apiPrefix, api))
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, apiPrefix+"/docs", http.StatusFound)
	})
	mux.HandleFunc("/api/", notFound)
	if frontend != nil {
		mux.Handle("/", frontend)
	} else {
		mux.HandleFunc("/", notFound)
	}
	return mux
}

// notFound answers as the API does for a path it does not know.
func notFound(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	io.WriteString(w, `{"detail":"Not Found"}`)
}
