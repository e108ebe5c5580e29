package main

import (
	"context"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel"

	"github.com/keel-dev/keel/tracing"
)

// startTracing starts exporting spans when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set; otherwise it returns nil and
// keel has no tracer provider, observer or query hook at all. Failed
// exports are logged as warnings.
func startTracing(ctx context.Context, c config, log *slog.Logger) (*tracing.Tracing, error) {
	u := c.TracesURL()
	if u == "" {
		return nil, nil
	}
	// The SDK reports failed exports to OpenTelemetry's global handler,
	// which would print them in a format of its own.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: OpenTelemetry failed", "err", err)
	}))
	cfg := tracing.Config{EndpointURL: u, ServiceName: c.OTelServiceName}
	if v := moduleVersion(); strings.HasPrefix(v, "v") {
		cfg.ServiceVersion = v
	}
	return tracing.Start(ctx, cfg)
}
