package tracing_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
	"github.com/keel-dev/keel/store/memstore"
	"github.com/keel-dev/keel/tracing"
)

// A request that carries a traceparent is traced as part of its caller's
// trace. Here the spans go to an in-memory exporter; tracing.Start sends
// them to an OTLP collector instead.
func Example() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	tr := tracing.New(tp)

	svc, err := keel.New(memstore.New(), keel.Config{})
	if err != nil {
		panic(err)
	}
	api := httpapi.New(svc, httpapi.Config{Observers: []httpapi.Observer{tr}, Logger: slog.New(slog.DiscardHandler)})

	r := httptest.NewRequest("GET", "/utils/health-check/", nil)
	r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	api.ServeHTTP(httptest.NewRecorder(), r)

	for _, s := range spans.GetSpans() {
		fmt.Println(s.Name, "in trace", s.SpanContext.TraceID(), "under", s.Parent.SpanID())
	}
	// Output:
	// GET /utils/health-check/ in trace 4bf92f3577b34da6a3ce929d0e0e4736 under 00f067aa0ba902b7
}
