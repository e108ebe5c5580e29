package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// healthPath is the API's liveness route, under apiPrefix.
const healthPath = "/utils/health-check/"

// healthcheckCmd runs `keel healthcheck`: it asks the server this
// configuration starts (KEEL_ADDR, or -addr) whether it is up, for a
// container's HEALTHCHECK, since a distroless image has no curl. Exit
// code 0: it answered 200 true; 1: it did not.
func healthcheckCmd(ctx context.Context, args []string, sio stdio, env lookupFunc) error {
	fs := flagSet("healthcheck", sio.err, "healthcheck [-addr host:port] [-timeout 5s] [-env-file file]", func(w io.Writer) {
		fmt.Fprintf(w, "GET %s%s on the server's address (127.0.0.1 when it listens on every interface);\n", apiPrefix, healthPath)
		fmt.Fprintln(w, "exit code 0 when it answers 200 true, 1 otherwise.")
	})
	envFile := envFileFlag(fs)
	var addr string
	fs.Func("addr", "the server's `host:port`, as given to serve -addr; wins over KEEL_ADDR", func(v string) (err error) {
		addr, err = parseAddr(v)
		return err
	})
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this `long`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"healthcheck takes no arguments"}
	}
	if *timeout <= 0 {
		return usageError{"-timeout must be positive"}
	}
	if addr == "" {
		c, err := loadConfigFiles(fs, *envFile, env)
		if err != nil {
			return err
		}
		addr = c.Addr
	}
	url := "http://" + dialAddr(addr) + apiPrefix + healthPath
	if err := healthcheck(ctx, url, *timeout); err != nil {
		return err
	}
	_, err := fmt.Fprintf(sio.out, "%s: 200 true\n", url)
	return err
}

// dialAddr is where to reach a server listening on addr from this
// machine: its own host, or the loopback address when it listens on every
// interface.
func dialAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// healthcheck GETs url, directly (never through a proxy), and wants 200
// with the body true.
func healthcheck(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return err // *url.Error names the URL
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "true" {
		return fmt.Errorf("%s answered %s: %.100q", url, resp.Status, body)
	}
	return nil
}
