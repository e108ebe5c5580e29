package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
)

// startPprof serves net/http/pprof on addr (a loopback address, see
// KEEL_PPROF_ADDR) on a mux of its own, never on the API's, and returns
// the address bound. stop closes it.
func startPprof(ctx context.Context, addr string, log *slog.Logger) (bound net.Addr, stop func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No write timeout: a CPU profile or trace streams for ?seconds=N.
	return serveAside(ctx, "KEEL_PPROF_ADDR", "pprof", addr, mux, 0, log)
}
