// Command mount shows keel's HTTP API mounted inside a program that already
// has its own http.ServeMux, routes and middleware: the host keeps "/" and
// "/healthz", keel answers under "/api/", and the host's middleware wraps
// both.
//
//	go run ./examples/mount                 # listens on :8080
//	go run ./examples/mount -addr :9000     # or ADDR=:9000
//
// Then, for instance:
//
//	curl -X POST localhost:8080/api/users/signup -H 'Content-Type: application/json' \
//	     -d '{"email":"ada@example.com","password":"analytical engine"}'
//	curl localhost:8080/api/docs
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/store/memstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mount:", err)
		os.Exit(1)
	}
}

// run parses args, listens on -addr (default $ADDR, else :8080), prints the
// address it serves on to w and serves until ctx ends.
func run(ctx context.Context, w io.Writer, args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("mount", flag.ContinueOnError)
	defaultAddr := getenv("ADDR")
	if defaultAddr == "" {
		defaultAddr = ":8080"
	}
	addr := fs.String("addr", defaultAddr, "listen on this `address` (default $ADDR, else :8080)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(w, nil))

	// keel over an in-memory store; bunstore.Open(ctx, databaseURL) would
	// keep the accounts in PostgreSQL or SQLite instead.
	store := memstore.New()
	defer store.Close()
	svc, err := keel.New(store, keel.Config{Logger: log})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           newHandler(svc, log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(w, "listening on http://%s\n", ln.Addr())

	select {
	case err = <-served:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(shutdownCtx)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, svc.Close(closeCtx))
}

// newHandler is the host's handler: its own routes, keel's API under /api/,
// and the host's middleware around everything.
func newHandler(svc *keel.Service, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello from the host program. keel's API is under /api/ (docs: /api/docs).\n")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	// httpapi's routes are relative to where it is mounted: strip the
	// prefix, keeping the slash that starts its paths.
	mux.Handle("/api/", http.StripPrefix("/api", httpapi.New(svc, httpapi.Config{Logger: log})))
	return logRequests(log)(withHeader("X-Served-By", "mount-example")(mux))
}

// withHeader is host middleware that sets a response header on every
// answer, the API's included.
func withHeader(name, value string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(name, value)
			next.ServeHTTP(w, r)
		})
	}
}

// logRequests is host middleware that logs each request's method and path.
func logRequests(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.Info("host saw a request", "method", r.Method, "path", r.URL.Path)
			next.ServeHTTP(w, r)
		})
	}
}
