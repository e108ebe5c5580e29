package main

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
)

// apiHandler is httpapi configured from the environment, with the
// observers of metrics and tracing when they are on; serve mounts it at
// /api/v1.
func apiHandler(c config, svc *keel.Service, log *slog.Logger, observers ...httpapi.Observer) http.Handler {
	cfg := httpapi.Config{
		Development:    c.Development(),
		MaxBodyBytes:   c.MaxBodyBytes,
		CORSOrigins:    c.AllCORSOrigins(),
		TrustedProxies: c.TrustedProxies,
		Logger:         log,
		Observers:      observers,
		Title:          c.ProjectName,

		CompletionTimeout: c.CompletionTimeout,
	}
	if len(c.OIDCProviders) > 0 {
		cfg.LoginRedirectURL = c.LoginRedirectURL
	}
	// A released build names its version in the OpenAPI document; a
	// build from a checkout ("(devel)") keeps httpapi's default.
	if v := moduleVersion(); strings.HasPrefix(v, "v") {
		cfg.Version = v
	}
	return httpapi.New(svc, cfg)
}
