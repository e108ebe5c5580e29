package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// FramingListener wraps ln so that no request on its connections can
// smuggle another one. It follows each connection's HTTP/1 requests as
// net/http frames them, and when a request's body could be framed two
// ways (Content-Length and Transfer-Encoding together, or
// Transfer-Encoding in HTTP/1.0; RFC 9112 §6.1), the connection carries
// nothing after that request's body: bytes a front proxy framed
// differently never reach the server as a request of their own. It also
// tells StrictFraming which request that was, through FramingContext, so
// that the request is refused with 400 and the connection closed:
//
//	srv := &http.Server{Handler: h, ConnContext: httpapi.FramingContext}
//	err := srv.Serve(httpapi.FramingListener(ln))
//
// net/http drops Content-Length when Transfer-Encoding is present before a
// handler runs, so this is the only place the combination can be seen.
// It follows plain-text HTTP/1 only: a connection that starts with TLS or
// speaks another protocol is passed through untouched, and StrictFraming
// then closes the connection after every chunked request instead.
func FramingListener(ln net.Listener) net.Listener { return framingListener{ln} }

type framingListener struct{ net.Listener }

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c}, nil
}

type framingConnKey struct{}

// FramingContext is an http.Server ConnContext that lets StrictFraming
// find what FramingListener learnt about a connection. Other connections
// are left as they are.
func FramingContext(ctx context.Context, c net.Conn) context.Context {
	if fc, ok := c.(*framingConn); ok {
		return context.WithValue(ctx, framingConnKey{}, fc)
	}
	return ctx
}

// framingConn is a connection FramingListener accepted.
type framingConn struct {
	net.Conn
	mu sync.Mutex // guards f: Read feeds it, handlers claim its heads
	f  framer
}

// Read passes on what the client sent, up to the end of a request with
// ambiguous framing. Past it, Read keeps reading and dropping whatever
// comes until the client or a deadline ends the connection, so that
// net/http never parses it.
func (c *framingConn) Read(p []byte) (int, error) {
	for {
		n, err := c.Conn.Read(p)
		c.mu.Lock()
		keep := c.f.feed(p[:n])
		c.mu.Unlock()
		if keep > 0 || n == 0 || err != nil {
			return keep, err
		}
	}
}

// framing is what StrictFraming knows of a request's framing.
type framing int

const (
	framingUnknown   framing = iota // the connection is not followed
	framingSingle                   // one way to frame the body
	framingAmbiguous                // Content-Length and Transfer-Encoding, or Transfer-Encoding in HTTP/1.0
)

// framingOf returns what the connection's FramingListener learnt about r.
func framingOf(r *http.Request) framing {
	c, ok := r.Context().Value(framingConnKey{}).(*framingConn)
	if !ok {
		return framingUnknown
	}
	line := sha256.Sum256([]byte(r.Method + " " + r.RequestURI + " " + r.Proto))
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.f.claim(line)
}

// Limits of what framer keeps. Past them it stops following the
// connection, and net/http (whose own limits are these or smaller)
// refuses the request anyway.
const (
	maxFramingRequestLine = 1<<20 + 4096 // http.DefaultMaxHeaderBytes and bufio's slack
	maxFramingHead        = 1<<20 + 4096
	maxFramingHeaderLine  = 256  // enough for Content-Length and Transfer-Encoding
	maxFramingChunkLine   = 4096 // net/http's limit on a chunk-size line
	maxFramingHeads       = 64   // heads no handler has claimed (pipelining)
)

type framerState int

const (
	stRequestLine framerState = iota
	stHeader
	stFixedBody
	stChunkSize
	stChunkData
	stChunkEnd // the CRLF after a chunk's data
	stTrailer
	stEnded // a request with ambiguous framing was passed on: nothing more is
	stOff   // not following: everything is passed on
)

// framingHead is a request head framer has seen.
type framingHead struct {
	line      [sha256.Size]byte // of the request line, as a handler sees it
	ambiguous bool
}

