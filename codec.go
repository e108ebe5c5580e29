package keel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// sessionCodec encodes scs session data in a small binary form. scs's
// default gob codec re-sends type information with every session, which
// made decoding the largest cost of authenticating a request; keel only
// keeps strings in a session, so a length-prefixed layout is enough:
//
//	version(1) deadline-unix-nanos(8) count(uvarint) { keylen key vallen val }...
type sessionCodec struct{}

const sessionCodecVersion = 1

var errSessionData = errors.New("keel: malformed session data")

func (sessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	b := make([]byte, 0, 48)
	b = append(b, sessionCodecVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(deadline.UnixNano()))
	b = binary.AppendUvarint(b, uint64(len(values)))
	for k, v := range values {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("keel: session value %q is a %T; only strings are kept", k, v)
		}
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b, nil
}

func (sessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if len(b) < 10 || b[0] != sessionCodecVersion {
		return time.Time{}, nil, errSessionData
	}
	deadline := time.Unix(0, int64(binary.BigEndian.Uint64(b[1:9]))).UTC()
	b = b[9:]
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return time.Time{}, nil, errSessionData
	}
	b = b[w:]
	values := make(map[string]any, n)
	for range n {
		var k, v string
		var ok bool
		if k, b, ok = readString(b); !ok {
			return time.Time{}, nil, errSessionData
		}
		if v, b, ok = readString(b); !ok {
			return time.Time{}, nil, errSessionData
		}
		values[k] = v
	}
	if len(b) != 0 {
		return time.Time{}, nil, errSessionData
	}
	return deadline, values, nil
}

func readString(b []byte) (string, []byte, bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return "", nil, false
	}
	return string(b[w : w+int(n)]), b[w+int(n):], true
}
