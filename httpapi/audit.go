package httpapi

import (
	"errors"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
)

// auditEventPublic is an audit event as the API shows it.
type auditEventPublic struct {
	ID        uuid.UUID  `json:"id" required:"true" format:"uuid"`
	Kind      eventKind  `json:"kind" required:"true" description:"What happened."`
	CreatedAt time.Time  `json:"created_at" required:"true"`
	ActorID   *uuid.UUID `json:"actor_id" required:"true" format:"uuid" description:"The user who acted; null when no one was signed in."`
	UserID    *uuid.UUID `json:"user_id" required:"true" format:"uuid" description:"The user the event is about; null when no account matched."`
	// The request's origin, "" when unknown (a command line).
	ClientAddr string            `json:"client_addr" required:"true"`
	UserAgent  string            `json:"user_agent" required:"true"`
	RequestID  string            `json:"request_id" required:"true"`
	Detail     map[string]string `json:"detail" required:"true" nullable:"false" description:"What the kind alone does not say: reason (of a refusal; superusers only), changes, sessions, email."`
}

// auditEventsPublic is a page of audit events. NextCursor is there only
// when the page is full: passed as ?cursor=, it asks for the page after
// this one. There is no count: the log only grows.
type auditEventsPublic struct {
	Data       []auditEventPublic `json:"data" required:"true" nullable:"false"`
	NextCursor string             `json:"next_cursor,omitempty" description:"When the page is full: the cursor query parameter of the next page."`
}

func newAuditEventPublic(e *keel.AuditEvent) auditEventPublic {
	out := auditEventPublic{ID: e.ID, Kind: eventKind(e.Kind), CreatedAt: e.CreatedAt.UTC(), ClientAddr: e.ClientAddr,
		UserAgent: e.UserAgent, RequestID: e.RequestID, Detail: maps.Clone(e.Detail)}
	if e.ActorID != uuid.Nil {
		out.ActorID = &e.ActorID
	}
	if e.UserID != uuid.Nil {
		out.UserID = &e.UserID
	}
	if out.Detail == nil {
		out.Detail = map[string]string{}
	}
	return out
}

// eventKind is a kind of event on the wire: its schema lists keel's
// kinds.
type eventKind string

// Enum gives the document the kinds, from keel's one list of them.
func (eventKind) Enum() []any {
	var out []any
	for _, k := range keel.EventKinds() {
		out = append(out, string(k))
	}
	return out
}

// myEventsQuery is the query of GET /users/me/events.
type myEventsQuery struct {
	Kind   []eventKind `query:"kind" nullable:"false" description:"Keep only events of this kind; repeat for several."`
	Since  time.Time   `query:"since" description:"Keep only events at or after this time (RFC 3339)."`
	Until  time.Time   `query:"until" description:"Keep only events before this time (RFC 3339)."`
	Skip   int         `query:"skip" minimum:"0" default:"0" description:"How many to skip, newest first (after the cursor, when one is given)."`
	Limit  int         `query:"limit" minimum:"1" default:"100" description:"How many to return at most."`
	Cursor string      `query:"cursor" description:"The next_cursor of the previous page."`
}

// auditEventsQuery is the query of GET /audit/events: myEventsQuery and
// a user.
type auditEventsQuery struct {
	UserID uuid.UUID `query:"user_id" format:"uuid" description:"Keep only events about this user."`
	myEventsQuery
}

func readMyEvents(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	opts, err := parseAuditQuery(r, a.svc, false)
	if err != nil {
		return err
	}
	p, err := a.svc.MyAuditEvents(r.Context(), sess.User, opts)
	if err != nil {
		return err
	}
	writeAuditPage(w, p)
	return nil
}

func readAuditEvents(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	opts, err := parseAuditQuery(r, a.svc, true)
	if err != nil {
		return err
	}
	p, err := a.svc.AuditEvents(r.Context(), sess.User, opts)
	if err != nil {
		return err
	}
	writeAuditPage(w, p)
	return nil
}

func writeAuditPage(w http.ResponseWriter, p keel.AuditPage) {
	out := auditEventsPublic{Data: make([]auditEventPublic, len(p.Events)), NextCursor: p.Next}
	for i, e := range p.Events {
		out.Data[i] = newAuditEventPublic(e)
	}
	writeJSON(w, http.StatusOK, out)
}

// parseAuditQuery reads the query of the audit routes (user_id only when
// withUser), reporting every malformed parameter at once.
func parseAuditQuery(r *http.Request, svc *keel.Service, withUser bool) (keel.AuditOptions, error) {
	q := r.URL.Query()
	var bad []validationError
	page, err := parsePage(q, svc)
	if err != nil {
		var re *requestError
		if !errors.As(err, &re) {
			return keel.AuditOptions{}, err
		}
		bad = append(bad, re.fields...)
	}
	opts := keel.AuditOptions{ListOptions: page}
	for _, k := range q["kind"] {
		opts.Kinds = append(opts.Kinds, keel.EventKind(k))
	}
	opts.Cursor = q.Get("cursor")
	if s := q.Get("user_id"); withUser && s != "" {
		id, err := uuid.Parse(s)
		if err != nil || len(s) != 36 {
			bad = append(bad, validationError{Type: "uuid_parsing", Loc: []any{"query", "user_id"}, Msg: "Input should be a valid UUID", Input: s})
		}
		opts.UserID = id
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &opts.Since}, {"until", &opts.Until}} {
		s := q.Get(t.name)
		if s == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
		if err != nil {
			bad = append(bad, validationError{Type: "datetime_parsing", Loc: []any{"query", t.name},
				Msg: "Input should be a valid datetime (RFC 3339)", Input: s})
		}
		*t.dst = v
	}
	if len(bad) > 0 {
		return keel.AuditOptions{}, invalid(bad...)
	}
	return opts, nil
}
