package memstore

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// cloneAuditEvent returns a deep copy of e with its time in UTC.
func cloneAuditEvent(e *keel.AuditEvent) *keel.AuditEvent {
	c := *e
	c.CreatedAt = e.CreatedAt.UTC()
	c.Detail = maps.Clone(e.Detail)
	if len(c.Detail) == 0 {
		c.Detail = nil
	}
	return &c
}

// AppendAuditEvent inserts a copy of e, in list order. Conflict when an
// event has its ID.
func (h *handle) AppendAuditEvent(ctx context.Context, e *keel.AuditEvent) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, taken := d.auditIDs[e.ID]; taken {
			return keel.Errorf(keel.Conflict, "memstore: audit event id already taken")
		}
		c := cloneAuditEvent(e)
		// d.audit is oldest first; a new event is almost always the newest,
		// so the search ends at the end of the slice.
		i, _ := slices.BinarySearchFunc(d.audit, c, func(a, b *keel.AuditEvent) int {
			return newestFirst(b.CreatedAt, b.ID, a.CreatedAt, a.ID)
		})
		d.audit = slices.Insert(d.audit, i, c)
		set(log, d.auditIDs, c.ID, struct{}{})
		log.push(func() { d.audit = slices.Delete(d.audit, i, i+1) })
		return nil
	})
}

// ListAuditEvents returns a page of the events that match f, newest first,
// walking the log from its newest end.
func (h *handle) ListAuditEvents(ctx context.Context, f keel.AuditFilter, p keel.Page) ([]*keel.AuditEvent, error) {
	var out []*keel.AuditEvent
	err := h.read(ctx, func(d *db) error {
		skip, limit := max(p.Offset, 0), max(p.Limit, 0)
		out = make([]*keel.AuditEvent, 0, min(limit, len(d.audit)))
		for i := len(d.audit) - 1; i >= 0 && len(out) < limit; i-- {
			e := d.audit[i]
			if a := p.After; a != nil && newestFirst(e.CreatedAt, e.ID, a.CreatedAt, a.ID) <= 0 {
				continue
			}
			if !auditMatches(e, f) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, cloneAuditEvent(e))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func auditMatches(e *keel.AuditEvent, f keel.AuditFilter) bool {
	switch {
	case f.UserID != uuid.Nil && e.UserID != f.UserID:
		return false
	case len(f.Kinds) > 0 && !slices.Contains(f.Kinds, e.Kind):
		return false
	case !f.Since.IsZero() && e.CreatedAt.Before(f.Since):
		return false
	case !f.Until.IsZero() && !e.CreatedAt.Before(f.Until):
		return false
	}
	return true
}

// DeleteAuditEventsBefore deletes the events created before t: a prefix of
// the log, which is kept oldest first.
func (h *handle) DeleteAuditEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int
	err := h.write(ctx, func(d *db, log *undoLog) error {
		n = 0
		for n < len(d.audit) && d.audit[n].CreatedAt.Before(t) {
			del(log, d.auditIDs, d.audit[n].ID)
			n++
		}
		if n == 0 {
			return nil
		}
		gone := slices.Clone(d.audit[:n])
		d.audit = slices.Delete(d.audit, 0, n)
		log.push(func() { d.audit = slices.Insert(d.audit, 0, gone...) })
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int64(n), nil
}