// framer follows a stream of HTTP/1 requests as net/http's server reads
// them: request line, header fields up to an empty line, then a chunked
// body when Transfer-Encoding is present (HTTP/1.1), or Content-Length
// bytes, or none. It is fed the bytes as they arrive.
type framer struct {
	state   framerState
	line    []byte // the line being read, at most the state's limit
	lineLen int    // its length so far, end of line included
	remain  int64  // bytes left in the body, the chunk, or the chunk's CRLF
	started bool   // a byte has been seen

	// The head being read.
	headLen     int
	requestLine [sha256.Size]byte
	proto       string
	contentLen  string // the Content-Length value, when present
	hasCL       bool
	te          string // the Transfer-Encoding value, when one is present
	teFields    int
	lastFraming bool // the last header line was Content-Length or Transfer-Encoding
	ambiguous   bool

	heads []framingHead // seen, not yet claimed, oldest first
	last  *framingHead  // the last claimed, for a second StrictFraming on the same request
}

// feed follows p and returns how much of it the server may read: all of
// it, except what comes after the end of a request with ambiguous
// framing.
func (f *framer) feed(p []byte) int {
	if !f.started && len(p) > 0 {
		f.started = true
		if p[0] == 0x16 { // a TLS handshake record: not plain-text HTTP/1
			f.state = stOff
		}
	}
	for i := 0; i < len(p); {
		switch f.state {
		case stOff:
			return len(p)
		case stEnded:
			return i
		case stFixedBody, stChunkData:
			n := min(int64(len(p)-i), f.remain)
			i += int(n)
			f.remain -= n
			if f.remain == 0 {
				if f.state == stFixedBody {
					f.endMessage()
				} else {
					f.state, f.remain = stChunkEnd, 2
				}
			}
		case stChunkEnd:
			if p[i] != "\r\n"[2-f.remain] {
				f.state = stOff // net/http refuses the body and closes
				continue
			}
			i++
			f.remain--
			if f.remain == 0 {
				f.state = stChunkSize
			}
		default: // a line
			j := bytes.IndexByte(p[i:], '\n')
			end := len(p)
			if j >= 0 {
				end = i + j + 1
			}
			f.addToLine(p[i:end])
			i = end
			if j >= 0 && f.state != stOff {
				f.endLine()
				f.line, f.lineLen = f.line[:0], 0
				if cap(f.line) > 4096 {
					f.line = nil // a long request line: do not keep its buffer
				}
			}
		}
	}
	return len(p)
}

// addToLine keeps b, a piece of the current line, within the state's limits.
func (f *framer) addToLine(b []byte) {
	f.lineLen += len(b)
	keep, limit := len(b), 0
	switch f.state {
	case stRequestLine:
		limit = maxFramingRequestLine
	case stHeader, stTrailer:
		limit = maxFramingHeaderLine
		f.headLen += len(b)
		if f.headLen > maxFramingHead {
			f.state = stOff
			return
		}
	case stChunkSize:
		limit = maxFramingChunkLine + 2
	}
	if f.lineLen > limit {
		if f.state != stHeader && f.state != stTrailer {
			f.state = stOff
			return
		}
		// A long header line: only its start matters, unless it is a
		// framing field (see endLine).
		keep = max(0, len(b)-(f.lineLen-limit))
	}
	f.line = append(f.line, b[:keep]...)
}

