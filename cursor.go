package keel

import (
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
)

// Cursor is a position in a list ordered newest first (CreatedAt
// descending, then ID descending): the CreatedAt and ID of the last row of
// a page. The page after it holds the rows strictly after that position,
// whatever was inserted or deleted in between, and costs the same however
// deep it is, unlike an offset.
type Cursor struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// cursorVersion is the first byte of an encoded cursor, so that the
// encoding can change without misreading old cursors.
const cursorVersion = 1

// cursorLen is the length of an encoded cursor before base64: the version,
// CreatedAt in microseconds since the Unix epoch and the ID.
const cursorLen = 1 + 8 + 16

// String encodes c as an opaque, URL-safe token (unpadded base64url, 34
// characters) that ParseCursor reads back. CreatedAt keeps microseconds,
// the precision stores keep.
func (c Cursor) String() string {
	var b [cursorLen]byte
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(c.CreatedAt.UnixMicro()))
	copy(b[9:], c.ID[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CursorOf returns the cursor of an item: the page after it starts with
// the next older item.
func CursorOf(it *Item) Cursor {
	return Cursor{CreatedAt: it.CreatedAt.UTC().Truncate(time.Microsecond), ID: it.ID}
}

// ParseCursor reads a cursor made by Cursor.String. Anything else is an
// Invalid error on the field "cursor".
func ParseCursor(s string) (Cursor, error) {
	bad := func() (Cursor, error) {
		return Cursor{}, invalid(violation("cursor", Malformed, 0, s))
	}
	if len(s) > 2*cursorLen {
		return bad()
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != cursorLen || b[0] != cursorVersion {
		return bad()
	}
	c := Cursor{CreatedAt: time.UnixMicro(int64(binary.BigEndian.Uint64(b[1:9]))).UTC()}
	copy(c.ID[:], b[9:])
	return c, nil
}
