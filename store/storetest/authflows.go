package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// NewAuthFlow returns an unsaved authentication flow of the kind and user
// (uuid.Nil for none) with a random key hash, some data (with a NUL and a
// 0xff byte), created at now and expiring at expires.
func NewAuthFlow(kind keel.AuthFlowKind, userID uuid.UUID, now, expires time.Time) *keel.AuthFlow {
	return &keel.AuthFlow{
		KeyHash:   NewTokenHash(),
		Kind:      kind,
		UserID:    userID,
		Data:      []byte("{\"nonce\":\"n\"}\x00\xff"),
		CreatedAt: now.UTC().Truncate(time.Microsecond),
		ExpiresAt: expires.UTC().Truncate(time.Microsecond),
	}
}

func mustCreateAuthFlow(t *testing.T, s keel.Store, f *keel.AuthFlow) *keel.AuthFlow {
	t.Helper()
	if err := s.CreateAuthFlow(t.Context(), f); err != nil {
		t.Fatalf("CreateAuthFlow: %v", err)
	}
	return f
}

func checkAuthFlow(t *testing.T, what string, got, want *keel.AuthFlow) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: flow = nil, want one", what)
		return
	}
	if got.KeyHash != want.KeyHash || got.Kind != want.Kind || got.UserID != want.UserID {
		t.Errorf("%s: KeyHash, Kind, UserID = %q, %q, %s; want %q, %q, %s", what, got.KeyHash, got.Kind, got.UserID, want.KeyHash, want.Kind, want.UserID)
	}
	if string(got.Data) != string(want.Data) {
		t.Errorf("%s: Data = %q, want %q", what, got.Data, want.Data)
	}
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, what+": ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func testAuthFlows(t *testing.T, newStore newStoreFunc) {
	t.Run("ConsumeAuthFlow returns a flow once, with or without a user, and then it is NotFound", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		for _, f := range []*keel.AuthFlow{
			NewAuthFlow(keel.FlowOIDC, uuid.Nil, now, now.Add(10*time.Minute)),
			NewAuthFlow(keel.FlowPasskeyRegistration, u.ID, now, now.Add(5*time.Minute)),
		} {
			mustCreateAuthFlow(t, s, f)
			got, err := s.ConsumeAuthFlow(t.Context(), f.Kind, f.KeyHash)
			wantNoError(t, "ConsumeAuthFlow", err)
			checkAuthFlow(t, "ConsumeAuthFlow", got, f)
			_, err = s.ConsumeAuthFlow(t.Context(), f.Kind, f.KeyHash)
			wantCode(t, "a second ConsumeAuthFlow", err, keel.NotFound)
		}
	})

	t.Run("a flow is consumed for its own kind only; another kind's attempt leaves it", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		f := mustCreateAuthFlow(t, s, NewAuthFlow(keel.FlowPasskeyLogin, uuid.Nil, now, now.Add(time.Minute)))
		for _, other := range []keel.AuthFlowKind{keel.FlowOIDC, keel.FlowOIDCCode, keel.FlowPasskeyRegistration} {
			_, err := s.ConsumeAuthFlow(t.Context(), other, f.KeyHash)
			wantCode(t, "ConsumeAuthFlow as "+string(other), err, keel.NotFound)
		}
		got, err := s.ConsumeAuthFlow(t.Context(), keel.FlowPasskeyLogin, f.KeyHash)
		wantNoError(t, "ConsumeAuthFlow of its own kind", err)
		checkAuthFlow(t, "ConsumeAuthFlow", got, f)
	})

	t.Run("ConsumeAuthFlow returns an expired flow: keel checks expiry", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		f := mustCreateAuthFlow(t, s, NewAuthFlow(keel.FlowOIDC, uuid.Nil, now.Add(-time.Hour), now.Add(-time.Minute)))
		got, err := s.ConsumeAuthFlow(t.Context(), keel.FlowOIDC, f.KeyHash)
		wantNoError(t, "ConsumeAuthFlow", err)
		checkAuthFlow(t, "ConsumeAuthFlow", got, f)
	})

	t.Run("CreateAuthFlow with a taken key hash is Conflict, and for a missing user NotFound", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		first := mustCreateAuthFlow(t, s, NewAuthFlow(keel.FlowOIDC, uuid.Nil, now, now.Add(time.Minute)))
		dup := NewAuthFlow(keel.FlowPasskeyLogin, uuid.Nil, now, now.Add(time.Minute))
		dup.KeyHash = first.KeyHash
		wantCode(t, "CreateAuthFlow with a taken hash", s.CreateAuthFlow(t.Context(), dup), keel.Conflict)
		orphan := NewAuthFlow(keel.FlowPasskeyRegistration, NewID(), now, now.Add(time.Minute))
		wantCode(t, "CreateAuthFlow for a missing user", s.CreateAuthFlow(t.Context(), orphan), keel.NotFound)
		_, err := s.ConsumeAuthFlow(t.Context(), keel.FlowPasskeyRegistration, orphan.KeyHash)
		wantCode(t, "ConsumeAuthFlow of the refused flow", err, keel.NotFound)
		got, err := s.ConsumeAuthFlow(t.Context(), keel.FlowOIDC, first.KeyHash)
		wantNoError(t, "ConsumeAuthFlow of the first flow", err)
		checkAuthFlow(t, "the first flow", got, first)
	})

	t.Run("of 20 concurrent ConsumeAuthFlow calls with one hash exactly one gets the flow", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		f := mustCreateAuthFlow(t, s, NewAuthFlow(keel.FlowOIDC, uuid.Nil, now, now.Add(time.Minute)))
		const n = 20
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = s.ConsumeAuthFlow(t.Context(), keel.FlowOIDC, f.KeyHash)
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for _, err := range errs {
			if err == nil {
				winners++
				continue
			}
			wantCode(t, "a losing ConsumeAuthFlow", err, keel.NotFound)
		}
		if winners != 1 {
			t.Errorf("%d calls got the flow, want exactly 1", winners)
		}
	})

	t.Run("DeleteExpired removes flows that expired at or before now and keeps live ones", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		expired := []*keel.AuthFlow{
			mustCreateAuthFlow(t, s, NewAuthFlow(keel.FlowOIDC, uuid.Nil, now.Add(-time.Hour), now.Add(-time.Minute))),
			mustCreateAuthFlow(t, s, NewAuthFlow(keel.FlowPasskeyLogin, uuid.Nil, now.Add(-time.Minute), now)),
		}
		live := mustCreateAuthFlow(t, s, NewAuthFlow(keel.FlowOIDC, uuid.Nil, now, now.Add(time.Microsecond)))
		n, err := s.DeleteExpired(t.Context(), now)
		wantNoError(t, "DeleteExpired", err)
		if n != 2 {
			t.Errorf("DeleteExpired = %d, want 2", n)
		}
		for _, f := range expired {
			_, err := s.ConsumeAuthFlow(t.Context(), f.Kind, f.KeyHash)
			wantCode(t, "ConsumeAuthFlow of an expired flow", err, keel.NotFound)
		}
		got, err := s.ConsumeAuthFlow(t.Context(), keel.FlowOIDC, live.KeyHash)
		wantNoError(t, "ConsumeAuthFlow of the live flow", err)
		checkAuthFlow(t, "the live flow", got, live)
	})

	t.Run("DeleteUser removes the user's flows and leaves the others", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		gone := mustCreateUser(t, s, NewUser())
		kept := mustCreateUser(t, s, NewUser())
		goneFlow := mustCreateAuthFlow(t, s, NewAuthFlow(keel.FlowPasskeyRegistration, gone.ID, now, now.Add(time.Minute)))
		keptFlow := mustCreateAuthFlow(t, s, NewAuthFlow(keel.FlowPasskeyRegistration, kept.ID, now, now.Add(time.Minute)))
		anonymous := mustCreateAuthFlow(t, s, NewAuthFlow(keel.FlowOIDC, uuid.Nil, now, now.Add(time.Minute)))
		wantNoError(t, "DeleteUser", s.DeleteUser(t.Context(), gone.ID))
		_, err := s.ConsumeAuthFlow(t.Context(), keel.FlowPasskeyRegistration, goneFlow.KeyHash)
		wantCode(t, "ConsumeAuthFlow of the deleted user's flow", err, keel.NotFound)
		for _, f := range []*keel.AuthFlow{keptFlow, anonymous} {
			got, err := s.ConsumeAuthFlow(t.Context(), f.Kind, f.KeyHash)
			wantNoError(t, "ConsumeAuthFlow of a kept flow", err)
			checkAuthFlow(t, "a kept flow", got, f)
		}
	})
}

