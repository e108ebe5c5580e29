package memstore

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

var errItemNotFound = keel.Errorf(keel.NotFound, "memstore: item not found")

// cloneItem returns a deep copy of it with its times in UTC.
func cloneItem(it *keel.Item) *keel.Item {
	c := *it
	if it.Description != nil {
		desc := *it.Description
		c.Description = &desc
	}
	c.CreatedAt = it.CreatedAt.UTC()
	c.UpdatedAt = it.UpdatedAt.UTC()
	return &c
}

// CreateItem inserts a copy of it. NotFound when its owner does not exist.
func (h *handle) CreateItem(ctx context.Context, it *keel.Item) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, ok := d.users[it.OwnerID]; !ok {
			return keel.Errorf(keel.NotFound, "memstore: the item's owner does not exist")
		}
		if _, taken := d.items[it.ID]; taken {
			return keel.Errorf(keel.Conflict, "memstore: item id already taken")
		}
		set(log, d.items, it.ID, cloneItem(it))
		d.itemsByOwner.add(log, it.OwnerID, it.ID)
		return nil
	})
}

// Item returns the item with the id. NotFound when there is none.
func (h *handle) Item(ctx context.Context, id uuid.UUID) (*keel.Item, error) {
	var out *keel.Item
	err := h.read(ctx, func(d *db) error {
		it, ok := d.items[id]
		if !ok {
			return errItemNotFound
		}
		out = cloneItem(it)
		return nil
	})
	return out, err
}

// ListItems returns a page of the items that match f, newest first, and
// the number of matching items. An owner filter reads only that owner's
// items; p.After drops the items at or before the cursor before paging.
func (h *handle) ListItems(ctx context.Context, f keel.ItemFilter, p keel.Page) ([]*keel.Item, int, error) {
	var (
		out   []*keel.Item
		total int
	)
	err := h.read(ctx, func(d *db) error {
		var all []*keel.Item
		if f.OwnerID != uuid.Nil {
			ids := d.itemsByOwner[f.OwnerID]
			all = make([]*keel.Item, 0, len(ids))
			for id := range ids {
				all = append(all, d.items[id])
			}
		} else {
			all = make([]*keel.Item, 0, len(d.items))
			for _, it := range d.items {
				all = append(all, it)
			}
		}
		total = len(all)
		if a := p.After; a != nil {
			// Keep only the items after the cursor, then page them.
			kept := all[:0]
			for _, it := range all {
				if newestFirst(it.CreatedAt, it.ID, a.CreatedAt, a.ID) > 0 {
					kept = append(kept, it)
				}
			}
			all = kept
		}
		out = page(newestItems(all, max(p.Offset, 0)+max(p.Limit, 0)), p, cloneItem)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// newestItems returns the k newest of all, newest first. A page near the
// start of a long list (the common case) needs only its k items in order,
// not all of them: a bounded heap finds them in O(n log k). all is
// reordered.
func newestItems(all []*keel.Item, k int) []*keel.Item {
	order := func(a, b *keel.Item) int { return newestFirst(a.CreatedAt, a.ID, b.CreatedAt, b.ID) }
	if k >= len(all)/2 {
		slices.SortFunc(all, order)
		return all
	}
	if k <= 0 {
		return all[:0]
	}
	// heap is a max-heap under order: heap[0] is the oldest item kept.
	heap := all[:k]
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= k {
				return
			}
			if c+1 < k && order(heap[c+1], heap[c]) > 0 {
				c++
			}
			if order(heap[c], heap[i]) <= 0 {
				return
			}
			heap[i], heap[c] = heap[c], heap[i]
			i = c
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, it := range all[k:] {
		if order(it, heap[0]) < 0 { // newer than the oldest kept
			heap[0] = it
			down(0)
		}
	}
	slices.SortFunc(heap, order)
	return heap
}

// UpdateItem replaces Title, Description and UpdatedAt of the item with
// it.ID; its owner and CreatedAt stay. NotFound when there is none.
func (h *handle) UpdateItem(ctx context.Context, it *keel.Item) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		old, ok := d.items[it.ID]
		if !ok {
			return errItemNotFound
		}
		upd := cloneItem(old)
		upd.Title = it.Title
		upd.Description = cloneItem(it).Description
		upd.UpdatedAt = it.UpdatedAt.UTC()
		set(log, d.items, it.ID, upd)
		return nil
	})
}

// DeleteItem deletes the item. NotFound when there is none.
func (h *handle) DeleteItem(ctx context.Context, id uuid.UUID) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if !d.removeItem(log, id) {
			return errItemNotFound
		}
		return nil
	})
}

// removeItem deletes the item and its index entry, and reports whether
// there was one.
func (d *db) removeItem(log *undoLog, id uuid.UUID) bool {
	it, ok := d.items[id]
	if !ok {
		return false
	}
	d.itemsByOwner.remove(log, it.OwnerID, id)
	del(log, d.items, id)
	return true
}
