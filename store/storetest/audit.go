package storetest

import (
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// NewAuditEvent returns an unsaved audit event of the kind about the user,
// created at the time, with a fresh UUIDv7 id, another user as its actor,
// a client address, user agent, request id and detail.
func NewAuditEvent(kind keel.EventKind, userID uuid.UUID, at time.Time) *keel.AuditEvent {
	return &keel.AuditEvent{
		ID:         NewID(),
		Kind:       kind,
		CreatedAt:  at.UTC().Truncate(time.Microsecond),
		ActorID:    NewID(),
		UserID:     userID,
		ClientAddr: "203.0.113.7",
		UserAgent:  "storetest/1.0 (\"quoted\"; ünïcode)",
		RequestID:  "req-" + NewID().String(),
		Detail:     map[string]string{"reason": "wrong password", "fields": "email,is_active"},
	}
}

func mustAppendAuditEvent(t *testing.T, s keel.Tx, e *keel.AuditEvent) *keel.AuditEvent {
	t.Helper()
	if err := s.AppendAuditEvent(t.Context(), e); err != nil {
		t.Fatalf("AppendAuditEvent(%s): %v", e.Kind, err)
	}
	return e
}

func checkAuditEvent(t *testing.T, what string, got, want *keel.AuditEvent) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: event = nil, want %s", what, want.ID)
		return
	}
	if got.ID != want.ID {
		t.Errorf("%s: ID = %s, want %s", what, got.ID, want.ID)
	}
	if got.Kind != want.Kind {
		t.Errorf("%s: Kind = %q, want %q", what, got.Kind, want.Kind)
	}
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	if got.ActorID != want.ActorID {
		t.Errorf("%s: ActorID = %s, want %s", what, got.ActorID, want.ActorID)
	}
	if got.UserID != want.UserID {
		t.Errorf("%s: UserID = %s, want %s", what, got.UserID, want.UserID)
	}
	if got.ClientAddr != want.ClientAddr || got.UserAgent != want.UserAgent || got.RequestID != want.RequestID {
		t.Errorf("%s: ClientAddr, UserAgent, RequestID = %q, %q, %q; want %q, %q, %q", what,
			got.ClientAddr, got.UserAgent, got.RequestID, want.ClientAddr, want.UserAgent, want.RequestID)
	}
	if len(want.Detail) == 0 {
		if got.Detail != nil {
			t.Errorf("%s: Detail = %v, want nil", what, got.Detail)
		}
	} else if !maps.Equal(got.Detail, want.Detail) {
		t.Errorf("%s: Detail = %v, want %v", what, got.Detail, want.Detail)
	}
}

// checkAuditEvents fails the test unless got is exactly want, in order,
// field by field.
func checkAuditEvents(t *testing.T, what string, got []*keel.AuditEvent, want ...*keel.AuditEvent) {
	t.Helper()
	checkIDs(t, what, auditEventIDs(got), auditEventIDs(want))
	if len(got) == len(want) {
		for i := range got {
			checkAuditEvent(t, fmt.Sprintf("%s[%d]", what, i), got[i], want[i])
		}
	}
}

