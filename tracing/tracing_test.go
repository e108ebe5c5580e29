package tracing_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/tracing"
)

// env is the API over an SQLite file, traced into an in-memory exporter.
type env struct {
	t     *testing.T
	spans *tracetest.InMemoryExporter
	h     http.Handler
	svc   *keel.Service
}

func newEnv(t *testing.T) *env {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	tr := tracing.New(tp)
	ctx := t.Context()
	st, err := bunstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "keel.db"), bunstore.WithQueryHook(tr.QueryHook()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := keel.New(st, keel.Config{Argon2: keeltest.CheapArgon2})
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(svc, httpapi.Config{Observers: []httpapi.Observer{tr}, Logger: slog.New(slog.DiscardHandler)})
	return &env{t: t, spans: spans, h: h, svc: svc}
}

func (e *env) serve(r *http.Request) int {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	return rec.Code
}

// byParent is the spans of the exporter by their parent's span id.
func (e *env) children(parent trace.SpanID) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range e.spans.GetSpans() {
		if s.Parent.SpanID() == parent {
			out = append(out, s)
		}
	}
	return out
}

func attr(s tracetest.SpanStub, key attribute.Key) attribute.Value {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

const (
	callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan  = "00f067aa0ba902b7"
)

// A request that carries a traceparent gets a server span, named by its
// route, in the caller's trace and a child of the caller's span; the
// database queries it makes, the prepared hot ones included, are spans
// inside it.
func TestARequestSpanContinuesTheCallersTraceAndHoldsItsQueries(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "analytical engine"}); err != nil {
		t.Fatal(err)
	}
	sess, err := e.svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: "analytical engine"})
	if err != nil {
		t.Fatal(err)
	}
	it, err := e.svc.CreateItem(ctx, sess.User, keel.CreateItemInput{Title: "notes"})
	if err != nil {
		t.Fatal(err)
	}
	e.spans.Reset()

	r := httptest.NewRequest("GET", "/items/"+it.ID.String(), nil)
	r.Header.Set("Authorization", "Bearer "+sess.Token)
	r.Header.Set("traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	if code := e.serve(r); code != 200 {
		t.Fatalf("status %d", code)
	}

	parent, _ := trace.SpanIDFromHex(callerSpan)
	reqs := e.children(parent)
	if len(reqs) != 1 {
		t.Fatalf("%d spans are children of the caller's span, want 1: %v", len(reqs), e.spans.GetSpans())
	}
	req := reqs[0]
	t.Run("the request span is the caller's span's child, in its trace", func(t *testing.T) {
		if req.SpanContext.TraceID().String() != callerTrace || !req.Parent.IsRemote() || req.SpanKind != trace.SpanKindServer {
			t.Fatalf("span %s in trace %s, parent %v (remote %v), kind %v", req.Name, req.SpanContext.TraceID(), req.Parent.SpanID(), req.Parent.IsRemote(), req.SpanKind)
		}
	})
	t.Run("it is named by the route pattern and carries the status", func(t *testing.T) {
		if req.Name != "GET /items/{id}" || attr(req, "http.route").AsString() != "/items/{id}" ||
			attr(req, "http.response.status_code").AsInt64() != 200 || attr(req, "http.request.method").AsString() != "GET" {
			t.Fatalf("span %q with %v", req.Name, req.Attributes)
		}
		for _, kv := range req.Attributes {
			if strings.Contains(kv.Value.String(), it.ID.String()) {
				t.Fatalf("the span holds the item's id: %v", kv)
			}
		}
	})
	t.Run("its database queries are its children, the prepared ones included", func(t *testing.T) {
		queries := e.children(req.SpanContext.SpanID())
		var statements []string
		for _, q := range queries {
			if q.SpanKind != trace.SpanKindClient || q.SpanContext.TraceID().String() != callerTrace {
				t.Errorf("query span %s: kind %v, trace %s", q.Name, q.SpanKind, q.SpanContext.TraceID())
			}
			statements = append(statements, attr(q, "db.statement").AsString())
		}
		joined := strings.Join(statements, "\n")
		// Authenticating finds the session and the item it asks for in
		// one prepared statement of bunstore.
		if len(queries) < 1 || !strings.Contains(joined, "FROM sessions AS s JOIN users") || !strings.Contains(joined, "LEFT JOIN items AS i ON i.id = ?") {
			t.Fatalf("query spans under the request: %q", statements)
		}
		if strings.Contains(joined, sess.Token) || strings.Contains(joined, it.ID.String()) {
			t.Fatalf("a query span holds an argument: %q", statements)
		}
	})
}

