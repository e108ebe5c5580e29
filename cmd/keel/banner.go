package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/keel-dev/keel"
)

// bannerInfo is what the start-up banner tells.
type bannerInfo struct {
	config          config
	addr            net.Addr // the API's listener, as bound
	pprofAddr       net.Addr // nil when off
	metricsAddr     net.Addr // nil when off
	store           keel.Store
	createSuperuser string // the command that makes one
	log             *slog.Logger
}

// writeBanner tells a person who started keel where it is: the URL to open
// and the address really bound (the port :0 picked, the interfaces), where
// the documentation, the frontend and the data are, and, when there is no
// superuser yet, the command that makes one. The first line is
// "keel is listening on <URL>" followed by a space or the line's end.
func writeBanner(ctx context.Context, w io.Writer, b bannerInfo) {
	c := b.config
	base := baseURL(b.addr)
	fmt.Fprintf(w, "keel is listening on %s (bound to %s)\n", base, describeListener(b.addr))
	fmt.Fprintf(w, "API documentation: %s%s/docs\n", base, apiPrefix)
	if c.FrontendDir != "" {
		fmt.Fprintf(w, "Frontend: %s/ from %s\n", base, c.FrontendDir)
	}
	fmt.Fprintf(w, "Data: %s\n", describeDatabase(c.DatabaseURL))
	if b.pprofAddr != nil {
		fmt.Fprintf(w, "Profiles (pprof): %s/debug/pprof/\n", baseURL(b.pprofAddr))
	}
	if b.metricsAddr != nil {
		fmt.Fprintf(w, "Metrics (Prometheus): %s/metrics\n", baseURL(b.metricsAddr))
	}
	if u := c.TracesURL(); u != "" {
		fmt.Fprintf(w, "Traces (OpenTelemetry): sent over OTLP/HTTP to %s\n", redactURL(u))
	}
	if c.isMemory() {
		if c.FirstSuperuser == "" {
			fmt.Fprintln(w, "No superuser: memory: keeps none between runs; set FIRST_SUPERUSER and FIRST_SUPERUSER_PASSWORD to have one made at start.")
		}
		return
	}
	switch has, known, err := hasSuperuser(ctx, b.store); {
	case err != nil:
		b.log.WarnContext(ctx, "could not tell whether a superuser exists", "err", err)
	case known && !has:
		fmt.Fprintf(w, "No superuser yet. Make one with: %s\n", b.createSuperuser)
	}
}

// redactURL is u without the password its user information may hold.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(an unreadable URL)"
	}
	return p.Redacted()
}

// baseURL is the URL a person on this machine opens to reach addr.
func baseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := "localhost"
	if !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

// describeListener is the bound address and who can reach it.
func describeListener(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	switch {
	case !ok:
		return addr.String()
	case tcp.IP.IsUnspecified() && tcp.IP.To4() != nil:
		return addr.String() + ": every IPv4 interface"
	case tcp.IP.IsUnspecified():
		return addr.String() + ": every interface"
	case tcp.IP.IsLoopback():
		return addr.String() + ": this machine only"
	}
	return addr.String()
}

// program is how to run this binary again, for the commands keel
// suggests: argv0 as typed, or "go run ./cmd/keel" when it is the
// temporary binary of `go run` (the README's way to start keel).
func program(argv0 string) string {
	if strings.Contains(filepath.ToSlash(argv0), "/go-build") {
		return "go run ./cmd/keel"
	}
	return commandLine(argv0)
}

// commandLine joins words into a POSIX shell command, quoting those that
// need it.
func commandLine(words ...string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		if w != "" && strings.Trim(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
			quoted[i] = w
		} else {
			quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}

// explicitFlag reports whether the command line set the flag.
func explicitFlag(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
