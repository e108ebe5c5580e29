package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
)

// appendedOrMarshaled is what writeJSON sends of v: the appender's bytes
// when it takes v, json.Marshal's otherwise.
func appendedOrMarshaled(t testing.TB, v jsonAppender) []byte {
	t.Helper()
	if b, ok := v.appendJSON(nil); ok {
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return b
}

func TestJSONAppendersMatchEncodingJSON(t *testing.T) {
	desc := func(s string) *string { return &s }
	id := uuid.MustParse("0f8fad5b-d9cb-469f-a165-70867728950e")
	owner := uuid.MustParse("ffffffff-0000-4000-8000-abcdefABCDEF")
	at := time.Date(2026, 11, 27, 17, 44, 5, 123456789, time.UTC)
	item := func(title string, d *string, created time.Time) itemPublic {
		return itemPublic{ID: id, Title: title, Description: d, OwnerID: owner, CreatedAt: created}
	}
	for _, tc := range []struct {
		name string
		v    jsonAppender
	}{
		{"a plain item matches", &itemPublic{ID: id, Title: "milk", OwnerID: owner, CreatedAt: at}},
		{"an item with a description matches", ptr(item("milk", desc("two litres"), at))},
		{"an empty description matches", ptr(item("milk", desc(""), at))},
		{"HTML characters are escaped alike", ptr(item(`<b>&"quoted"</b>`, desc(`a\b`), at))},
		{"control characters are escaped alike", ptr(item("a\x00b\x01\x1f\x7f", desc("\t\n\r\b\f"), at))},
		{"bytes that are not UTF-8 are replaced alike", ptr(item("caf\xe9 \xff\xfe", desc("\xe2\x82"), at))},
		{"line and paragraph separators are escaped alike", ptr(item("a\u2028b\u2029c", nil, at))},
		{"multi-byte text matches", ptr(item("café ☕ 😀 日本", desc("ü"), at))},
		{"a time without nanoseconds matches", ptr(item("t", nil, at.Truncate(time.Second)))},
		{"a time with trailing zero nanoseconds matches", ptr(item("t", nil, at.Truncate(time.Millisecond)))},
		{"a time in another zone matches", ptr(item("t", nil, at.In(time.FixedZone("x", -(5*3600+30*60)))))},
		{"the zero time matches", ptr(item("t", nil, time.Time{}))},
		{"a year past 9999 is left to encoding/json", ptr(item("t", nil, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)))},
		{"an empty page matches", &itemsPublic{Data: []itemPublic{}}},
		{"a page with a cursor matches", &itemsPublic{Data: []itemPublic{item("a", nil, at), item("b<", desc("x"), at)}, Count: 1234, NextCursor: "MjAyNi0x<&>"}},
		{"a page without a cursor matches", &itemsPublic{Data: []itemPublic{item("a", nil, at)}, Count: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.v)
			if err != nil {
				// encoding/json refuses it: the appender must not take it.
				if _, ok := tc.v.appendJSON(nil); ok {
					t.Fatalf("appendJSON took what json.Marshal refuses (%v)", err)
				}
				return
			}
			if got := appendedOrMarshaled(t, tc.v); !bytes.Equal(got, want) {
				t.Errorf("appendJSON:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func FuzzJSONAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `<&>"\`, "\x00\x1f\x7f", "caf\xe9", "\u2028\u2029", "😀", "\xed\xa0\x80"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, title, description string) {
		it := itemPublic{Title: title, Description: &description, CreatedAt: time.Unix(0, 0).UTC()}
		want, err := json.Marshal(&it)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendedOrMarshaled(t, &it); !bytes.Equal(got, want) {
			t.Errorf("appendJSON:\n got %s\nwant %s", got, want)
		}
	})
}

func ptr[T any](v T) *T { return &v }
