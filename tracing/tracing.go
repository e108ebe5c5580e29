package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/extra/bunotel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/keel-dev/keel/httpapi"
)

// Tracing makes the spans of keel's requests and queries. Make one with
// Start or New; it is safe for concurrent use.
type Tracing struct {
	provider   trace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	shutdown   func(context.Context) error
}

var _ httpapi.Observer = (*Tracing)(nil)

// instrumentation names keel as the maker of its spans.
const instrumentation = "github.com/keel-dev/keel"

// Config says where spans go and whose they are.
type Config struct {
	// EndpointURL is the OTLP/HTTP URL spans are posted to, path included:
	// http://collector:4318/v1/traces. Required.
	EndpointURL string
	// ServiceName and ServiceVersion name the service in the spans'
	// resource (service.name, service.version). OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES, when set, win. Default "keel" and none.
	ServiceName    string
	ServiceVersion string
}

// Start exports spans over OTLP/HTTP (protobuf) to cfg.EndpointURL, in
// batches, from a tracer provider of its own; the process's global
// provider is left alone. The OpenTelemetry SDK's variables apply
// (OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT,
// OTEL_TRACES_SAMPLER, ...): by default a request is sampled when its
// caller's traceparent says so, or when there is none. Call Shutdown to
// send what is buffered.
func Start(ctx context.Context, cfg Config) (*Tracing, error) {
	if err := CheckEndpointURL(cfg.EndpointURL); err != nil {
		return nil, err
	}
	name := cfg.ServiceName
	if name == "" {
		name = "keel"
	}
	service := []attribute.KeyValue{semconv.ServiceName(name)}
	if cfg.ServiceVersion != "" {
		service = append(service, semconv.ServiceVersion(cfg.ServiceVersion))
	}
	// Later options win: the environment's over cfg's.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(service...), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("tracing: describing the service: %w", err)
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.EndpointURL))
	if err != nil {
		return nil, fmt.Errorf("tracing: the OTLP exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	t := New(tp)
	t.shutdown = tp.Shutdown
	return t, nil
}

// CheckEndpointURL reports whether u can be Config.EndpointURL: an http or
// https URL with a host. (The exporter would silently fall back to
// localhost on a URL it cannot read.)
func CheckEndpointURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
		return fmt.Errorf("tracing: %q is not an http(s)://host[:port][/path] URL", u)
	}
	return nil
}

// New returns a Tracing whose spans tp makes: a provider of the host's
// own, or, in tests, one with tracetest's exporter. Shutdown leaves tp
// running.
func New(tp trace.TracerProvider) *Tracing {
	return &Tracing{
		provider:   tp,
		tracer:     tp.Tracer(instrumentation),
		propagator: propagation.TraceContext{},
		shutdown:   func(context.Context) error { return nil },
	}
}

// Shutdown sends the spans still buffered and stops a Tracing from Start,
// waiting at most until ctx ends.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if err := t.shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("tracing: shutting down: %w", err)
	}
	return nil
}

// StartRequest starts r's server span, the child of the span its
// traceparent header names, if any. Its name is the method until
// EndRequest knows the route.
func (t *Tracing) StartRequest(r *http.Request) context.Context {
	ctx := t.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	name, method := "HTTP", "_OTHER"
	if knownMethod(r.Method) {
		name, method = r.Method, r.Method
	}
	ctx, _ = t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(method)))
	return ctx
}

// EndRequest names the span by the route pattern, records the status and
// ends it. A 5xx answer is an error; a 4xx is the client's, not the
// server's.
func (t *Tracing) EndRequest(ctx context.Context, a httpapi.Answered) {
	span := trace.SpanFromContext(ctx)
	if a.Route != "" {
		span.SetName(a.Route)
		_, path, _ := strings.Cut(a.Route, " ")
		span.SetAttributes(semconv.HTTPRoute(path))
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(a.Status))
	if a.Status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(a.Status))
	}
	span.End()
}

// knownMethod reports whether a span may name the method m: a client's
// made-up methods would make names without end, so OpenTelemetry's
// conventions name them all "HTTP" (and "_OTHER" in attributes).
func knownMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return true
	}
	return false
}

// QueryHook returns a bun query hook (bunotel's) that gives each
// database query a client span, the child of the span in the query's
// context (the request's). Give it to bunstore.Open with
// bunstore.WithQueryHook. A span holds the query's SQL with its
// placeholders, never its arguments.
func (t *Tracing) QueryHook() bun.QueryHook {
	return bunotel.NewQueryHook(
		bunotel.WithTracerProvider(t.provider),
		// keel's database metrics are Prometheus's (package metrics).
		bunotel.WithMeterProvider(noop.NewMeterProvider()),
	)
}
