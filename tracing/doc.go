// Package tracing gives keel's requests and database queries
// OpenTelemetry spans (go.opentelemetry.io/otel), exported over OTLP/HTTP.
//
// A Tracing is an httpapi.Observer: each request gets a server span that
// continues the caller's W3C traceparent and is named by its route pattern
// ("GET /items/{id}"; never the path, which may hold an email). Its
// QueryHook, given to bunstore.Open with bunstore.WithQueryHook, gives each
// database query a span inside the request's, the prepared hot queries
// included.
//
//	tr, err := tracing.Start(ctx, tracing.Config{EndpointURL: "http://collector:4318/v1/traces"})
//	defer tr.Shutdown(ctx)
//	store, err := bunstore.Open(ctx, dbURL, bunstore.WithQueryHook(tr.QueryHook()))
//	api := httpapi.New(svc, httpapi.Config{Observers: []httpapi.Observer{tr}})
//
// Tracing is opt-in: without a Tracing there is no tracer provider, no
// observer and no query hook, so it costs nothing. keel serve starts one
// only when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set.
package tracing
