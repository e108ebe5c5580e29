package keel

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// The audit log is one consumer of the account events (see Event and
// emit): every event becomes an AuditEvent, written in the transaction
// that emits it, so that the row commits with the change or not at all,
// and a structured log line once it has committed. Refusals, which change
// nothing, are written on their own. Nothing is written for reads.

// The keys of AuditEvent.Detail.
const (
	detailReason   = "reason"   // Event.Reason
	detailChanges  = "changes"  // Event.Changes, comma-separated
	detailSessions = "sessions" // Event.Sessions
	detailEmail    = "email"    // Event.Email
	detailTokenID  = "token_id" // Event.APIToken.ID
	// detailTokenName and detailTokenScope are Event.APIToken's, of a new
	// token.
	detailTokenName  = "token_name"
	detailTokenScope = "token_scope"
	detailTokens     = "api_tokens" // Event.APITokens
	detailMethod     = "method"     // Event.Method: oidc:<provider> or passkey
	detailNewEmail   = "new_email"  // Event.NewEmail
)

// refusalInterval is how often one rate limit's refusals of one account
// and address are recorded: a flood of refused attempts, which each cost
// the attacker one request and keel a counter read, must not cost a row
// and a log line each.
const refusalInterval = time.Minute

// maxRefusalKeys bounds the memory of which refusals were recorded.
const maxRefusalKeys = 10000

// auditor is the audit log's writer.
type auditor struct {
	log *slog.Logger

	mu       sync.Mutex
	refusals map[string]time.Time // rate-limit refusal → when it may be recorded again
}

func newAuditor(log *slog.Logger) *auditor {
	return &auditor{log: log, refusals: make(map[string]time.Time)}
}

// record reports whether e is to be recorded: every event but a repeated
// rate-limit refusal (one of refusalInterval's, per limit, email and
// address, in this process).
func (a *auditor) record(e Event) bool {
	if e.Kind != EventRateLimited {
		return true
	}
	key := e.Reason + "\x00" + e.Email + "\x00" + e.Client.Addr
	a.mu.Lock()
	defer a.mu.Unlock()
	if until, ok := a.refusals[key]; ok && e.At.Before(until) {
		return false
	}
	if len(a.refusals) >= maxRefusalKeys {
		for k, until := range a.refusals {
			if !e.At.Before(until) {
				delete(a.refusals, k)
			}
		}
		if len(a.refusals) >= maxRefusalKeys {
			clear(a.refusals) // at worst a refusal is recorded twice
		}
	}
	a.refusals[key] = e.At.Add(refusalInterval)
	return true
}

// writeAudit stores the record of e through tx: the operation's
// transaction, or the store itself for a refusal.
func (s *Service) writeAudit(ctx context.Context, tx Tx, e Event) error {
	if e.unrecorded {
		return nil
	}
	return tx.AppendAuditEvent(ctx, s.auditEvent(e))
}

// auditEvent is the record of e. The email a caller gave that matched no
// account is kept only when it is an email address: anything else may be
// a password typed into the wrong field.
func (s *Service) auditEvent(e Event) *AuditEvent {
	a := &AuditEvent{
		ID:         newID(),
		Kind:       e.Kind,
		CreatedAt:  e.At,
		ActorID:    e.ActorID,
		UserID:     e.UserID,
		ClientAddr: e.Client.Addr,
		UserAgent:  e.Client.UserAgent,
		RequestID:  e.Client.RequestID,
	}
	d := map[string]string{}
	if e.Reason != "" {
		d[detailReason] = e.Reason
	}
	if len(e.Changes) > 0 {
		d[detailChanges] = strings.Join(e.Changes, ",")
	}
	if e.Sessions > 0 {
		d[detailSessions] = strconv.FormatInt(e.Sessions, 10)
	}
	if e.Email != "" && (e.UserID != uuid.Nil || s.validator.Var(e.Email, "max=255,email") == nil) {
		d[detailEmail] = e.Email
	}
	if t := e.APIToken; t != nil {
		d[detailTokenID] = t.ID.String()
		if t.Name != "" {
			d[detailTokenName] = t.Name
		}
		if t.Scope != "" {
			d[detailTokenScope] = string(t.Scope)
		}
	}
	if e.APITokens > 0 {
		d[detailTokens] = strconv.FormatInt(e.APITokens, 10)
	}
	if e.Method != "" {
		d[detailMethod] = e.Method
	}
	if e.NewEmail != "" {
		d[detailNewEmail] = e.NewEmail
	}
	if len(d) > 0 {
		a.Detail = d
	}
	return a
}