func TestRequestSpans(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		method string
		path   string
		span   string
		status codes.Code
	}{
		{"a request without traceparent starts a trace of its own", "GET", "/utils/health-check/", "GET /utils/health-check/", codes.Unset},
		{"a request no route matched is named by its method only", "GET", "/no/such/path", "GET", codes.Unset},
		{"a made-up method is named HTTP", "BREW", "/coffee", "HTTP", codes.Unset},
		{"a path's email stays out of the name", "POST", "/password-recovery/private.person@example.com", "POST /password-recovery/{email}", codes.Unset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.spans.Reset()
			e.serve(httptest.NewRequest(tc.method, tc.path, nil))
			var server []tracetest.SpanStub
			for _, s := range e.spans.GetSpans() {
				if s.SpanKind == trace.SpanKindServer {
					server = append(server, s)
				}
			}
			if len(server) != 1 {
				t.Fatalf("%d server spans", len(server))
			}
			s := server[0]
			if s.Name != tc.span || s.Parent.IsValid() || s.Status.Code != tc.status {
				t.Fatalf("span %q, parent %v, status %v", s.Name, s.Parent.SpanID(), s.Status)
			}
		})
	}
	t.Run("a 5xx answer is an error", func(t *testing.T) {
		e := newEnv(t)
		tr := tracing.New(sdktrace.NewTracerProvider(sdktrace.WithSyncer(e.spans)))
		e.spans.Reset()
		h := httpapi.Observe(tr)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		spans := e.spans.GetSpans()
		if len(spans) != 1 || spans[0].Status.Code != codes.Error {
			t.Fatalf("spans %v", spans)
		}
	})
}

func TestStartChecksTheEndpoint(t *testing.T) {
	for _, u := range []string{"", "localhost:4318", "ftp://collector/v1/traces", "http:///v1/traces", "http://collector:4318/v1/traces?x=1"} {
		t.Run(strings.TrimSpace("refuses "+u), func(t *testing.T) {
			if _, err := tracing.Start(t.Context(), tracing.Config{EndpointURL: u}); err == nil {
				t.Fatalf("Start accepted %q", u)
			}
		})
	}
}

// Start exports over OTLP/HTTP: a span reaches the collector, with the
// service's name, once Shutdown flushes the batch.
func TestStartExportsToTheCollector(t *testing.T) {
	got := make(chan *coltracepb.ExportTraceServiceRequest, 10)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.Method != "POST" || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(b, &req) != nil {
			t.Errorf("the collector got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
			w.WriteHeader(400)
			return
		}
		got <- &req
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	t.Setenv("OTEL_SERVICE_NAME", "")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
	tr, err := tracing.Start(t.Context(), tracing.Config{EndpointURL: collector.URL + "/v1/traces", ServiceName: "keel-test", ServiceVersion: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.Observe(tr)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if err := tr.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	close(got)
	var names, services []string
	for req := range got {
		for _, rs := range req.GetResourceSpans() {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "service.name" || kv.GetKey() == "service.version" {
					services = append(services, kv.GetValue().GetStringValue())
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					names = append(names, s.GetName())
				}
			}
		}
	}
	if !slices.Equal(names, []string{"GET"}) || !slices.Equal(services, []string{"keel-test", "v1.2.3"}) {
		t.Fatalf("the collector got spans %q of services %q", names, services)
	}
}
