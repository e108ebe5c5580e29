package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/keel-dev/keel/httpapi"
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
	fs := flagSet("serve", sio.err, "serve [-env-file file]", func(w io.Writer) {
		fmt.Fprintln(w, "Environment variables (an empty value counts as unset):")
		fmt.Fprintln(w)
		writeSettings(w)
	})
	envFile := envFileFlag(fs)
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
	setProcs(&c, env)
	log := newLogger(c, sio.err)
	log.InfoContext(ctx, "scheduling", "gomaxprocs", runtime.GOMAXPROCS(0), "max_concurrent_hashes", c.MaxHashes)
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("KEEL_ADDR: %w", err)
	}
	return serve(ctx, c, ln, log, sio.out)
}

// serve runs the server on ln until ctx ends, then shuts down in order:
// stop accepting and drain requests in flight (at most
// KEEL_SHUTDOWN_TIMEOUT), stop the purger, wait for emails being sent,
// close the store. It closes ln.
func serve(ctx context.Context, c config, ln net.Listener, log *slog.Logger, out io.Writer) (err error) {
	defer ln.Close()
	s, err := openStore(ctx, c)
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
	svc, err := newService(c, s, log)
	if err != nil {
		return err
	}
	if err := bootstrapSuperuser(ctx, c, svc, s, log); err != nil {
		return err
	}
	if !c.EmailsEnabled() {
		log.WarnContext(ctx, "SMTP_HOST is not set: emails are logged, not sent")
	}

	if c.PprofAddr != "" {
		stopPprof, err := startPprof(ctx, c.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}

	// StrictFraming covers the routes outside the API too, and
	// FramingListener with FramingContext lets it see the requests that
	// could smuggle another (docs/SECURITY.md).
	srv := &http.Server{
		Handler:           httpapi.StrictFraming(routes(apiHandler(c, svc, log))),
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

	served := make(chan error, 1)
	go func() { served <- srv.Serve(httpapi.FramingListener(ln)) }()
	base := baseURL(ln.Addr())
	log.InfoContext(ctx, "keel is serving", "addr", ln.Addr().String(), "environment", c.Environment, "development", c.Development())
	fmt.Fprintf(out, "keel is listening on %s\nAPI documentation: %s%s/docs\n", base, base, apiPrefix)

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

// routes mounts the API at /api/v1 and sends /docs to its documentation.
func routes(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(apiPrefix+"/", http.StripPrefix(apiPrefix, api))
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, apiPrefix+"/docs", http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"detail":"Not Found"}`)
	})
	return mux
}

// baseURL is the URL a person on this machine opens to reach addr.
func baseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := "localhost"
	if !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}
