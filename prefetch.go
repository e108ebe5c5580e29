package keel

import (
	"context"
	"sync"

	"github.com/google/uuid"
)

// A request that authenticates and then reads one item costs two store
// round trips, and on a networked database each is a good part of the
// request's cost. WithItemPrefetch says which item the request is about to
// read: Authenticate then reads the session, its user and the item in one
// (SessionStore.FindSessionItem), and Item answers from what it read.

// WithItemPrefetch returns ctx telling keel that the request it serves
// authenticates and then reads the item with the id: Authenticate, with
// a session token, reads the item in the same store round trip as the
// session, and the next Item call for that id, by the user the session
// authenticated, answers from that read instead of the store's. Ownership
// is checked as always: another user's item is not found. Only that one
// Item call is answered so; later ones, and any inside a transaction, read
// the store. A host's route that reads one item may use it before its
// authentication middleware (httpapi's GET /items/{id} does).
func WithItemPrefetch(ctx context.Context, id uuid.UUID) context.Context {
	return context.WithValue(ctx, itemPrefetchKey{}, &itemPrefetch{id: id})
}

type itemPrefetchKey struct{}

// itemPrefetch is one request's prefetched item.
type itemPrefetch struct {
	id uuid.UUID
	mu sync.Mutex
	// read is set when FindSessionItem has read the item (nil when there
	// was none) with a session of the user userID; the first Item call that
	// matches takes it and clears it.
	read   bool
	userID uuid.UUID
	item   *Item
}

// itemPrefetchOf returns ctx's prefetch; nil without one or inside a
// transaction, whose reads must see the transaction.
func (s *Service) itemPrefetchOf(ctx context.Context) *itemPrefetch {
	p, _ := ctx.Value(itemPrefetchKey{}).(*itemPrefetch)
	if p == nil || s.joined(ctx) != nil {
		return nil
	}
	return p
}

func (p *itemPrefetch) set(userID uuid.UUID, it *Item) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.read, p.userID, p.item = true, userID, it
}

// take returns the prefetched item with id read for the user, once: ok is
// false when there is none to answer from.
func (p *itemPrefetch) take(id, userID uuid.UUID) (it *Item, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.read || p.id != id || p.userID != userID {
		return nil, false
	}
	it, p.read, p.item = p.item, false, nil
	return it, true
}
