package memstore_test

import (
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
	"github.com/keel-dev/keel/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) keel.Store {
		s := memstore.New()
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}
