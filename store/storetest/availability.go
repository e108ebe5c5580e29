package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/keel-dev/keel"
)

func testAvailability(t *testing.T, newStore newStoreFunc) {
	t.Run("Ping answers nil on a live store", func(t *testing.T) {
		s := newStore(t)
		wantNoError(t, "Ping", s.Ping(t.Context()))
	})

	// A cancelled or timed-out call must read as Unavailable ("the store
	// did not answer"), never as NotFound ("there is no such row").
	t.Run("calls with a cancelled context are Unavailable, never NotFound", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		it := mustCreateItem(t, s, NewItem(u.ID))
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		tok := mustCreateResetToken(t, s, NewResetToken(u.ID, now, now.Add(time.Hour)))
		ott := mustCreateOneTimeToken(t, s, NewOneTimeToken(u.ID, keel.PurposeLoginChallenge, "", now, now.Add(time.Hour)))
		mustPutTOTP(t, s, NewTOTP(u.ID))
		wantNoError(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(t.Context(), u.ID, []string{"a"}))
		apiTok := mustCreateAPIToken(t, s, NewAPIToken(u.ID, now, now.Add(time.Hour)))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"Ping", func() error { return s.Ping(ctx) }},
			{"User", func() error { _, err := s.User(ctx, u.ID); return err }},
			{"UserByEmail", func() error { _, err := s.UserByEmail(ctx, u.Email); return err }},
			{"Item", func() error { _, err := s.Item(ctx, it.ID); return err }},
			{"FindSession", func() error { _, _, err := s.FindSession(ctx, sess.TokenHash, now); return err }},
			{"ConsumeResetToken", func() error { _, err := s.ConsumeResetToken(ctx, tok.TokenHash); return err }},
			{"OneTimeToken", func() error { _, err := s.OneTimeToken(ctx, ott.Purpose, ott.TokenHash); return err }},
			{"ConsumeOneTimeToken", func() error { _, err := s.ConsumeOneTimeToken(ctx, ott.Purpose, ott.TokenHash); return err }},
			{"TOTP", func() error { _, err := s.TOTP(ctx, u.ID); return err }},
			{"AdvanceTOTPStep", func() error { return s.AdvanceTOTPStep(ctx, u.ID, 1) }},
			{"ConsumeRecoveryCode", func() error { return s.ConsumeRecoveryCode(ctx, u.ID, "a") }},
			{"ListUserSessions", func() error { _, err := s.ListUserSessions(ctx, u.ID, now); return err }},
			{"DeleteUserSession", func() error { return s.DeleteUserSession(ctx, u.ID, sess.ID) }},
			{"FindAPIToken", func() error { _, _, err := s.FindAPIToken(ctx, apiTok.TokenHash, now); return err }},
			{"ListUserAPITokens", func() error { _, err := s.ListUserAPITokens(ctx, u.ID, now); return err }},
			{"DeleteUserAPIToken", func() error { return s.DeleteUserAPIToken(ctx, u.ID, apiTok.ID) }},
			{"LoadOrStoreSecret", func() error { _, err := s.LoadOrStoreSecret(ctx, "k", []byte("v")); return err }},
			{"CreateUser", func() error { return s.CreateUser(ctx, NewUser()) }},
			{"InTx", func() error { return s.InTx(ctx, func(keel.Tx) error { return nil }) }},
		} {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.name, tc.call(), keel.Unavailable) })
		}
		// Nothing was consumed or changed by the cancelled calls.
		_, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
		wantNoError(t, "FindSession", err)
		_, _, err = s.FindAPIToken(t.Context(), apiTok.TokenHash, now)
		wantNoError(t, "FindAPIToken", err)
		got, err := s.ConsumeResetToken(t.Context(), tok.TokenHash)
		wantNoError(t, "ConsumeResetToken", err)
		checkResetToken(t, "ConsumeResetToken", got, tok)
		gotOTT, err := s.ConsumeOneTimeToken(t.Context(), ott.Purpose, ott.TokenHash)
		wantNoError(t, "ConsumeOneTimeToken", err)
		checkOneTimeToken(t, "ConsumeOneTimeToken", gotOTT, ott)
		wantNoError(t, "AdvanceTOTPStep", s.AdvanceTOTPStep(t.Context(), u.ID, 1))
		wantNoError(t, "ConsumeRecoveryCode", s.ConsumeRecoveryCode(t.Context(), u.ID, "a"))
		_, total, err := s.ListUsers(t.Context(), keel.Page{Limit: 10})
		wantNoError(t, "ListUsers", err)
		if total != 1 {
			t.Errorf("ListUsers count = %d, want 1", total)
		}
	})

	t.Run("Close returns nil, again too, and afterwards no row reads as missing", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		it := mustCreateItem(t, s, NewItem(u.ID))
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		apiTok := mustCreateAPIToken(t, s, NewAPIToken(u.ID, now, now.Add(time.Hour)))
		wantNoError(t, "Close", s.Close())
		wantNoError(t, "Close again", s.Close())
		// A store that does not own its database (bunstore.New) may go on
		// answering; one that closed it must fail, but never with NotFound.
		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"Ping", func() error { return s.Ping(ctx) }},
			{"User", func() error { _, err := s.User(ctx, u.ID); return err }},
			{"UserByEmail", func() error { _, err := s.UserByEmail(ctx, u.Email); return err }},
			{"Item", func() error { _, err := s.Item(ctx, it.ID); return err }},
			{"FindSession", func() error { _, _, err := s.FindSession(ctx, sess.TokenHash, now); return err }},
			{"UpdateSession", func() error { return s.UpdateSession(ctx, sess.TokenHash, []byte("x"), now.Add(time.Hour)) }},
			{"DeleteUserSession", func() error { return s.DeleteUserSession(ctx, u.ID, sess.ID) }},
			{"FindAPIToken", func() error { _, _, err := s.FindAPIToken(ctx, apiTok.TokenHash, now); return err }},
			{"DeleteUserAPIToken", func() error { return s.DeleteUserAPIToken(ctx, u.ID, apiTok.ID) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.call(); keel.ErrorCode(err) == keel.NotFound {
					t.Errorf("%s after Close = %v: a closed store reads as an empty one", tc.name, err)
				}
			})
		}
	})
}
