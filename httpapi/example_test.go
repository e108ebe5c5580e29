package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/store/memstore"
)

// Protect a host's own routes with keel's sessions: the same rules as
// keel's routes (bearer or cookie, cross-origin protection, no-store), and
// the user in the handler's context.
func ExampleAuth() {
	svc, err := keel.New(memstore.New(), keel.Config{Argon2: keel.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		log.Fatal(err)
	}
	cfg := httpapi.Config{Logger: slog.New(slog.DiscardHandler)}
	auth := httpapi.NewAuth(svc, cfg)

	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", httpapi.New(svc, cfg)))
	mux.Handle("GET /notes", auth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "the notes of %s", httpapi.UserFrom(r.Context()).Email)
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := context.Background()
	if _, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "correct horse battery"}); err != nil {
		log.Fatal(err)
	}
	sess, err := svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "correct horse battery"})
	if err != nil {
		log.Fatal(err)
	}
	get := func(token string) {
		r, _ := http.NewRequest("GET", srv.URL+"/notes", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Println(res.Status, strings.TrimSpace(string(body)))
	}
	get(sess.Token)
	get("")
	// Output:
	// 200 OK the notes of ada@example.com
	// 401 Unauthorized {"detail":"Not authenticated"}
}

// Mount the API under /api/v1 of a host's own mux with http.StripPrefix.
// Every route, /openapi.json and /docs included, is then relative to the
// prefix.
func Example_mountUnderPrefix() {
	svc, err := keel.New(memstore.New(), keel.Config{
		// Cheap hashing for the example only; production keeps the defaults.
		Argon2: keel.Argon2Params{Memory: 64, Time: 1, Threads: 1},
	})
	if err != nil {
		log.Fatal(err)
	}
	api := httpapi.New(svc, httpapi.Config{
		CORSOrigins: []string{"https://app.example.com"},
		Logger:      slog.New(slog.DiscardHandler),
	})

	mux := http.NewServeMux()
	mux.Handle("/api/v1/", http.StripPrefix("/api/v1", api))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "the host's own page") })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post := func(path, body string) string {
		res, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		return res.Status
	}
	fmt.Println(post("/api/v1/users/signup", `{"email": "ada@example.com", "password": "correct horse battery"}`))

	res, err := http.PostForm(srv.URL+"/api/v1/login/access-token", url.Values{"username": {"ada@example.com"}, "password": {"correct horse battery"}})
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println(res.Status)

	res, err = http.Get(srv.URL + "/api/v1/docs")
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println(res.Status)
	// Output:
	// 201 Created
	// 200 OK
	// 200 OK
}

// Every line a program logs with a request's context carries the request's
// id, as keel's own lines do, when its logger's handler is wrapped in
// LogHandler.
func ExampleLogHandler() {
	// Without the time, so that the output below stays the same.
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(httpapi.LogHandler(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime})))
	h := httpapi.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "looking up the notes", "count", 3)
	}))
	r := httptest.NewRequest("GET", "/notes", nil)
	r.Header.Set("X-Request-ID", "req-7f3a")
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// level=INFO msg="looking up the notes" count=3 request_id=req-7f3a
}
