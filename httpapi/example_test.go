package httpapi_test

import (
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/store/memstore"
)

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
