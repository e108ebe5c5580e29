package keel_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
)

// appendEvent stores an event of the type about the user, at the clock's
// time plus offset, with a reason, behind the Service's back.
func (e *env) appendEvent(t *testing.T, kind keel.EventKind, userID uuid.UUID, offset time.Duration) *keel.AuditEvent {
	t.Helper()
	ev := &keel.AuditEvent{ID: uuid.Must(uuid.NewV7()), Kind: kind, CreatedAt: e.clock.Now().Add(offset).UTC().Truncate(time.Microsecond),
		UserID: userID, Detail: map[string]string{"reason": "wrong_password", "changes": "email"}}
	if err := e.store.AppendAuditEvent(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func eventIDs(es []*keel.AuditEvent) []uuid.UUID {
	ids := make([]uuid.UUID, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func wantEvents(t *testing.T, got []*keel.AuditEvent, want ...*keel.AuditEvent) {
	t.Helper()
	g, w := eventIDs(got), eventIDs(want)
	if len(g) != len(w) {
		t.Fatalf("events %v, want %v", g, w)
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("events %v, want %v", g, w)
		}
	}
}

func TestAuditReads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	admin := e.superuser(t, "admin@example.com")
	ada := e.signUp(t, "ada@example.com")
	bob := e.signUp(t, "bob@example.com")
	// The events of this test come after those of signing up, and every
	// read keeps only them.
	adaOld := e.appendEvent(t, keel.EventLoginFailed, ada.ID, time.Minute)
	bobs := e.appendEvent(t, keel.EventLoginFailed, bob.ID, 2*time.Minute)
	adaNew := e.appendEvent(t, keel.EventUserUpdated, ada.ID, 3*time.Minute)
	since := e.clock.Now().Add(time.Minute).Truncate(time.Microsecond)

	t.Run("a user reads only its own events, newest first", func(t *testing.T) {
		p, err := e.svc.MyAuditEvents(ctx, ada, keel.AuditOptions{Since: since})
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, p.Events, adaNew, adaOld)
	})

	t.Run("a user naming another user's id still reads only its own events", func(t *testing.T) {
		p, err := e.svc.MyAuditEvents(ctx, ada, keel.AuditOptions{UserID: bob.ID, Since: since})
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, p.Events, adaNew, adaOld)
	})

	t.Run("a user's own events do not say why a login failed", func(t *testing.T) {
		p, err := e.svc.MyAuditEvents(ctx, ada, keel.AuditOptions{Kinds: []keel.EventKind{keel.EventLoginFailed}})
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, p.Events, adaOld)
		if _, ok := p.Events[0].Detail["reason"]; ok || p.Events[0].Detail["changes"] != "email" {
			t.Errorf("Detail = %v, want changes and no reason", p.Events[0].Detail)
		}
	})

	t.Run("a user cannot read the audit log", func(t *testing.T) {
		_, err := e.svc.AuditEvents(ctx, ada, keel.AuditOptions{UserID: bob.ID})
		wantErr(t, err, keel.ErrNotSuperuser)
	})

	t.Run("no one reads anything without an actor, or as an inactive one", func(t *testing.T) {
		_, err := e.svc.MyAuditEvents(ctx, nil, keel.AuditOptions{})
		wantErr(t, err, keel.ErrNotAuthenticated)
		_, err = e.svc.AuditEvents(ctx, nil, keel.AuditOptions{})
		wantErr(t, err, keel.ErrNotAuthenticated)
		inactive := *admin
		inactive.IsActive = false
		_, err = e.svc.AuditEvents(ctx, &inactive, keel.AuditOptions{})
		wantErr(t, err, keel.ErrInactiveUser)
	})

	t.Run("a superuser reads every event, with reasons, by user and by kind", func(t *testing.T) {
		p, err := e.svc.AuditEvents(ctx, admin, keel.AuditOptions{Since: since})
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, p.Events, adaNew, bobs, adaOld)
		if p.Events[1].Detail["reason"] != "wrong_password" {
			t.Errorf("Detail = %v, want the reason", p.Events[1].Detail)
		}
		p, err = e.svc.AuditEvents(ctx, admin, keel.AuditOptions{UserID: ada.ID, Kinds: []keel.EventKind{keel.EventLoginFailed}})
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, p.Events, adaOld)
	})

	t.Run("a full page carries the cursor of the next, a short one none", func(t *testing.T) {
		p, err := e.svc.AuditEvents(ctx, admin, keel.AuditOptions{Since: since, ListOptions: keel.ListOptions{Limit: 2}})
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, p.Events, adaNew, bobs)
		if p.Next == "" {
			t.Fatal("a full page has no Next")
		}
		p, err = e.svc.AuditEvents(ctx, admin, keel.AuditOptions{Since: since, ListOptions: keel.ListOptions{Limit: 2, Cursor: p.Next}})
		if err != nil {
			t.Fatal(err)
		}
		wantEvents(t, p.Events, adaOld)
		if p.Next != "" {
			t.Errorf("the last page has Next %q", p.Next)
		}
	})

	for _, tc := range []struct {
		name  string
		opts  keel.AuditOptions
		field string
	}{
		{"a range that ends before it starts is Invalid", keel.AuditOptions{Since: time.Now(), Until: time.Now().Add(-time.Hour)}, "until"},
		{"a limit beyond the maximum is Invalid", keel.AuditOptions{ListOptions: keel.ListOptions{Limit: 1000}}, "limit"},
		{"a cursor keel did not make is Invalid", keel.AuditOptions{ListOptions: keel.ListOptions{Cursor: "nope"}}, "cursor"},
		{"a kind keel does not emit is Invalid", keel.AuditOptions{Kinds: []keel.EventKind{keel.EventLoginFailed, "login_faild"}}, "kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.AuditEvents(ctx, admin, tc.opts)
			wantCode(t, err, keel.Invalid)
			var ke *keel.Error
			if !errorsAs(err, &ke) || len(ke.Fields) != 1 || ke.Fields[0].Field != tc.field {
				t.Errorf("err = %v, want one failing field %q", err, tc.field)
			}
		})
	}
}

func TestPurgeExpiredAppliesTheAuditRetention(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		retention time.Duration
		wantKept  int
	}{
		{"the default keeps 90 days", 0, 2},
		{"a retention of a day keeps the last day", 24 * time.Hour, 1},
		{"a negative retention keeps every event", -1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *keel.Config) { c.AuditRetention = tc.retention })
			id := uuid.Must(uuid.NewV7())
			e.appendEvent(t, keel.EventLoggedOut, id, -91*24*time.Hour)
			e.appendEvent(t, keel.EventLoggedOut, id, -2*24*time.Hour)
			e.appendEvent(t, keel.EventLoggedOut, id, -time.Hour)
			if _, err := e.svc.PurgeExpired(ctx); err != nil {
				t.Fatal(err)
			}
			left, err := e.store.ListAuditEvents(ctx, keel.AuditFilter{}, keel.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(left) != tc.wantKept {
				t.Errorf("%d events left, want %d", len(left), tc.wantKept)
			}
		})
	}
}
