package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/keel-dev/keel"
)

func testResetTokens(t *testing.T, newStore newStoreFunc) {
	t.Run("ConsumeResetToken returns the token once and then it is NotFound", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateResetToken(t, s, NewResetToken(u.ID, now, now.Add(time.Hour)))
		got, err := s.ConsumeResetToken(t.Context(), tok.TokenHash)
		wantNoError(t, "ConsumeResetToken", err)
		checkResetToken(t, "ConsumeResetToken", got, tok)
		_, err = s.ConsumeResetToken(t.Context(), tok.TokenHash)
		wantCode(t, "a second ConsumeResetToken", err, keel.NotFound)
	})

	t.Run("ConsumeResetToken returns an expired token: keel checks expiry", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateResetToken(t, s, NewResetToken(u.ID, now.Add(-2*time.Hour), now.Add(-time.Hour)))
		got, err := s.ConsumeResetToken(t.Context(), tok.TokenHash)
		wantNoError(t, "ConsumeResetToken", err)
		checkResetToken(t, "ConsumeResetToken", got, tok)
	})

	t.Run("ConsumeResetToken of an unknown hash is NotFound", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateResetToken(t, s, NewResetToken(u.ID, now, now.Add(time.Hour)))
		_, err := s.ConsumeResetToken(t.Context(), NewTokenHash())
		wantCode(t, "ConsumeResetToken", err, keel.NotFound)
		got, err := s.ConsumeResetToken(t.Context(), tok.TokenHash)
		wantNoError(t, "ConsumeResetToken of the real token", err)
		checkResetToken(t, "the real token", got, tok)
	})

	t.Run("CreateResetToken supersedes the user's earlier tokens and no one else's", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		first := mustCreateResetToken(t, s, NewResetToken(u.ID, now.Add(-2*time.Minute), now.Add(time.Hour)))
		second := mustCreateResetToken(t, s, NewResetToken(u.ID, now.Add(-time.Minute), now.Add(time.Hour)))
		theirs := mustCreateResetToken(t, s, NewResetToken(other.ID, now, now.Add(time.Hour)))
		newest := mustCreateResetToken(t, s, NewResetToken(u.ID, now, now.Add(time.Hour)))

		for _, old := range []*keel.ResetToken{first, second} {
			_, err := s.ConsumeResetToken(t.Context(), old.TokenHash)
			wantCode(t, "ConsumeResetToken of a superseded token", err, keel.NotFound)
		}
		got, err := s.ConsumeResetToken(t.Context(), newest.TokenHash)
		wantNoError(t, "ConsumeResetToken of the newest token", err)
		checkResetToken(t, "the newest token", got, newest)
		got, err = s.ConsumeResetToken(t.Context(), theirs.TokenHash)
		wantNoError(t, "ConsumeResetToken of the other user's token", err)
		checkResetToken(t, "the other user's token", got, theirs)
	})

	t.Run("CreateResetToken for a missing user is NotFound and creates nothing", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		tok := NewResetToken(NewID(), now, now.Add(time.Hour))
		wantCode(t, "CreateResetToken", s.CreateResetToken(t.Context(), tok), keel.NotFound)
		_, err := s.ConsumeResetToken(t.Context(), tok.TokenHash)
		wantCode(t, "ConsumeResetToken", err, keel.NotFound)
	})

	t.Run("DeleteUserResetTokens deletes the user's tokens and no one else's", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		mine := mustCreateResetToken(t, s, NewResetToken(u.ID, now, now.Add(time.Hour)))
		theirs := mustCreateResetToken(t, s, NewResetToken(other.ID, now, now.Add(time.Hour)))
		wantNoError(t, "DeleteUserResetTokens", s.DeleteUserResetTokens(t.Context(), u.ID))
		_, err := s.ConsumeResetToken(t.Context(), mine.TokenHash)
		wantCode(t, "ConsumeResetToken of a deleted token", err, keel.NotFound)
		got, err := s.ConsumeResetToken(t.Context(), theirs.TokenHash)
		wantNoError(t, "ConsumeResetToken of the other user's token", err)
		checkResetToken(t, "the other user's token", got, theirs)

		wantNoError(t, "DeleteUserResetTokens of a user without tokens", s.DeleteUserResetTokens(t.Context(), u.ID))
		wantNoError(t, "DeleteUserResetTokens of an unknown user", s.DeleteUserResetTokens(t.Context(), NewID()))
	})

	t.Run("of 20 concurrent ConsumeResetToken calls with one hash exactly one gets the token", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateResetToken(t, s, NewResetToken(u.ID, now, now.Add(time.Hour)))
		const n = 20
		got := make([]*keel.ResetToken, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				got[i], errs[i] = s.ConsumeResetToken(t.Context(), tok.TokenHash)
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i, err := range errs {
			if err == nil {
				winners++
				checkResetToken(t, "the consumed token", got[i], tok)
				continue
			}
			if keel.ErrorCode(err) != keel.NotFound {
				t.Errorf("consume %d: err = %v (code %v), want code NotFound", i, err, keel.ErrorCode(err))
			}
		}
		if winners != 1 {
			t.Errorf("%d calls got the token, want exactly 1", winners)
		}
	})
}