func auditEventIDs(es []*keel.AuditEvent) []uuid.UUID {
	ids := make([]uuid.UUID, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func testAuditEvents(t *testing.T, newStore newStoreFunc) {
	t.Run("an appended event reads back with every field", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		e := mustAppendAuditEvent(t, s, NewAuditEvent(keel.EventUserUpdated, u.ID, Now()))
		got, err := s.ListAuditEvents(t.Context(), keel.AuditFilter{}, keel.Page{Limit: 10})
		wantNoError(t, "ListAuditEvents", err)
		checkAuditEvents(t, "ListAuditEvents", got, e)
	})

	t.Run("an event without actor, user, origin or detail reads back with none", func(t *testing.T) {
		s := newStore(t)
		e := &keel.AuditEvent{ID: NewID(), Kind: keel.EventLoginFailed, CreatedAt: Now()}
		mustAppendAuditEvent(t, s, e)
		got, err := s.ListAuditEvents(t.Context(), keel.AuditFilter{}, keel.Page{Limit: 10})
		wantNoError(t, "ListAuditEvents", err)
		checkAuditEvents(t, "ListAuditEvents", got, e)
	})

	t.Run("an empty detail reads back as nil", func(t *testing.T) {
		s := newStore(t)
		e := NewAuditEvent(keel.EventLoggedOut, NewID(), Now())
		e.Detail = map[string]string{}
		mustAppendAuditEvent(t, s, e)
		got, err := s.ListAuditEvents(t.Context(), keel.AuditFilter{}, keel.Page{Limit: 10})
		wantNoError(t, "ListAuditEvents", err)
		if len(got) != 1 || got[0].Detail != nil {
			t.Errorf("ListAuditEvents = %v, want one event with a nil Detail", got)
		}
	})

	t.Run("the store keeps no reference to the event it was given or returned", func(t *testing.T) {
		s := newStore(t)
		e := NewAuditEvent(keel.EventUserUpdated, NewID(), Now())
		want := *e
		want.Detail = maps.Clone(e.Detail)
		mustAppendAuditEvent(t, s, e)
		e.Kind, e.Detail["reason"] = keel.EventUserDeleted, "changed"
		got, err := s.ListAuditEvents(t.Context(), keel.AuditFilter{}, keel.Page{Limit: 10})
		wantNoError(t, "ListAuditEvents", err)
		checkAuditEvents(t, "after changing the appended struct", got, &want)
		got[0].Detail["reason"] = "changed"
		got, err = s.ListAuditEvents(t.Context(), keel.AuditFilter{}, keel.Page{Limit: 10})
		wantNoError(t, "ListAuditEvents", err)
		checkAuditEvents(t, "after changing a returned struct", got, &want)
	})

	t.Run("appending an event with a taken ID is Conflict and changes nothing", func(t *testing.T) {
		s := newStore(t)
		e := mustAppendAuditEvent(t, s, NewAuditEvent(keel.EventLoggedOut, NewID(), Now()))
		dup := NewAuditEvent(keel.EventUserDeleted, NewID(), Now())
		dup.ID = e.ID
		wantCode(t, "AppendAuditEvent", s.AppendAuditEvent(t.Context(), dup), keel.Conflict)
		got, err := s.ListAuditEvents(t.Context(), keel.AuditFilter{}, keel.Page{Limit: 10})
		wantNoError(t, "ListAuditEvents", err)
		checkAuditEvents(t, "ListAuditEvents", got, e)
	})

	t.Run("events outlive their users: one about a missing user is kept, and deleting a user deletes none", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		about := mustAppendAuditEvent(t, s, NewAuditEvent(keel.EventUserCreated, u.ID, Now().Add(-time.Second)))
		missing := mustAppendAuditEvent(t, s, NewAuditEvent(keel.EventUserDeleted, NewID(), Now()))
		wantNoError(t, "DeleteUser", s.DeleteUser(t.Context(), u.ID))
		got, err := s.ListAuditEvents(t.Context(), keel.AuditFilter{}, keel.Page{Limit: 10})
		wantNoError(t, "ListAuditEvents", err)
		checkAuditEvents(t, "ListAuditEvents", got, missing, about)
	})

	t.Run("lists are newest first and page by offset, limit and cursor", func(t *testing.T) {
		s := newStore(t)
		st := newestFirst()
		events := make([]*keel.AuditEvent, len(st))
		for _, i := range insertionOrder {
			e := NewAuditEvent(keel.EventLoginSucceeded, NewID(), st[i].CreatedAt)
			e.ID = st[i].ID
			events[i] = mustAppendAuditEvent(t, s, e)
		}
		after := func(i int) *keel.Cursor { return &keel.Cursor{CreatedAt: st[i].CreatedAt, ID: st[i].ID} }
		for _, tc := range []struct {
			name string
			p    keel.Page
			want []int
		}{
			{"the whole list", keel.Page{Limit: 10}, []int{0, 1, 2, 3, 4, 5, 6}},
			{"a limit", keel.Page{Limit: 3}, []int{0, 1, 2}},
			{"an offset", keel.Page{Offset: 2, Limit: 3}, []int{2, 3, 4}},
			{"an offset past the end", keel.Page{Offset: 7, Limit: 3}, nil},
			{"after a cursor inside a run of equal times", keel.Page{After: after(2), Limit: 10}, []int{3, 4, 5, 6}},
			{"after a cursor, with an offset", keel.Page{After: after(1), Offset: 1, Limit: 2}, []int{3, 4}},
			{"after the last event", keel.Page{After: after(6), Limit: 10}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListAuditEvents(t.Context(), keel.AuditFilter{}, tc.p)
				wantNoError(t, "ListAuditEvents", err)
				checkAuditEvents(t, "ListAuditEvents", got, pick(events, tc.want...)...)
			})
		}
	})

	t.Run("filters keep the events of a user, of kinds and of a time range, and combine with paging", func(t *testing.T) {
		s := newStore(t)
		ada, bob := NewID(), NewID()
		base := Now().Add(-time.Hour)
		var all []*keel.AuditEvent // oldest first
		for i, e := range []struct {
			kind keel.EventKind
			user uuid.UUID
		}{
			{keel.EventLoginSucceeded, ada},
			{keel.EventLoginFailed, bob},
			{keel.EventLoggedOut, ada},
			{keel.EventLoginFailed, ada},
			{keel.EventLoginSucceeded, bob},
			{keel.EventPasswordChanged, ada},
		} {
			all = append(all, mustAppendAuditEvent(t, s, NewAuditEvent(e.kind, e.user, base.Add(time.Duration(i)*time.Minute))))
		}
		newest := func(idx ...int) []*keel.AuditEvent { return pick(all, idx...) }
		for _, tc := range []struct {
			name string
			f    keel.AuditFilter
			p    keel.Page
			want []*keel.AuditEvent
		}{
			{"one user's events", keel.AuditFilter{UserID: ada}, keel.Page{Limit: 10}, newest(5, 3, 2, 0)},
			{"a user with none", keel.AuditFilter{UserID: NewID()}, keel.Page{Limit: 10}, nil},
			{"one kind", keel.AuditFilter{Kinds: []keel.EventKind{keel.EventLoginFailed}}, keel.Page{Limit: 10}, newest(3, 1)},
			{"two kinds", keel.AuditFilter{Kinds: []keel.EventKind{keel.EventLoggedOut, keel.EventLoginSucceeded}}, keel.Page{Limit: 10}, newest(4, 2, 0)},
			{"a kind no event has", keel.AuditFilter{Kinds: []keel.EventKind{keel.EventUserDeleted}}, keel.Page{Limit: 10}, nil},
			{"since, inclusive", keel.AuditFilter{Since: all[4].CreatedAt}, keel.Page{Limit: 10}, newest(5, 4)},
			{"until, exclusive", keel.AuditFilter{Until: all[1].CreatedAt}, keel.Page{Limit: 10}, newest(0)},
			{"a range", keel.AuditFilter{Since: all[1].CreatedAt, Until: all[4].CreatedAt}, keel.Page{Limit: 10}, newest(3, 2, 1)},
			{"a user and a kind", keel.AuditFilter{UserID: ada, Kinds: []keel.EventKind{keel.EventLoginFailed, keel.EventLoginSucceeded}}, keel.Page{Limit: 10}, newest(3, 0)},
			{"a user, paged by offset", keel.AuditFilter{UserID: ada}, keel.Page{Offset: 1, Limit: 2}, newest(3, 2)},
			{"a user, after a cursor on one of the user's events", keel.AuditFilter{UserID: ada}, keel.Page{After: &keel.Cursor{CreatedAt: all[3].CreatedAt, ID: all[3].ID}, Limit: 10}, newest(2, 0)},
			{"a user, after a cursor on someone else's event", keel.AuditFilter{UserID: ada}, keel.Page{After: &keel.Cursor{CreatedAt: all[4].CreatedAt, ID: all[4].ID}, Limit: 1}, newest(3)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListAuditEvents(t.Context(), tc.f, tc.p)
				wantNoError(t, "ListAuditEvents", err)
				checkAuditEvents(t, "ListAuditEvents", got, tc.want...)
			})
		}
	})

	t.Run("DeleteAuditEventsBefore deletes the events older than the time and counts them", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		mustAppendAuditEvent(t, s, NewAuditEvent(keel.EventLoggedOut, NewID(), now.Add(-2*time.Hour)))
		mustAppendAuditEvent(t, s, NewAuditEvent(keel.EventLoggedOut, NewID(), now.Add(-time.Hour-time.Microsecond)))
		atCutoff := mustAppendAuditEvent(t, s, NewAuditEvent(keel.EventLoggedOut, NewID(), now.Add(-time.Hour)))
		fresh := mustAppendAuditEvent(t, s, NewAuditEvent(keel.EventLoggedOut, NewID(), now))
		n, err := s.DeleteAuditEventsBefore(t.Context(), now.Add(-time.Hour))
		wantNoError(t, "DeleteAuditEventsBefore", err)
		if n != 2 {
			t.Errorf("DeleteAuditEventsBefore = %d, want 2", n)
		}
		got, err := s.ListAuditEvents(t.Context(), keel.AuditFilter{}, keel.Page{Limit: 10})
		wantNoError(t, "ListAuditEvents", err)
		checkAuditEvents(t, "the events left", got, fresh, atCutoff)
		n, err = s.DeleteAuditEventsBefore(t.Context(), now.Add(-time.Hour))
		wantNoError(t, "DeleteAuditEventsBefore again", err)
		if n != 0 {
			t.Errorf("DeleteAuditEventsBefore again = %d, want 0", n)
		}
	})

	t.Run("DeleteExpired leaves audit events alone: their retention is keel's to apply", func(t *testing.T) {
		s := newStore(t)
		e := mustAppendAuditEvent(t, s, NewAuditEvent(keel.EventLoggedOut, NewID(), Now().Add(-1000*time.Hour)))
		_, err := s.DeleteExpired(t.Context(), Now())
		wantNoError(t, "DeleteExpired", err)
		got, err := s.ListAuditEvents(t.Context(), keel.AuditFilter{}, keel.Page{Limit: 10})
		wantNoError(t, "ListAuditEvents", err)
		checkAuditEvents(t, "ListAuditEvents", got, e)
	})

	t.Run("20 concurrent appends all land", func(t *testing.T) {
		s := newStore(t)
		const n = 20
		user := NewID()
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = s.AppendAuditEvent(t.Context(), NewAuditEvent(keel.EventLoginFailed, user, Now())) })
		}
		wg.Wait()
		for i, err := range errs {
			wantNoError(t, fmt.Sprintf("AppendAuditEvent %d", i), err)
		}
		got, err := s.ListAuditEvents(t.Context(), keel.AuditFilter{UserID: user}, keel.Page{Limit: 2 * n})
		wantNoError(t, "ListAuditEvents", err)
		if len(got) != n {
			t.Errorf("ListAuditEvents = %d events, want %d", len(got), n)
		}
	})
}