// testSignInAvailability extends Availability to the sign-in methods: a
// cancelled call is Unavailable, never NotFound, and consumes nothing.
func testSignInAvailability(t *testing.T, newStore newStoreFunc) {
	t.Run("sign-in calls with a cancelled context are Unavailable, never NotFound", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		id := mustCreateIdentity(t, s, NewIdentity(u.ID, "google"))
		p := mustCreatePasskey(t, s, NewPasskey(u.ID))
		h := NewUserHandle()
		wantNoError(t, "CreateUserHandle", s.CreateUserHandle(t.Context(), u.ID, h))
		f := mustCreateAuthFlow(t, s, NewAuthFlow(keel.FlowOIDC, uuid.Nil, now, now.Add(time.Minute)))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"Identity", func() error { _, err := s.Identity(ctx, "google", id.Subject); return err }},
			{"Passkey", func() error { _, err := s.Passkey(ctx, p.CredentialID); return err }},
			{"UserByHandle", func() error { _, err := s.UserByHandle(ctx, h); return err }},
			{"UserHandle", func() error { _, err := s.UserHandle(ctx, u.ID); return err }},
			{"ConsumeAuthFlow", func() error { _, err := s.ConsumeAuthFlow(ctx, keel.FlowOIDC, f.KeyHash); return err }},
			{"UsePasskey", func() error { return s.UsePasskey(ctx, p.CredentialID, 9, p.Flags, now) }},
		} {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.name, tc.call(), keel.Unavailable) })
		}
		got, err := s.ConsumeAuthFlow(t.Context(), keel.FlowOIDC, f.KeyHash)
		wantNoError(t, "ConsumeAuthFlow after the cancelled one", err)
		checkAuthFlow(t, "the flow", got, f)
		checkPasskey(t, "the passkey after the cancelled use", mustPasskey(t, s, p.CredentialID), p)
	})
}