// endLine handles a complete line, its end of line included.
func (f *framer) endLine() {
	truncated := f.lineLen > len(f.line)
	switch f.state {
	case stRequestLine:
		text := string(trimEOL(f.line))
		if text == "" {
			f.state = stOff // net/http refuses an empty request line
			return
		}
		f.requestLine = sha256.Sum256([]byte(text))
		_, rest, _ := strings.Cut(text, " ")
		_, f.proto, _ = strings.Cut(rest, " ")
		f.headLen = 0
		f.state = stHeader
	case stHeader:
		text := trimEOL(f.line)
		if len(text) == 0 {
			f.endHead()
			return
		}
		if text[0] == ' ' || text[0] == '\t' {
			// A continuation of the field before: it must not extend a
			// framing field, whose value would then be read another way.
			if f.lastFraming {
				f.state = stOff
			}
			return
		}
		name, value, ok := bytes.Cut(text, []byte(":"))
		f.lastFraming = false
		if !ok {
			f.state = stOff // net/http refuses a malformed header line
			return
		}
		switch {
		case asciiEqualFold(name, "Content-Length"):
			v := string(bytes.Trim(value, " \t"))
			if truncated || (f.hasCL && v != f.contentLen) {
				f.state = stOff // net/http refuses differing Content-Lengths
				return
			}
			f.hasCL, f.contentLen, f.lastFraming = true, v, true
		case asciiEqualFold(name, "Transfer-Encoding"):
			if truncated {
				f.state = stOff
				return
			}
			f.te = string(bytes.Trim(value, " \t"))
			f.teFields++
			f.lastFraming = true
		}
	case stChunkSize:
		// net/http: CRLF only, a hexadecimal size, maybe an extension.
		text, ok := bytes.CutSuffix(f.line, []byte("\r\n"))
		if !ok || bytes.IndexByte(text, '\r') >= 0 {
			f.state = stOff
			return
		}
		text, _, _ = bytes.Cut(text, []byte(";"))
		text = bytes.TrimRight(text, " \t")
		n, err := strconv.ParseUint(string(text), 16, 64)
		if err != nil || len(text) > 16 || n > 1<<62 {
			f.state = stOff
			return
		}
		if n == 0 {
			f.headLen = 0
			f.state = stTrailer
			return
		}
		f.state, f.remain = stChunkData, int64(n)
	case stTrailer:
		if len(trimEOL(f.line)) == 0 {
			f.endMessage()
		}
	}
}

// endHead decides how the body of the request whose head just ended is
// framed, as net/http does, and records the head.
func (f *framer) endHead() {
	major, minor, ok := http.ParseHTTPVersion(f.proto)
	if !ok || major != 1 {
		f.state = stOff // refused, or not HTTP/1: net/http answers it
		return
	}
	chunked := f.teFields > 0 && minor >= 1 // net/http ignores Transfer-Encoding in HTTP/1.0
	f.ambiguous = f.teFields > 0 && (f.hasCL || minor == 0)
	f.heads = append(f.heads, framingHead{line: f.requestLine, ambiguous: f.ambiguous})
	if len(f.heads) > maxFramingHeads {
		f.heads = append(f.heads[:0], f.heads[1:]...)
	}
	switch {
	case chunked:
		if f.teFields != 1 || !asciiEqualFold([]byte(f.te), "chunked") {
			f.state = stOff // net/http answers 501 and closes
			return
		}
		f.state = stChunkSize
	case f.hasCL:
		n, err := strconv.ParseUint(f.contentLen, 10, 63)
		if err != nil {
			f.state = stOff // net/http answers 400 and closes
			return
		}
		if n == 0 {
			f.endMessage()
			return
		}
		f.state, f.remain = stFixedBody, int64(n)
	default:
		f.endMessage()
	}
}

// endMessage ends a request: the next byte starts another, unless this
// one was framed ambiguously.
func (f *framer) endMessage() {
	if f.ambiguous {
		f.state = stEnded
		return
	}
	f.state = stRequestLine
	f.proto, f.contentLen, f.te = "", "", ""
	f.hasCL, f.teFields, f.lastFraming = false, 0, false
}

// claim returns what framer knows of the request with the request line's
// hash, and forgets the heads before it.
func (f *framer) claim(line [sha256.Size]byte) framing {
	for i, h := range f.heads {
		if h.line == line {
			f.last = &framingHead{line: h.line, ambiguous: h.ambiguous}
			f.heads = append(f.heads[:0], f.heads[i+1:]...)
			return verdict(h.ambiguous)
		}
	}
	if f.last != nil && f.last.line == line {
		return verdict(f.last.ambiguous) // claimed already, by an outer StrictFraming
	}
	return framingUnknown
}

func verdict(ambiguous bool) framing {
	if ambiguous {
		return framingAmbiguous
	}
	return framingSingle
}

// trimEOL removes a line's LF and the CR before it, if any, as
// textproto does.
func trimEOL(b []byte) []byte {
	b, _ = bytes.CutSuffix(b, []byte("\n"))
	b, _ = bytes.CutSuffix(b, []byte("\r"))
	return b
}

// asciiEqualFold reports whether b equals s, ignoring ASCII case, as header
// field names compare.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
