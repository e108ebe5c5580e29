package bunstore

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
)

// AppendAuditEvent inserts e.
func (h *handle) AppendAuditEvent(ctx context.Context, e *keel.AuditEvent) error {
	_, err := h.writer.NewInsert().Model(toAuditEventRow(e)).Exec(ctx)
	return storeError("append audit event", err, "", "")
}

// ListAuditEvents returns a page of the events that match f, newest first,
// from the (user_id, created_at DESC, id DESC), (kind, created_at DESC,
// id DESC) or (created_at DESC, id DESC) index.
func (h *handle) ListAuditEvents(ctx context.Context, f keel.AuditFilter, p keel.Page) ([]*keel.AuditEvent, error) {
	var rows []auditEventRow
	q := h.reader.NewSelect().Model(&rows)
	if f.UserID != uuid.Nil {
		q = q.Where("ae.user_id = ?", f.UserID)
	}
	if len(f.Kinds) > 0 {
		q = q.Where("ae.kind IN (?)", bun.List(f.Kinds))
	}
	if !f.Since.IsZero() {
		q = q.Where("ae.created_at >= ?", h.timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("ae.created_at < ?", h.timeArg(f.Until))
	}
	if a := p.After; a != nil {
		q = q.Where("(ae.created_at, ae.id) < (?, ?)", h.timeArg(a.CreatedAt), a.ID)
	}
	q = q.OrderExpr("ae.created_at DESC, ae.id DESC")
	if err := page(q, p).Scan(ctx); err != nil {
		return nil, storeError("list audit events", err, "", "")
	}
	events := make([]*keel.AuditEvent, len(rows))
	for i := range rows {
		events[i] = rows[i].event()
	}
	return events, nil
}

// DeleteAuditEventsBefore deletes the events created before t.
func (h *handle) DeleteAuditEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := h.writer.NewDelete().Model((*auditEventRow)(nil)).Where("created_at < ?", h.timeArg(t)).Exec(ctx)
	if err != nil {
		return 0, storeError("delete audit events", err, "", "")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, storeError("delete audit events", err, "", "")
	}
	return n, nil
}
