package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/store/memstore"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// fastArgon2 makes hashing cheap in tests; production uses keel's defaults.
var fastArgon2 = keeltest.CheapArgon2

// env is one API over a fresh store (a memstore unless newEnvOn is given
// another).
type env struct {
	t     testing.TB
	store keel.Store
	svc   *keel.Service
	h     http.Handler
	hc    httpapi.Config // the configuration h was made with
	mail  *keeltest.Mailbox
	logs  *keeltest.SyncBuffer
	doc   []byte
	val   validator.Validator
	// noValidate turns the response check off (for answers the document
	// cannot describe, such as those of a deliberately panicking route).
	noValidate bool
}

type envOption func(*keel.Config, *httpapi.Config)

func withHTTP(f func(*httpapi.Config)) envOption {
	return func(_ *keel.Config, c *httpapi.Config) { f(c) }
}

func withKeel(f func(*keel.Config)) envOption {
	return func(c *keel.Config, _ *httpapi.Config) { f(c) }
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, memstore.New(), opts...)
}

// newEnvOn is newEnv over the store st (see keeltest.EachStore).
func newEnvOn(t testing.TB, st keel.Store, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, store: st, mail: keeltest.NewMailbox(), logs: &keeltest.SyncBuffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	kc := keel.Config{Argon2: fastArgon2, Mailer: e.mail, Logger: log}
	hc := httpapi.Config{Logger: log}
	for _, o := range opts {
		o(&kc, &hc)
	}
	svc, err := keel.New(st, kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	e.svc = svc
	e.hc = hc
	e.h = httpapi.New(svc, hc)
	e.doc = e.fetchDoc()
	e.val = docValidator(t, e.doc)
	return e
}

func (e *env) fetchDoc() []byte {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != 200 {
		e.t.Fatalf("GET /openapi.json: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

var validators sync.Map // string(doc) -> validator.Validator

func docValidator(t testing.TB, doc []byte) validator.Validator {
	t.Helper()
	if v, ok := validators.Load(string(doc)); ok {
		return v.(validator.Validator)
	}
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		t.Fatalf("parsing the OpenAPI document: %v", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("building the validator: %v", errs)
	}
	validators.Store(string(doc), v)
	return v
}

// req describes a request.
type req struct {
	method, path string
	json         any    // marshalled as the JSON body
	raw          string // a body as it is
	form         url.Values
	bearer       string
	cookie       string
	device       string // the device cookie
	header       map[string]string
}

// resp is an answer.
type resp struct {
	*http.Response
	body []byte
}

func (r *resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.StatusCode, err, r.body)
	}
	return m
}

// detail returns the string detail of an error answer.
func (r *resp) detail(t testing.TB) string {
	t.Helper()
	d, _ := r.json(t)["detail"].(string)
	return d
}

const cookieName = httpapi.DefaultCookieName

func (e *env) build(q req) *http.Request {
	var body io.Reader = http.NoBody
	ct := ""
	switch {
	case q.json != nil:
		b, err := json.Marshal(q.json)
		if err != nil {
			e.t.Fatal(err)
		}
		body, ct = bytes.NewReader(b), "application/json"
	case q.form != nil:
		body, ct = strings.NewReader(q.form.Encode()), "application/x-www-form-urlencoded"
	case q.raw != "":
		body = strings.NewReader(q.raw)
	}
	r := httptest.NewRequest(q.method, q.path, body)
	r.RemoteAddr = "192.0.2.10:40000"
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	if q.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+q.bearer)
	}
	if q.cookie != "" {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: q.cookie})
	}
	if q.device != "" {
		r.AddCookie(&http.Cookie{Name: httpapi.DefaultDeviceCookieName, Value: q.device})
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	return r
}

// do serves the request and checks the answer against the OpenAPI
// document.
func (e *env) do(q req) *resp {
	e.t.Helper()
	r := e.build(q)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	res.Body = io.NopCloser(bytes.NewReader(b))
	if !e.noValidate {
		e.checkResponse(r, res)
	}
	return &resp{Response: res, body: b}
}

