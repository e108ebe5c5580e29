package keel

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// AuditOptions selects and pages audit events. The zero value selects
// every event the caller may read, newest first, in pages of
// Config.DefaultPageLimit.
type AuditOptions struct {
	// UserID, when not uuid.Nil, keeps only the events about that user.
	// AuditEvents only: MyAuditEvents reads the actor's own.
	UserID uuid.UUID
	// Types, when not empty, keeps only the events of those types.
	Types []string
	// Since and Until, when not zero, keep only the events at or after
	// Since and before Until.
	Since, Until time.Time
	// ListOptions pages the list: Skip and Limit as for every list, and
	// Cursor, the Next of an earlier AuditPage.
	ListOptions
}

// AuditPage is a page of audit events, newest first.
type AuditPage struct {
	Events []*AuditEvent
	// Next is the cursor (AuditOptions.Cursor) of the page after this one
	// when this page is full; "" when it is shorter than its limit, and so
	// the last. There is no total count: the log only grows, and counting
	// it would cost a read of every matching event for every page.
	Next string
}

// AuditEvents lists the audit log, newest first, filtered by opts.
// Superuser only.
func (s *Service) AuditEvents(ctx context.Context, actor *User, opts AuditOptions) (AuditPage, error) {
	if err := requireSuperuser(actor); err != nil {
		return AuditPage{}, err
	}
	return s.auditPage(ctx, opts, false)
}

// MyAuditEvents lists the events about the actor, newest first, filtered
// by opts (whose UserID it replaces with the actor's). Why a login failed
// or was refused (Detail's "reason") is left out: it is the operators'.
func (s *Service) MyAuditEvents(ctx context.Context, actor *User, opts AuditOptions) (AuditPage, error) {
	if err := requireActive(actor); err != nil {
		return AuditPage{}, err
	}
	opts.UserID = actor.ID
	return s.auditPage(ctx, opts, true)
}

func (s *Service) auditPage(ctx context.Context, opts AuditOptions, own bool) (AuditPage, error) {
	p, err := s.page(opts.ListOptions)
	if err != nil {
		return AuditPage{}, err
	}
	f := AuditFilter{UserID: opts.UserID, Types: opts.Types, Since: opts.Since, Until: opts.Until}
	if err := checkAuditFilter(f); err != nil {
		return AuditPage{}, err
	}
	events, err := s.store.ListAuditEvents(ctx, f, p)
	if err != nil {
		return AuditPage{}, classify(err, Internal)
	}
	if own {
		for _, e := range events {
			delete(e.Detail, detailReason)
			if len(e.Detail) == 0 {
				e.Detail = nil
			}
		}
	}
	out := AuditPage{Events: events}
	if len(events) > 0 && len(events) >= p.Limit {
		last := events[len(events)-1]
		out.Next = Cursor{CreatedAt: last.CreatedAt, ID: last.ID}.String()
	}
	return out, nil
}

// checkAuditFilter refuses a time range that ends before it starts.
func checkAuditFilter(f AuditFilter) error {
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		v := violation("until", Malformed, 0, f.Until)
		v.Message = "must be after since"
		return invalid(v)
	}
	return nil
}

// The keys of AuditEvent.Detail.
const (
	detailReason = "reason"
)
