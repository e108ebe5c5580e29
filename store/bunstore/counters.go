package bunstore

import (
	"context"
	"time"

	"github.com/keel-dev/keel"
)

// sqlIncrementCounter is one atomic upsert, the same text for PostgreSQL and
// SQLite (3.35 or later, for RETURNING): a new key starts at 1; an existing
// one restarts at 1 with a new window when its window ended at or before
// now, and otherwise counts up. The row lock of the conflict (PostgreSQL) or
// the write lock (SQLite) makes concurrent increments, from any process,
// return distinct counts. The SET expressions all read the old row.
const sqlIncrementCounter = `INSERT INTO counters (key, count, reset_at) VALUES (?0, 1, ?1)
ON CONFLICT (key) DO UPDATE SET
	count = CASE WHEN counters.reset_at <= ?2 THEN 1 ELSE counters.count + 1 END,
	reset_at = CASE WHEN counters.reset_at <= ?2 THEN excluded.reset_at ELSE counters.reset_at END
RETURNING count, reset_at`

// IncrementCounter adds one to the counter with the key and returns it.
func (h *handle) IncrementCounter(ctx context.Context, key string, window time.Duration, now time.Time) (keel.Counter, error) {
	var row counterRow
	err := h.writer.NewRaw(sqlIncrementCounter, key, now.Add(window), now).Scan(ctx, &row)
	if err != nil {
		return keel.Counter{}, storeError("increment counter", err, "", "")
	}
	return keel.Counter{Count: row.Count, ResetAt: row.ResetAt.UTC()}, nil
}

// Counter returns the counter with the key, or the zero Counter when it is
// missing or its window ended at or before now.
func (h *handle) Counter(ctx context.Context, key string, now time.Time) (keel.Counter, error) {
	var rows []counterRow
	err := h.reader.NewSelect().Model(&rows).
		Where("c.key = ?", key).
		Where("c.reset_at > ?", now).
		Scan(ctx)
	if err != nil {
		return keel.Counter{}, storeError("counter", err, "", "")
	}
	if len(rows) == 0 {
		return keel.Counter{}, nil
	}
	return keel.Counter{Count: rows[0].Count, ResetAt: rows[0].ResetAt.UTC()}, nil
}

// DeleteCounter deletes the counter; a missing one is not an error.
func (h *handle) DeleteCounter(ctx context.Context, key string) error {
	_, err := h.writer.NewDelete().Model((*counterRow)(nil)).Where("key = ?", key).Exec(ctx)
	return storeError("delete counter", err, "", "")
}
