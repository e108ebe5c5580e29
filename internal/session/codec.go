package session

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Codec encodes scs session data in a small binary form; it is an
// scs.Codec. scs's default gob codec re-sends type information with every
// session, which made decoding the largest cost of authenticating a
// request; keel only keeps strings in a session, so a length-prefixed
// layout is enough:
//
//	version(1) deadline-unix-nanos(8) count(uvarint) { keylen key vallen val }...
type Codec struct{}

const codecVersion = 1

var errMalformed = errors.New("session: malformed session data")

// Encode encodes a session's deadline and values, which must be strings.
func (Codec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	b := make([]byte, 0, 48)
	b = append(b, codecVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(deadline.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(values)))
	for k, v := range values {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("session: value %q is a %T; only strings are kept", k, v)
		}
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b, nil
}

// Decode reads back what Encode made; anything else is an error.
func (Codec) Decode(b []byte) (time.Time, map[string]any, error) {
	if len(b) < 10 || b[0] != codecVersion {
		return time.Time{}, nil, errMalformed
	}
	deadline := time.Unix(0, int64(binary.BigEndian.Uint64(b[1:9]))).UTC()
	b = b[9:]
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return time.Time{}, nil, errMalformed
	}
	b = b[w:]
	values := make(map[string]any, n)
	for range n {
		var k, v []byte
		var ok bool
		if k, b, ok = readBytes(b); !ok {
			return time.Time{}, nil, errMalformed
		}
		if v, b, ok = readBytes(b); !ok {
			return time.Time{}, nil, errMalformed
		}
		key := ownerKey // the key every session has: not copied per decode
		if string(k) != ownerKey {
			key = string(k)
		}
		values[key] = string(v)
	}
	if len(b) != 0 {
		return time.Time{}, nil, errMalformed
	}
	return deadline, values, nil
}

func readBytes(b []byte) (s, rest []byte, ok bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return nil, nil, false
	}
	return b[w : w+int(n)], b[w+int(n):], true
}
