package httpapi

import (
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// A jsonAppender writes itself as JSON by hand, byte for byte what
// json.Marshal makes of it: the answers every authenticated request of
// the load's hot paths ends with (items and pages of items) skip the
// reflection of encoding/json. ok is false where the hand-written form
// cannot promise that (a time json.Marshal would refuse); writeJSON then
// marshals as usual.
type jsonAppender interface {
	appendJSON(b []byte) (out []byte, ok bool)
}

// jsonBuffers keeps the buffers the appenders write into: the
// ResponseWriter copies a body as it is written, so one is free again
// once Write returns.
var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledJSON is the largest buffer given back to jsonBuffers, so that
// one huge page does not stay in memory for good.
const maxPooledJSON = 64 << 10

func (it *itemPublic) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"id":`...)
	b = appendJSONUUID(b, it.ID)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, it.Title)
	b = append(b, `,"description":`...)
	if it.Description == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *it.Description)
	}
	b = append(b, `,"owner_id":`...)
	b = appendJSONUUID(b, it.OwnerID)
	b = append(b, `,"created_at":`...)
	b, ok := appendJSONTime(b, it.CreatedAt)
	return append(b, '}'), ok
}

func (p *itemsPublic) appendJSON(b []byte) ([]byte, bool) {
	if p.Data == nil {
		return b, false // null, which no route answers: leave it to encoding/json
	}
	b = append(b, `{"data":[`...)
	for i := range p.Data {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = p.Data[i].appendJSON(b); !ok {
			return b, false
		}
	}
	b = append(b, `],"count":`...)
	b = strconv.AppendInt(b, int64(p.Count), 10)
	if p.NextCursor != "" {
		b = append(b, `,"next_cursor":`...)
		b = appendJSONString(b, p.NextCursor)
	}
	return append(b, '}'), true
}

// appendJSONUUID appends id as its MarshalText form (lower-case hex in
// 8-4-4-4-12 groups), quoted.
func appendJSONUUID(b []byte, id uuid.UUID) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&0xF])
	}
	return append(b, '"')
}

// appendJSONTime appends t as time.Time's MarshalJSON does (RFC 3339
// with nanoseconds, quoted); ok is false for a year outside 0-9999 or a
// zone offset MarshalJSON refuses.
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if _, off := t.Zone(); off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// appendJSONString appends s as encoding/json writes a string (with
// HTML escaping, as json.Marshal does): <, > and & as \u003c, \u003e and
// \u0026, control characters escaped, invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
