package keeltest

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// CountingStore is a Store that counts the calls of the methods a request
// may make to authenticate and read an item, to check how many round
// trips it takes. Inside InTx the inner store's transaction runs
// uncounted.
type CountingStore struct {
	keel.Store
	mu    sync.Mutex
	calls map[string]int
}

func (s *CountingStore) count(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[name]++
}

// Get returns how many times the method name ran since the last Reset.
func (s *CountingStore) Get(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[name]
}

// Take returns every count since the last Reset, and resets them.
func (s *CountingStore) Take() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := maps.Clone(s.calls)
	if c == nil {
		c = map[string]int{}
	}
	s.calls = nil
	return c
}

// Reset forgets the counts.
func (s *CountingStore) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

func (s *CountingStore) FindSession(ctx context.Context, hash string, now time.Time) (*keel.SessionRecord, *keel.User, error) {
	s.count("FindSession")
	return s.Store.FindSession(ctx, hash, now)
}

func (s *CountingStore) FindSessionItem(ctx context.Context, hash string, now time.Time, id uuid.UUID) (*keel.SessionRecord, *keel.User, *keel.Item, error) {
	s.count("FindSessionItem")
	return s.Store.FindSessionItem(ctx, hash, now, id)
}

func (s *CountingStore) Item(ctx context.Context, id uuid.UUID) (*keel.Item, error) {
	s.count("Item")
	return s.Store.Item(ctx, id)
}

func (s *CountingStore) TouchSession(ctx context.Context, hash string, at time.Time) error {
	s.count("TouchSession")
	return s.Store.TouchSession(ctx, hash, at)
}

func (s *CountingStore) UpdateSession(ctx context.Context, hash string, data []byte, expiry time.Time) error {
	s.count("UpdateSession")
	return s.Store.UpdateSession(ctx, hash, data, expiry)
}

func (s *CountingStore) FindAPIToken(ctx context.Context, hash string, now time.Time) (*keel.APIToken, *keel.User, error) {
	s.count("FindAPIToken")
	return s.Store.FindAPIToken(ctx, hash, now)
}

func (s *CountingStore) TouchAPIToken(ctx context.Context, id uuid.UUID, at time.Time) error {
	s.count("TouchAPIToken")
	return s.Store.TouchAPIToken(ctx, id, at)
}
