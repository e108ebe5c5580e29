package keel_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/keel-dev/keel"
)

func TestWithClient(t *testing.T) {
	t.Run("a context without a client gives the zero Client", func(t *testing.T) {
		if c := keel.ClientFrom(context.Background()); c != (keel.Client{}) {
			t.Fatalf("ClientFrom = %+v", c)
		}
	})
	t.Run("the client put in comes back out", func(t *testing.T) {
		c := keel.Client{Addr: "192.0.2.1", UserAgent: "curl/8", RequestID: "r1"}
		if got := keel.ClientFrom(keel.WithClient(context.Background(), c)); got != c {
			t.Fatalf("ClientFrom = %+v, want %+v", got, c)
		}
	})
	t.Run("a long user agent is cut at a character boundary", func(t *testing.T) {
		ua := strings.Repeat("é", keel.MaxUserAgent) // two bytes each
		got := keel.ClientFrom(keel.WithClient(context.Background(), keel.Client{UserAgent: "x" + ua})).UserAgent
		if len(got) > keel.MaxUserAgent || !utf8.ValidString(got) || !strings.HasPrefix("x"+ua, got) || len(got) < keel.MaxUserAgent-1 {
			t.Fatalf("user agent cut to %d bytes (valid UTF-8 %v)", len(got), utf8.ValidString(got))
		}
	})
}
