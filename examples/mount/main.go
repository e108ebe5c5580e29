// Command mount is a host program built on keel: it has its own routes,
// resource and tables, and mounts keel's HTTP API beside them.
//
// keel's API answers under /api/ (sign-up, login, users, docs), inside the
// host's own middleware. The host's notes (GET and POST /notes) and profile
// (GET /profile) are its own handlers behind httpapi.Auth: keel's
// sessions, by bearer token or cookie, with keel's rules. A before hook
// creates the user's profile row in keel's sign-up transaction, so that
// the user and the profile exist together or not at all, and refuses a
// sign-up whose handle is taken; an after hook logs a welcome once the
// sign-up has committed. On PostgreSQL or SQLite the notes and profiles
// live in keel's database, in tables of the host's own migrations, with
// foreign keys to keel's users.
//
//	go run ./examples/mount                                   # in memory, :8080
//	go run ./examples/mount -db sqlite://./mount.db -addr :9000
//	DATABASE_URL=postgres://... go run ./examples/mount
//
// Then, for instance:
//
//	curl -X POST localhost:8080/api/users/signup -H 'Content-Type: application/json' \
//	     -d '{"email":"ada@example.com","password":"analytical engine","full_name":"Ada"}'
//	curl -X POST localhost:8080/api/login/access-token -d username=ada@example.com -d 'password=analytical engine'
//	curl -X POST localhost:8080/notes -H "Authorization: Bearer $TOKEN" -d '{"body":"first note"}'
//	curl localhost:8080/notes -H "Authorization: Bearer $TOKEN"
package main

import (
	"context"
	"encoding/json"
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
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/store/bunstore"
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

// run parses args, opens the database (-db, default $DATABASE_URL, else
// memory), listens on -addr (default $ADDR, else :8080), prints the
// address it serves on to w and serves until ctx ends.
func run(ctx context.Context, w io.Writer, args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("mount", flag.ContinueOnError)
	addr := fs.String("addr", or(getenv("ADDR"), ":8080"), "listen on this `address` (default $ADDR, else :8080)")
	dbURL := fs.String("db", or(getenv("DATABASE_URL"), "memory:"), "keep the data at this `URL`: memory:, sqlite:///path.db or postgres://... (default $DATABASE_URL, else memory:)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(w, nil))

	store, nb, err := openStore(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	svc, err := keel.New(store, keel.Config{Logger: log, Hooks: hooks(nb, log)})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// StrictFraming covers the host's own routes as New covers keel's, and
	// the FramingListener lets it refuse a request that could smuggle
	// another (see httpapi.FramingListener).
	srv := &http.Server{
		Handler:           httpapi.StrictFraming(newHandler(svc, nb, log)),
		ConnContext:       httpapi.FramingContext,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(httpapi.FramingListener(ln)) }()
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
	// Close lets the after hooks finish the events already committed.
	closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, svc.Close(closeCtx))
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// openStore opens keel's store and the notebook beside it: both in memory,
// or both in the database at rawURL, migrated (keel's migrations first).
func openStore(ctx context.Context, rawURL string) (keel.Store, notebook, error) {
	if rawURL == "memory:" {
		return memstore.New(), newMemNotebook(), nil
	}
	s, err := bunstore.Open(ctx, rawURL)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, nil, fmt.Errorf("keel's migrations: %w", err)
	}
	if err := migrateNotebook(ctx, s); err != nil {
		s.Close()
		return nil, nil, fmt.Errorf("the notebook's migrations: %w", err)
	}
	return s, sqlNotebook{s.DB()}, nil
}

// hooks are how the host reacts to keel's account events.
func hooks(nb notebook, log *slog.Logger) keel.Hooks {
	return keel.Hooks{
		// Inside keel's transaction: the profile commits with the new user,
		// and its failure (or refusal) undoes the sign-up.
		Before: []keel.BeforeHook{func(ctx context.Context, tx keel.Tx, e keel.Event) error {
			switch e.Kind {
			case keel.EventSignedUp, keel.EventUserCreated:
				return nb.createProfile(ctx, tx, newProfile(e.User), e.Email)
			case keel.EventUserDeleted:
				return nb.deleteUser(ctx, tx, e.UserID)
			}
			return nil
		}},
		// Once committed, off the request's path.
		After: []keel.AfterHook{func(ctx context.Context, e keel.Event) {
			if e.Kind == keel.EventSignedUp {
				log.InfoContext(ctx, "welcome", "user", e.Email, "request_id", e.Client.RequestID)
			}
		}},
	}
}

// newHandler is the host's handler: its own routes, keel's API under /api/,
// and the host's middleware around everything.
func newHandler(svc *keel.Service, nb notebook, log *slog.Logger) http.Handler {
	cfg := httpapi.Config{Logger: log}
	auth := httpapi.NewAuth(svc, cfg) // the same Config as the API's
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", auth.OptionalUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if u := httpapi.UserFrom(r.Context()); u != nil {
			fmt.Fprintf(w, "Hello, %s. Your notes are at /notes.\n", u.Email)
			return
		}
		io.WriteString(w, "Hello from the host program. keel's API is under /api/ (docs: /api/docs).\n")
	})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	h := notesHandler{nb: nb, log: log}
	mux.Handle("GET /notes", auth.RequireUser(http.HandlerFunc(h.list)))
	// A write that runs to completion if its client goes away, as keel's do.
	mux.Handle("POST /notes", httpapi.CompleteWrites(30*time.Second)(auth.RequireUser(http.HandlerFunc(h.create))))
	mux.Handle("GET /profile", auth.RequireUser(http.HandlerFunc(h.profile)))
	// httpapi's routes are relative to where it is mounted: strip the
	// prefix, keeping the slash that starts its paths.
	mux.Handle("/api/", http.StripPrefix("/api", httpapi.New(svc, cfg)))
	return logRequests(log)(withHeader("X-Served-By", "mount-example")(mux))
}

// notesHandler serves the host's own resource. Its handlers run behind
// Auth.RequireUser, so the user is always there.
type notesHandler struct {
	nb  notebook
	log *slog.Logger
}

func (h notesHandler) list(w http.ResponseWriter, r *http.Request) {
	notes, err := h.nb.notes(r.Context(), httpapi.UserFrom(r.Context()).ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": notes})
}

func (h notesHandler) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body string `json:"body"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"detail": "the body must be a JSON object"})
		return
	}
	if n := utf8.RuneCountInString(in.Body); n < 1 || n > 1000 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"detail": "body must be 1 to 1000 characters"})
		return
	}
	note := Note{ID: uuid.Must(uuid.NewV7()), UserID: httpapi.UserFrom(r.Context()).ID, Body: in.Body, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := h.nb.addNote(r.Context(), note); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, note)
}

func (h notesHandler) profile(w http.ResponseWriter, r *http.Request) {
	p, ok, err := h.nb.profile(r.Context(), httpapi.UserFrom(r.Context()).ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "no profile"})
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (h notesHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.ErrorContext(r.Context(), "mount: request failed", "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, map[string]string{"detail": "Internal Server Error"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
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
