package session

import (
	"testing"
	"time"
)

func TestSessionCodecRoundTrips(t *testing.T) {
	deadline := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	b, err := Codec{}.Encode(deadline, map[string]any{"uid": "0190-abc", "": "empty key", "k": ""})
	if err != nil {
		t.Fatal(err)
	}
	d, v, err := Codec{}.Decode(b)
	if err != nil || !d.Equal(deadline) || len(v) != 3 || v["uid"] != "0190-abc" || v[""] != "empty key" || v["k"] != "" {
		t.Fatalf("Decode = %v, %v, %v", d, v, err)
	}
}

func TestSessionCodecRefusesWhatItCannotKeep(t *testing.T) {
	if _, err := (Codec{}).Encode(time.Now(), map[string]any{"n": 3}); err == nil {
		t.Fatal("an int was encoded")
	}
}

func FuzzSessionCodecDecode(f *testing.F) {
	good, _ := Codec{}.Encode(time.Now(), map[string]any{"uid": "x"})
	f.Add(good)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, v, err := Codec{}.Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes must encode back to something that decodes the same.
		again, err := Codec{}.Encode(d, v)
		if err != nil {
			t.Fatal(err)
		}
		d2, v2, err := Codec{}.Decode(again)
		if err != nil || !d2.Equal(d) || len(v2) != len(v) {
			t.Fatalf("round trip: %v %v %v", d2, v2, err)
		}
	})
}