// logCommitted writes the log line of each committed event: at warn for
// a refusal, at info otherwise. The email (the new one of an email change
// too) and the user agent stay in the audit log, out of log lines.
func (a *auditor) logCommitted(ctx context.Context, events []Event) {
	for _, e := range events {
		if e.unrecorded {
			continue
		}
		level := slog.LevelInfo
		if e.Kind == EventLoginFailed || e.Kind == EventRateLimited || e.Kind == EventSecondFactorFailed {
			level = slog.LevelWarn
		}
		if !a.log.Enabled(ctx, level) {
			continue
		}
		attrs := []slog.Attr{slog.String("event", string(e.Kind))}
		if e.UserID != uuid.Nil {
			attrs = append(attrs, slog.String("user_id", e.UserID.String()))
		}
		if e.ActorID != uuid.Nil {
			attrs = append(attrs, slog.String("actor_id", e.ActorID.String()))
		}
		if e.Reason != "" {
			attrs = append(attrs, slog.String("reason", e.Reason))
		}
		if len(e.Changes) > 0 {
			attrs = append(attrs, slog.String("changes", strings.Join(e.Changes, ",")))
		}
		if e.Sessions > 0 {
			attrs = append(attrs, slog.Int64("sessions", e.Sessions))
		}
		if e.APIToken != nil {
			attrs = append(attrs, slog.String("token_id", e.APIToken.ID.String()))
		}
		if e.APITokens > 0 {
			attrs = append(attrs, slog.Int64("api_tokens", e.APITokens))
		}
		if e.Method != "" {
			attrs = append(attrs, slog.String("method", e.Method))
		}
		if e.Client.Addr != "" {
			attrs = append(attrs, slog.String("client_addr", e.Client.Addr))
		}
		if e.Client.RequestID != "" {
			attrs = append(attrs, slog.String("request_id", e.Client.RequestID))
		}
		a.log.LogAttrs(ctx, level, "keel: "+strings.ReplaceAll(string(e.Kind), "_", " "), attrs...)
	}
}

// AuditOptions selects and pages audit events. The zero value selects
// every event the caller may read, newest first, in pages of
// Config.DefaultPageLimit.
type AuditOptions struct {
	// UserID, when not uuid.Nil, keeps only the events about that user.
	// AuditEvents only: MyAuditEvents reads the actor's own.
	UserID uuid.UUID
	// Kinds, when not empty, keeps only the events of those kinds, each
	// one of EventKinds.
	Kinds []EventKind
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
	if err := requireSuperuser(actor, toRead); err != nil {
		return AuditPage{}, err
	}
	return s.auditPage(ctx, opts, false)
}

// MyAuditEvents lists the events about the actor, newest first, filtered
// by opts (whose UserID it replaces with the actor's). Why a login failed
// or was refused (Detail's "reason") is left out: it is the operators'.
func (s *Service) MyAuditEvents(ctx context.Context, actor *User, opts AuditOptions) (AuditPage, error) {
	if err := requireActive(actor, toRead); err != nil {
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
	f := AuditFilter{UserID: opts.UserID, Kinds: opts.Kinds, Since: opts.Since, Until: opts.Until}
	if err := checkAuditFilter(f); err != nil {
		return AuditPage{}, err
	}
	events, err := s.db(ctx).ListAuditEvents(ctx, f, p)
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

// checkAuditFilter refuses a kind keel does not emit and a time range
// that ends before it starts.
func checkAuditFilter(f AuditFilter) error {
	var fields []FieldError
	known := EventKinds()
	for _, k := range f.Kinds {
		if !slices.Contains(known, k) {
			v := violation("kind", Malformed, 0, string(k))
			v.Message = "is not a kind of event keel records"
			fields = append(fields, v)
			break
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		v := violation("until", Malformed, 0, f.Until)
		v.Message = "must be after since"
		fields = append(fields, v)
	}
	if len(fields) > 0 {
		return invalid(fields...)
	}
	return nil
}
