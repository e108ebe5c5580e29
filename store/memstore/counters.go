package memstore

import (
	"context"
	"time"

	"github.com/keel-dev/keel"
)

// IncrementCounter adds one to the counter with the key and returns it. A
// missing counter, or one whose window ended at or before now, starts
// again at 1 with ResetAt = now + window.
func (h *handle) IncrementCounter(ctx context.Context, key string, window time.Duration, now time.Time) (keel.Counter, error) {
	var out keel.Counter
	err := h.write(ctx, func(d *db, log *undoLog) error {
		c, ok := d.counters[key]
		if !ok || !c.ResetAt.After(now) {
			c = keel.Counter{Count: 0, ResetAt: now.Add(window).UTC()}
		}
		c.Count++
		set(log, d.counters, key, c)
		out = c
		return nil
	})
	if err != nil {
		return keel.Counter{}, err
	}
	return out, nil
}

// Counter returns the counter with the key; a missing or ended one is the
// zero Counter.
func (h *handle) Counter(ctx context.Context, key string, now time.Time) (keel.Counter, error) {
	var out keel.Counter
	err := h.read(ctx, func(d *db) error {
		if c, ok := d.counters[key]; ok && c.ResetAt.After(now) {
			out = c
		}
		return nil
	})
	if err != nil {
		return keel.Counter{}, err
	}
	return out, nil
}

// DeleteCounter deletes the counter; deleting a missing one is not an error.
func (h *handle) DeleteCounter(ctx context.Context, key string) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		del(log, d.counters, key)
		return nil
	})
}
