package httpapi

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"strings"
	"testing"
)

// seen is a request head as a test names it.
type seen struct {
	line      string
	ambiguous bool
}

func heads(f *framer) []framingHead { return f.heads }

func want(ss ...seen) []framingHead {
	out := make([]framingHead, len(ss))
	for i, s := range ss {
		out[i] = framingHead{line: sha256.Sum256([]byte(s.line)), ambiguous: s.ambiguous}
	}
	return out
}

// feedAll feeds stream to a new framer in pieces of size n (0: at once)
// and returns it and how many bytes it let through.
func feedAll(stream string, n int) (*framer, int) {
	f := &framer{}
	if n == 0 {
		n = len(stream) + 1
	}
	passed := 0
	for i := 0; i < len(stream); i += n {
		piece := stream[i:min(i+n, len(stream))]
		k := f.feed([]byte(piece))
		passed += k
		if k < len(piece) {
			break
		}
	}
	return f, passed
}

func TestFramerFollowsRequestsAsNetHTTPFramesThem(t *testing.T) {
	const smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	ambiguous := "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 47\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	for _, tc := range []struct {
		name   string
		stream string
		heads  []framingHead
		passed int  // -1: all of it
		off    bool // the framer stopped following
	}{
		{"requests without a body follow each other",
			"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
			want(seen{"GET /1 HTTP/1.1", false}, seen{"GET /2 HTTP/1.1", false}), -1, false},
		{"a Content-Length body is skipped, whatever it holds",
			"POST /1 HTTP/1.1\r\nContent-Length: 35\r\n\r\n" + smuggled + "GET /2 HTTP/1.1\r\n\r\n",
			want(seen{"POST /1 HTTP/1.1", false}, seen{"GET /2 HTTP/1.1", false}), -1, false},
		{"a chunked body is skipped chunk by chunk, extensions and trailers included",
			"POST /1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA \r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
			want(seen{"POST /1 HTTP/1.1", false}, seen{"GET /2 HTTP/1.1", false}), -1, false},
		{"bare LF ends header lines, as textproto allows",
			"GET /1 HTTP/1.1\nHost: x\n\nGET /2 HTTP/1.1\n\n",
			want(seen{"GET /1 HTTP/1.1", false}, seen{"GET /2 HTTP/1.1", false}), -1, false},
		{"header names compare without case",
			"POST /1 HTTP/1.1\r\ncontent-length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\n\r\n",
			want(seen{"POST /1 HTTP/1.1", false}, seen{"GET /2 HTTP/1.1", false}), -1, false},
		{"Content-Length with Transfer-Encoding is ambiguous and nothing after its chunked body passes",
			ambiguous + smuggled,
			want(seen{"POST /a HTTP/1.1", true}), len(ambiguous), false},
		{"Transfer-Encoding before Content-Length is as ambiguous",
			"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + smuggled,
			want(seen{"POST /a HTTP/1.1", true}), len("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"), false},
		{"Transfer-Encoding in HTTP/1.0 is ambiguous and the body is framed by Content-Length, as net/http does",
			"POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + smuggled,
			want(seen{"POST /a HTTP/1.0", true}), len("POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"), false},
		{"a request before an ambiguous one is not ambiguous",
			"GET /1 HTTP/1.1\r\n\r\n" + ambiguous + smuggled,
			want(seen{"GET /1 HTTP/1.1", false}, seen{"POST /a HTTP/1.1", true}), len("GET /1 HTTP/1.1\r\n\r\n" + ambiguous), false},
		{"a TLS handshake is not followed",
			"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", nil, -1, true},
		{"HTTP/2's preface is not followed",
			"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", nil, -1, true},
		{"a Transfer-Encoding other than chunked is left to net/http, which refuses it",
			"POST /1 HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n" + smuggled,
			want(seen{"POST /1 HTTP/1.1", false}), -1, true},
		{"a Content-Length folded onto a second line is left to net/http",
			"POST /1 HTTP/1.1\r\nContent-Length: 5\r\n 6\r\n\r\nhello" + smuggled,
			nil, -1, true},
		{"differing Content-Lengths are left to net/http, which refuses them",
			"POST /1 HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
			nil, -1, true},
		{"a chunk without its CRLF is left to net/http, which refuses it",
			"POST /1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n",
			want(seen{"POST /1 HTTP/1.1", false}), -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			passed := tc.passed
			if passed < 0 {
				passed = len(tc.stream)
			}
			for _, n := range []int{0, 1, 2, 7} {
				f, got := feedAll(tc.stream, n)
				if got != passed {
					t.Errorf("in pieces of %d: let %d bytes through, want %d", n, got, passed)
				}
				if !equalHeads(heads(f), tc.heads) {
					t.Errorf("in pieces of %d: heads %v, want %v", n, heads(f), tc.heads)
				}
				if (f.state == stOff) != tc.off {
					t.Errorf("in pieces of %d: stopped following = %v, want %v", n, f.state == stOff, tc.off)
				}
			}
		})
	}
}

func equalHeads(a, b []framingHead) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFramerClaims(t *testing.T) {
	f, _ := feedAll("GET /1 HTTP/1.1\r\n\r\n"+"POST /a HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0)
	line := func(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }
	for _, tc := range []struct {
		name string
		line string
		want framing
	}{
		{"a request nobody has claimed is known", "GET /1 HTTP/1.1", framingSingle},
		{"a request the server answered itself is skipped", "POST /a HTTP/1.1", framingAmbiguous},
		{"a second middleware on the same request gets the same answer", "POST /a HTTP/1.1", framingAmbiguous},
		{"a request the framer never saw is unknown", "GET /other HTTP/1.1", framingUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.claim(line(tc.line)); got != tc.want {
				t.Errorf("claim(%q) = %d, want %d", tc.line, got, tc.want)
			}
		})
	}
}

// FuzzFramer checks that framer and net/http agree on where requests
// start: the heads net/http reads from the bytes framer lets through are
// the heads framer saw, as far as both went, and none comes after a head
// framer found ambiguous.
func FuzzFramer(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n1;a=b\r\nx\r\n0\r\nT: 1\r\n\r\nGET /2 HTTP/1.1\n\n",
	} {
		f.Add([]byte(s), uint16(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		fr := &framer{}
		k := int(split) % (len(data) + 1)
		passed := fr.feed(data[:k])
		if passed == k {
			passed += fr.feed(data[k:])
		}
		var lines []string
		br := bufio.NewReader(bytes.NewReader(data[:passed]))
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				break
			}
			lines = append(lines, req.Method+" "+req.RequestURI+" "+req.Proto)
			if _, err := io.Copy(io.Discard, req.Body); err != nil {
				break
			}
		}
		got := fr.heads
		if len(lines) >= maxFramingHeads {
			return // framer keeps only the newest heads
		}
		for i := range min(len(lines), len(got)) {
			if sha256.Sum256([]byte(lines[i])) != got[i].line {
				t.Fatalf("net/http read request %d as %q; framer saw another", i, lines[i])
			}
		}
		if fr.state != stOff && len(lines) > len(got) {
			// Following, framer must have seen every request net/http
			// read, and so none after an ambiguous one.
			t.Fatalf("net/http read %d requests, framer saw %d: %q", len(lines), len(got), strings.Join(lines, ", "))
		}
	})
}
