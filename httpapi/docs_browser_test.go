package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
)

// chromium finds a headless-capable Chromium: $KEEL_CHROMIUM, or chromium
// or Chrome on the PATH. Without one the test is skipped, except on CI
// (CI=true), where .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if p := os.Getenv("KEEL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on the PATH (apt-get install chromium), and CI=true")
	}
	t.Skip("no chromium on the PATH (apt-get install chromium, or set KEEL_CHROMIUM)")
	return ""
}

// docsHarness drives the docs page as a person does: Authorize in Swagger
// UI's dialog (whose password flow posts to login/access-token, which also
// sets the session cookie), try GET /users/me, Logout, try it again. It
// uses Swagger UI's own actions, those the dialog's buttons and "Execute"
// dispatch, so the page's configuration (init.js) applies to every
// request. It writes the two statuses, or an error, in the page's title.
const docsHarness = `(async function () {
  const creds = %s;
  const report = function (s) { document.title = "RESULT " + s; };
  const sleep = function (ms) { return new Promise(function (r) { setTimeout(r, ms); }); };
  const until = async function (what, f) {
    for (let i = 0; i < 3000; i++) {
      const v = f();
      if (v) return v;
      await sleep(10);
    }
    throw new Error("gave up waiting for " + what);
  };
  try {
    await until("Swagger UI", function () { return window.ui && window.ui.specSelectors.loadingStatus() === "success"; });
    const ui = window.ui;
    const name = "OAuth2PasswordBearer";
    // The scheme as the Authorize dialog gets it: one per OAuth2 flow.
    const schema = await until("the security scheme", function () {
      const d = ui.authSelectors.definitionsToAuthorize().find(function (m) { return m.has(name); });
      return d && d.get(name);
    });
    const me = async function (what) {
      ui.specActions.clearResponse("/users/me", "get");
      ui.specActions.execute({ path: "/users/me", method: "get", operation: ui.specSelectors.specJson().getIn(["paths", "/users/me", "get"]) });
      const r = await until(what, function () { return ui.specSelectors.responseFor("/users/me", "get"); });
      return r.get("status");
    };
    // A frontend on this origin logs in: the browser now holds a session
    // cookie, yet the page shows no one signed in.
    const login = await fetch(new URL("login/access-token", new URL("openapi.json", document.baseURI)), {
      method: "POST", body: new URLSearchParams({ username: creds.email, password: creds.password })
    });
    if (!login.ok) throw new Error("the frontend's login answered " + login.status);
    const beforeAuthorize = await me("the answer before Authorize");
    ui.authActions.authorizePassword({ name: name, schema: schema, scopes: [], username: creds.email, password: creds.password, passwordType: "request-body", clientId: "", clientSecret: "" });
    await until("the authorization", function () { return ui.authSelectors.authorized().get(name); });
    const signedIn = await me("the signed-in answer");
    ui.authActions.logout([name]);
    const signedOut = await me("the signed-out answer");
    report(JSON.stringify({ beforeAuthorize: beforeAuthorize, signedIn: signedIn, signedOut: signedOut }));
  } catch (e) {
    let errs = "";
    try { errs = JSON.stringify(window.ui.errSelectors.allErrors().toJS()); } catch (_) {}
    const urls = performance.getEntriesByType("resource").map(function (r) { return r.name; }).join(" ");
    report("ERROR " + e + "; Swagger UI's errors: " + errs + "; requests: " + urls);
  }
})();
`

// TestDocsPageActsAsWhatItShows runs the docs page in headless Chromium.
// Before Authorize and after Logout the page shows no one signed in, so
// its requests must be anonymous, although the browser holds a session
// cookie: one a frontend on the same origin got, and the one the login
// route sets when the Authorize dialog logs in.
func TestDocsPageActsAsWhatItShows(t *testing.T) {
	browser := chromium(t)
	// Development: a cookie without Secure, which the browser keeps over
	// plain http, as on a developer's machine.
	e := newEnv(t, withHTTP(func(c *httpapi.Config) { c.Development = true }))
	const email, password = "docs@example.com", "a long enough pass"
	if _, err := e.svc.SignUp(context.Background(), keel.SignUpInput{Email: email, Password: password}); err != nil {
		t.Fatal(err)
	}
	creds, err := json.Marshal(map[string]string{"email": email, "password": password})
	if err != nil {
		t.Fatal(err)
	}

	api := http.StripPrefix("/api/v1", e.h)
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", api)
	// The real page, headers (its Content-Security-Policy too) and all,
	// with the harness added after init.js.
	mux.HandleFunc("GET /api/v1/docs", func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		io.WriteString(w, strings.Replace(rec.Body.String(), "</body>", `<script src="docs/harness.js"></script></body>`, 1))
	})
	mux.HandleFunc("GET /api/v1/docs/harness.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		fmt.Fprintf(w, docsHarness, creds)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// The bound is for a browser that hangs, not a measurement.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=60000", "--dump-dom", srv.URL+"/api/v1/docs")
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, stderr.String())
	}
	m := regexp.MustCompile(`<title>RESULT (.*?)</title>`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("the harness reported nothing; page:\n%.2000s\nbrowser:\n%s", dom, stderr.String())
	}
	var got struct{ BeforeAuthorize, SignedIn, SignedOut int }
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &got); err != nil {
		t.Fatalf("the harness reported %s", m[1])
	}
	if got.BeforeAuthorize != http.StatusUnauthorized {
		t.Errorf("before Authorize, with the session cookie a frontend got, GET /users/me answered %d, want 401", got.BeforeAuthorize)
	}
	if got.SignedIn != http.StatusOK {
		t.Errorf("after Authorize GET /users/me answered %d, want 200", got.SignedIn)
	}
	if got.SignedOut != http.StatusUnauthorized {
		t.Errorf("after Logout GET /users/me answered %d, want 401: the page still acts as the user", got.SignedOut)
	}
}

// TestDocsPageOmitsCookies checks the served configuration where no
// browser is at hand: init.js sets every request's credentials to "omit".
// TestDocsPageActsAsWhatItShows shows what that does in a browser.
func TestDocsPageOmitsCookies(t *testing.T) {
	e := newEnv(t)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest("GET", "/docs/init.js", nil))
	js := rec.Body.String()
	if rec.Code != http.StatusOK || !regexp.MustCompile(`requestInterceptor: function \(request\) \{\s*request\.credentials = "omit";\s*return request;`).MatchString(js) {
		t.Errorf("init.js (%d) does not omit credentials on every request:\n%s", rec.Code, js)
	}
}
