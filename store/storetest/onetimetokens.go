package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keel-dev/keel"
)

func testOneTimeTokens(t *testing.T, newStore newStoreFunc) {
	t.Run("a created token is read back as it was written, and reading does not use it up", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeChangeEmail, "new@example.com", now, now.Add(time.Hour)))
		for range 2 {
			got, err := s.OneTimeToken(t.Context(), keel.PurposeChangeEmail, tok.TokenHash)
			wantNoError(t, "OneTimeToken", err)
			checkOneTimeToken(t, "OneTimeToken", got, tok)
		}
		got, err := s.ConsumeOneTimeToken(t.Context(), keel.PurposeChangeEmail, tok.TokenHash)
		wantNoError(t, "ConsumeOneTimeToken", err)
		checkOneTimeToken(t, "ConsumeOneTimeToken", got, tok)
	})

	t.Run("ConsumeOneTimeToken returns the token once and then it is NotFound", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeVerifyEmail, u.Email, now, now.Add(time.Hour)))
		_, err := s.ConsumeOneTimeToken(t.Context(), keel.PurposeVerifyEmail, tok.TokenHash)
		wantNoError(t, "ConsumeOneTimeToken", err)
		_, err = s.ConsumeOneTimeToken(t.Context(), keel.PurposeVerifyEmail, tok.TokenHash)
		wantCode(t, "a second ConsumeOneTimeToken", err, keel.NotFound)
		_, err = s.OneTimeToken(t.Context(), keel.PurposeVerifyEmail, tok.TokenHash)
		wantCode(t, "OneTimeToken of a consumed token", err, keel.NotFound)
	})

	t.Run("a token is NotFound for another purpose, and asking for it that way leaves it usable", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeVerifyEmail, u.Email, now, now.Add(time.Hour)))
		for _, p := range []keel.TokenPurpose{keel.PurposeChangeEmail, keel.PurposeLoginChallenge} {
			_, err := s.OneTimeToken(t.Context(), p, tok.TokenHash)
			wantCode(t, "OneTimeToken for "+string(p), err, keel.NotFound)
			_, err = s.ConsumeOneTimeToken(t.Context(), p, tok.TokenHash)
			wantCode(t, "ConsumeOneTimeToken for "+string(p), err, keel.NotFound)
		}
		got, err := s.ConsumeOneTimeToken(t.Context(), keel.PurposeVerifyEmail, tok.TokenHash)
		wantNoError(t, "ConsumeOneTimeToken for its own purpose", err)
		checkOneTimeToken(t, "the token", got, tok)
	})

	t.Run("expired tokens are returned: keel checks expiry", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeLoginChallenge, "", now.Add(-2*time.Hour), now.Add(-time.Hour)))
		got, err := s.ConsumeOneTimeToken(t.Context(), keel.PurposeLoginChallenge, tok.TokenHash)
		wantNoError(t, "ConsumeOneTimeToken", err)
		checkOneTimeToken(t, "the expired token", got, tok)
	})

	t.Run("CreateOneTimeToken supersedes the user's earlier tokens of its purpose only", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		first := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeVerifyEmail, u.Email, now.Add(-2*time.Minute), now.Add(time.Hour)))
		change := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeChangeEmail, "new@example.com", now.Add(-time.Minute), now.Add(time.Hour)))
		theirs := mustCreateOneTimeToken(t, s, NewOneTimeToken(other.ID, keel.PurposeVerifyEmail, other.Email, now, now.Add(time.Hour)))
		newest := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeVerifyEmail, u.Email, now, now.Add(time.Hour)))

		_, err := s.ConsumeOneTimeToken(t.Context(), keel.PurposeVerifyEmail, first.TokenHash)
		wantCode(t, "ConsumeOneTimeToken of a superseded token", err, keel.NotFound)
		for _, tok := range []*keel.OneTimeToken{newest, change, theirs} {
			got, err := s.ConsumeOneTimeToken(t.Context(), tok.Purpose, tok.TokenHash)
			wantNoError(t, "ConsumeOneTimeToken of a live token", err)
			checkOneTimeToken(t, "a live token", got, tok)
		}
	})

	t.Run("CreateOneTimeToken for a missing user is NotFound and creates nothing", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		tok := NewOneTimeToken(NewID(), keel.PurposeVerifyEmail, "x@example.com", now, now.Add(time.Hour))
		wantCode(t, "CreateOneTimeToken", s.CreateOneTimeToken(t.Context(), tok), keel.NotFound)
		_, err := s.OneTimeToken(t.Context(), keel.PurposeVerifyEmail, tok.TokenHash)
		wantCode(t, "OneTimeToken", err, keel.NotFound)
	})

	t.Run("CreateOneTimeToken with a hash that exists is Conflict and keeps the first token", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		tok := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeVerifyEmail, u.Email, now, now.Add(time.Hour)))
		dup := NewOneTimeToken(other.ID, keel.PurposeVerifyEmail, other.Email, now, now.Add(time.Hour))
		dup.TokenHash = tok.TokenHash
		wantCode(t, "CreateOneTimeToken", s.CreateOneTimeToken(t.Context(), dup), keel.Conflict)
		got, err := s.OneTimeToken(t.Context(), keel.PurposeVerifyEmail, tok.TokenHash)
		wantNoError(t, "OneTimeToken", err)
		checkOneTimeToken(t, "the first token", got, tok)
	})

	t.Run("DeleteUserOneTimeTokens deletes the user's tokens of the purpose and no others", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		mine := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeChangeEmail, "new@example.com", now, now.Add(time.Hour)))
		otherPurpose := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeVerifyEmail, u.Email, now, now.Add(time.Hour)))
		theirs := mustCreateOneTimeToken(t, s, NewOneTimeToken(other.ID, keel.PurposeChangeEmail, "b@example.com", now, now.Add(time.Hour)))
		wantNoError(t, "DeleteUserOneTimeTokens", s.DeleteUserOneTimeTokens(ctx, u.ID, keel.PurposeChangeEmail))
		_, err := s.OneTimeToken(ctx, keel.PurposeChangeEmail, mine.TokenHash)
		wantCode(t, "OneTimeToken of a deleted token", err, keel.NotFound)
		for _, tok := range []*keel.OneTimeToken{otherPurpose, theirs} {
			got, err := s.OneTimeToken(ctx, tok.Purpose, tok.TokenHash)
			wantNoError(t, "OneTimeToken of a kept token", err)
			checkOneTimeToken(t, "a kept token", got, tok)
		}
		wantNoError(t, "DeleteUserOneTimeTokens with nothing to delete", s.DeleteUserOneTimeTokens(ctx, u.ID, keel.PurposeChangeEmail))
		wantNoError(t, "DeleteUserOneTimeTokens of an unknown user", s.DeleteUserOneTimeTokens(ctx, NewID(), keel.PurposeVerifyEmail))
	})

	t.Run("DeleteExpired removes one-time tokens that expired at or before now and keeps live ones", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		now := Now()
		var expired, live []*keel.OneTimeToken
		for i, ttl := range []time.Duration{-time.Hour, 0, time.Microsecond, time.Hour} {
			u := mustCreateUser(t, s, NewUser()) // one token per user: a newer one would supersede
			tok := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeVerifyEmail, u.Email, now.Add(-2*time.Hour), now.Add(ttl)))
			if i < 2 {
				expired = append(expired, tok)
			} else {
				live = append(live, tok)
			}
		}
		n, err := s.DeleteExpired(ctx, now)
		wantNoError(t, "DeleteExpired", err)
		if n != 2 {
			t.Errorf("DeleteExpired = %d, want 2", n)
		}
		for _, tok := range expired {
			_, err := s.OneTimeToken(ctx, tok.Purpose, tok.TokenHash)
			wantCode(t, "OneTimeToken of an expired token", err, keel.NotFound)
		}
		for _, tok := range live {
			got, err := s.OneTimeToken(ctx, tok.Purpose, tok.TokenHash)
			wantNoError(t, "OneTimeToken of a live token", err)
			checkOneTimeToken(t, "a live token", got, tok)
		}
	})

	t.Run("a transaction that fails leaves no token created, consumed or superseded", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		kept := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeVerifyEmail, u.Email, now, now.Add(time.Hour)))
		other := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeLoginChallenge, "", now, now.Add(time.Hour)))
		fresh := NewOneTimeToken(u.ID, keel.PurposeVerifyEmail, u.Email, now, now.Add(time.Hour))
		err := s.InTx(ctx, func(tx keel.Tx) error {
			if err := tx.CreateOneTimeToken(ctx, fresh); err != nil {
				return err
			}
			if _, err := tx.ConsumeOneTimeToken(ctx, keel.PurposeLoginChallenge, other.TokenHash); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx = %v, want errRollback", err)
		}
		_, err = s.OneTimeToken(ctx, keel.PurposeVerifyEmail, fresh.TokenHash)
		wantCode(t, "OneTimeToken of the rolled-back token", err, keel.NotFound)
		for _, tok := range []*keel.OneTimeToken{kept, other} {
			got, err := s.OneTimeToken(ctx, tok.Purpose, tok.TokenHash)
			wantNoError(t, "OneTimeToken of a token the transaction touched", err)
			checkOneTimeToken(t, "a token the transaction touched", got, tok)
		}
	})

	t.Run("DeleteUser deletes the user's one-time tokens", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeLoginChallenge, "", now, now.Add(time.Hour)))
		wantNoError(t, "DeleteUser", s.DeleteUser(t.Context(), u.ID))
		_, err := s.OneTimeToken(t.Context(), keel.PurposeLoginChallenge, tok.TokenHash)
		wantCode(t, "OneTimeToken of a deleted user", err, keel.NotFound)
	})

	t.Run("of 20 concurrent ConsumeOneTimeToken calls with one hash exactly one gets the token", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeLoginChallenge, "", now, now.Add(time.Hour)))
		const n = 20
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = s.ConsumeOneTimeToken(t.Context(), keel.PurposeLoginChallenge, tok.TokenHash)
			})
		}
		close(start)
		wg.Wait()
		wantOneWinner(t, "ConsumeOneTimeToken", errs, keel.NotFound)
	})
}

// wantOneWinner fails the test unless exactly one of errs is nil and the
// others have the code loser.
func wantOneWinner(t *testing.T, what string, errs []error, loser keel.Code) {
	t.Helper()
	winners := 0
	for i, err := range errs {
		if err == nil {
			winners++
			continue
		}
		if keel.ErrorCode(err) != loser {
			t.Errorf("%s %d: err = %v (code %v), want code %v", what, i, err, keel.ErrorCode(err), loser)
		}
	}
	if winners != 1 {
		t.Errorf("%s: %d calls succeeded, want exactly 1", what, winners)
	}
}