// checkResponse validates an answer against the schema the document
// gives its route and status. Answers of paths the document does not
// describe (unknown routes, the document and docs page) are skipped.
func (e *env) checkResponse(r *http.Request, res *http.Response) {
	e.t.Helper()
	p := r.URL.Path
	if p == "/openapi.json" || p == "/docs" || strings.HasPrefix(p, "/docs/") {
		return
	}
	if !e.documented(r) {
		return
	}
	// The document names the canonical form of collection paths.
	vr := r.Clone(context.Background())
	if canon := canonical(p); canon != p {
		vr.URL.Path = canon
	}
	ok, errs := e.val.ValidateHttpResponse(vr, res)
	if !ok {
		for _, err := range errs {
			e.t.Errorf("%s %s → %d: answer does not match the OpenAPI document: %s (%s)", r.Method, p, res.StatusCode, err.Message, err.Reason)
		}
	}
}

// canonical maps the slash-less form of a collection path to the form the
// document names.
func canonical(p string) string {
	switch p {
	case "/users", "/items", "/reset-password", "/utils/health-check", "/utils/test-email", "/private/users", "/verify-email", "/confirm-email":
		return p + "/"
	}
	return p
}

// documented reports whether the document has an operation for r.
func (e *env) documented(r *http.Request) bool {
	var d struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(e.doc, &d); err != nil {
		e.t.Fatal(err)
	}
	p := canonical(r.URL.Path)
	for tmpl, ops := range d.Paths {
		if _, ok := ops[strings.ToLower(r.Method)]; !ok {
			continue
		}
		if matchTemplate(tmpl, p) {
			return true
		}
	}
	return false
}

func matchTemplate(tmpl, p string) bool {
	ts, ps := strings.Split(tmpl, "/"), strings.Split(p, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") {
			if ps[i] == "" {
				return false
			}
			continue
		}
		if ts[i] != ps[i] {
			return false
		}
	}
	return true
}

const password = "correct horse battery"

// account creates a user through keel (no HTTP) and returns it.
func (e *env) account(email string, superuser bool) *keel.User {
	e.t.Helper()
	create := e.svc.SignUp
	if superuser {
		create = e.svc.Bootstrap
	}
	u, err := create(context.Background(), keel.SignUpInput{Email: email, Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// login logs in over HTTP and returns the token.
func (e *env) login(email string) string {
	e.t.Helper()
	res := e.do(req{method: "POST", path: "/login/access-token", form: url.Values{"username": {email}, "password": {password}}})
	if res.StatusCode != 200 {
		e.t.Fatalf("login %s: %d %s", email, res.StatusCode, res.body)
	}
	tok, _ := res.json(e.t)["access_token"].(string)
	return tok
}

// userToken creates a user and logs it in.
func (e *env) userToken(email string, superuser bool) (*keel.User, string) {
	e.t.Helper()
	u := e.account(email, superuser)
	return u, e.login(email)
}

// expect checks an answer's status and, when detail is not "", its detail.
func expect(t *testing.T, res *resp, status int, detail string) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, status, res.body)
	}
	if detail != "" {
		if got := res.detail(t); got != detail {
			t.Fatalf("detail %q, want %q", got, detail)
		}
	}
}

// validationDetail returns the 422 list of an answer.
func validationDetail(t *testing.T, res *resp) []map[string]any {
	t.Helper()
	if res.StatusCode != 422 {
		t.Fatalf("status %d, want 422: %s", res.StatusCode, res.body)
	}
	var body struct {
		Detail []map[string]any `json:"detail"`
	}
	if err := json.Unmarshal(res.body, &body); err != nil || len(body.Detail) == 0 {
		t.Fatalf("422 body %s is not a validation list: %v", res.body, err)
	}
	return body.Detail
}

// hasEntry reports whether a 422 list has an entry of the type at loc.
func hasEntry(list []map[string]any, typ string, loc ...any) bool {
	for _, e := range list {
		if e["type"] != typ {
			continue
		}
		l, _ := e["loc"].([]any)
		if len(l) != len(loc) {
			continue
		}
		same := true
		for i := range loc {
			if l[i] != loc[i] {
				same = false
			}
		}
		if same {
			return true
		}
	}
	return false
}
