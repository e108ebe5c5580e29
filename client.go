package keel

import "context"

// Client describes who sent a request: what an audit records beside the
// account. Adapters put it in the context with WithClient (httpapi does it
// for every request); a CLI may leave it empty.
type Client struct {
	// Addr is the client's IP address (after trusted proxies).
	Addr string
	// UserAgent is the client's User-Agent, at most 256 bytes.
	UserAgent string
	// RequestID is the id of the request, to find its log lines.
	RequestID string
}

type clientKey struct{}

// MaxUserAgent is how many bytes of a User-Agent WithClient keeps.
const MaxUserAgent = 256

// WithClient returns ctx carrying c, so that the operations called with
// it record who asked.
func WithClient(ctx context.Context, c Client) context.Context {
	if len(c.UserAgent) > MaxUserAgent {
		c.UserAgent = truncateUTF8(c.UserAgent, MaxUserAgent)
	}
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns the Client WithClient put in ctx, or the zero Client.
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
