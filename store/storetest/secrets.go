package storetest

import (
	"bytes"
	"sync"
	"testing"
)

func testSecrets(t *testing.T, newStore newStoreFunc) {
	t.Run("LoadOrStoreSecret stores the first value and returns it ever after", func(t *testing.T) {
		s := newStore(t)
		first := []byte{0, 1, 2, 0xfe, 0xff, 'k', 'e', 'y'}
		for _, tc := range []struct {
			name  string
			value []byte
		}{
			{"the first call stores its value", first},
			{"a later call with another value gets the first", []byte("another value")},
			{"a later call with the same value gets it", first},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.LoadOrStoreSecret(t.Context(), "device-key", tc.value)
				wantNoError(t, "LoadOrStoreSecret", err)
				if !bytes.Equal(got, first) {
					t.Errorf("LoadOrStoreSecret = %x, want %x", got, first)
				}
			})
		}
		got, err := s.LoadOrStoreSecret(t.Context(), "other-key", []byte("other"))
		wantNoError(t, "LoadOrStoreSecret of another name", err)
		if string(got) != "other" {
			t.Errorf("LoadOrStoreSecret of another name = %q, want %q", got, "other")
		}
	})

	t.Run("changing a returned secret does not change the stored one", func(t *testing.T) {
		s := newStore(t)
		got, err := s.LoadOrStoreSecret(t.Context(), "k", []byte("value"))
		wantNoError(t, "LoadOrStoreSecret", err)
		got[0] = 'X'
		again, err := s.LoadOrStoreSecret(t.Context(), "k", []byte("other"))
		wantNoError(t, "LoadOrStoreSecret", err)
		if string(again) != "value" {
			t.Errorf("LoadOrStoreSecret = %q, want %q", again, "value")
		}
	})

	t.Run("of 20 concurrent calls with different values, all get the one stored", func(t *testing.T) {
		s := newStore(t)
		const n = 20
		got := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], errs[i] = s.LoadOrStoreSecret(t.Context(), "k", []byte{byte(i), 'v'}) })
		}
		wg.Wait()
		for i := range n {
			wantNoError(t, "LoadOrStoreSecret", errs[i])
			if !bytes.Equal(got[i], got[0]) {
				t.Errorf("call %d got %x, call 0 got %x", i, got[i], got[0])
			}
		}
		if len(got[0]) != 2 || got[0][1] != 'v' {
			t.Errorf("the stored value %x is none of the values given", got[0])
		}
	})
}
