package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

func testTOTP(t *testing.T, newStore newStoreFunc) {
	t.Run("a pending TOTP is read back as it was written", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		mustCreateUser(t, s, NewUser()) // a neighbour without one
		tp := mustPutTOTP(t, s, NewTOTP(u.ID))
		got, err := s.TOTP(t.Context(), u.ID)
		wantNoError(t, "TOTP", err)
		checkTOTP(t, "TOTP", got, tp)
	})

	t.Run("PutTOTP replaces every field of the user's TOTP", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		mustPutTOTP(t, s, NewTOTP(u.ID))
		confirmed := NewTOTP(u.ID)
		confirmed.ConfirmedAt = Now().Add(time.Minute)
		confirmed.LastStep = 58_000_000
		confirmed.CreatedAt = Now().Add(-time.Hour)
		mustPutTOTP(t, s, confirmed)
		got, err := s.TOTP(t.Context(), u.ID)
		wantNoError(t, "TOTP", err)
		checkTOTP(t, "the replaced TOTP", got, confirmed)

		pending := NewTOTP(u.ID) // back to pending: ConfirmedAt is cleared too
		mustPutTOTP(t, s, pending)
		got, err = s.TOTP(t.Context(), u.ID)
		wantNoError(t, "TOTP", err)
		checkTOTP(t, "the TOTP put back to pending", got, pending)
	})

	t.Run("TOTP of a user without one is NotFound", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		_, err := s.TOTP(t.Context(), u.ID)
		wantCode(t, "TOTP of a user without one", err, keel.NotFound)
		_, err = s.TOTP(t.Context(), NewID())
		wantCode(t, "TOTP of an unknown user", err, keel.NotFound)
	})

	t.Run("PutTOTP for a missing user is NotFound", func(t *testing.T) {
		s := newStore(t)
		id := NewID()
		wantCode(t, "PutTOTP", s.PutTOTP(t.Context(), NewTOTP(id)), keel.NotFound)
		_, err := s.TOTP(t.Context(), id)
		wantCode(t, "TOTP", err, keel.NotFound)
	})

	t.Run("AdvanceTOTPStep accepts only steps after the last one", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		u := mustCreateUser(t, s, NewUser())
		tp := NewTOTP(u.ID)
		tp.LastStep = 100
		mustPutTOTP(t, s, tp)
		for _, tc := range []struct {
			name string
			step int64
			want keel.Code // Internal: accepted
			last int64
		}{
			{"the last step itself is Conflict", 100, keel.Conflict, 100},
			{"an earlier step is Conflict", 99, keel.Conflict, 100},
			{"the next step is accepted", 101, keel.Internal, 101},
			{"the same step again is Conflict", 101, keel.Conflict, 101},
			{"a later step is accepted", 105, keel.Internal, 105},
			{"a step between is Conflict", 103, keel.Conflict, 105},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := s.AdvanceTOTPStep(ctx, u.ID, tc.step)
				if tc.want == keel.Internal {
					wantNoError(t, "AdvanceTOTPStep", err)
				} else {
					wantCode(t, "AdvanceTOTPStep", err, tc.want)
				}
				got, err := s.TOTP(ctx, u.ID)
				wantNoError(t, "TOTP", err)
				if got.LastStep != tc.last {
					t.Errorf("LastStep = %d, want %d", got.LastStep, tc.last)
				}
				if !got.CreatedAt.Equal(tp.CreatedAt) {
					t.Errorf("CreatedAt = %v, want it unchanged (%v)", got.CreatedAt, tp.CreatedAt)
				}
			})
		}
	})

	t.Run("AdvanceTOTPStep without a TOTP is NotFound", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		wantCode(t, "AdvanceTOTPStep", s.AdvanceTOTPStep(t.Context(), u.ID, 1), keel.NotFound)
		wantCode(t, "AdvanceTOTPStep of an unknown user", s.AdvanceTOTPStep(t.Context(), NewID(), 1), keel.NotFound)
	})

	t.Run("of 20 concurrent AdvanceTOTPStep calls with one step exactly one succeeds", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		mustPutTOTP(t, s, NewTOTP(u.ID))
		const n = 20
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = s.AdvanceTOTPStep(t.Context(), u.ID, 7)
			})
		}
		close(start)
		wg.Wait()
		wantOneWinner(t, "AdvanceTOTPStep", errs, keel.Conflict)
	})

	t.Run("DeleteTOTP deletes the TOTP and the recovery codes, of that user only", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		mustPutTOTP(t, s, NewTOTP(u.ID))
		theirs := mustPutTOTP(t, s, NewTOTP(other.ID))
		wantNoError(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, u.ID, []string{"a", "b"}))
		wantNoError(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, other.ID, []string{"a", "c"}))

		wantNoError(t, "DeleteTOTP", s.DeleteTOTP(ctx, u.ID))
		_, err := s.TOTP(ctx, u.ID)
		wantCode(t, "TOTP after DeleteTOTP", err, keel.NotFound)
		wantCount(t, s, u.ID, 0)
		wantCode(t, "ConsumeRecoveryCode after DeleteTOTP", s.ConsumeRecoveryCode(ctx, u.ID, "a"), keel.NotFound)
		wantCode(t, "DeleteTOTP again", s.DeleteTOTP(ctx, u.ID), keel.NotFound)

		got, err := s.TOTP(ctx, other.ID)
		wantNoError(t, "TOTP of the other user", err)
		checkTOTP(t, "the other user's TOTP", got, theirs)
		wantCount(t, s, other.ID, 2)
		wantNoError(t, "ConsumeRecoveryCode of the other user", s.ConsumeRecoveryCode(ctx, other.ID, "a"))
	})

	t.Run("a transaction that fails leaves the TOTP and its codes as they were", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		u := mustCreateUser(t, s, NewUser())
		tp := NewTOTP(u.ID)
		tp.ConfirmedAt, tp.LastStep = Now(), 10
		mustPutTOTP(t, s, tp)
		wantNoError(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, u.ID, []string{"a", "b"}))
		err := s.InTx(ctx, func(tx keel.Tx) error {
			if err := tx.AdvanceTOTPStep(ctx, u.ID, 11); err != nil {
				return err
			}
			if err := tx.ConsumeRecoveryCode(ctx, u.ID, "a"); err != nil {
				return err
			}
			if err := tx.ReplaceRecoveryCodes(ctx, u.ID, []string{"c"}); err != nil {
				return err
			}
			if err := tx.DeleteTOTP(ctx, u.ID); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("InTx = %v, want errRollback", err)
		}
		got, err := s.TOTP(ctx, u.ID)
		wantNoError(t, "TOTP", err)
		checkTOTP(t, "the TOTP", got, tp)
		wantCount(t, s, u.ID, 2)
		wantNoError(t, "ConsumeRecoveryCode of a code the transaction used", s.ConsumeRecoveryCode(ctx, u.ID, "a"))
		wantCode(t, "ConsumeRecoveryCode of a code the transaction made", s.ConsumeRecoveryCode(ctx, u.ID, "c"), keel.NotFound)
	})

	t.Run("DeleteUser deletes the user's TOTP and recovery codes", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		u := mustCreateUser(t, s, NewUser())
		mustPutTOTP(t, s, NewTOTP(u.ID))
		wantNoError(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, u.ID, []string{"a"}))
		wantNoError(t, "DeleteUser", s.DeleteUser(ctx, u.ID))
		_, err := s.TOTP(ctx, u.ID)
		wantCode(t, "TOTP of a deleted user", err, keel.NotFound)
		wantCount(t, s, u.ID, 0)
	})
}

func testRecoveryCodes(t *testing.T, newStore newStoreFunc) {
	t.Run("each recovery code is consumed once", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		u := mustCreateUser(t, s, NewUser())
		wantNoError(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, u.ID, []string{"a", "b", "c"}))
		wantCount(t, s, u.ID, 3)
		wantNoError(t, "ConsumeRecoveryCode", s.ConsumeRecoveryCode(ctx, u.ID, "b"))
		wantCode(t, "ConsumeRecoveryCode again", s.ConsumeRecoveryCode(ctx, u.ID, "b"), keel.NotFound)
		wantCode(t, "ConsumeRecoveryCode of an unknown code", s.ConsumeRecoveryCode(ctx, u.ID, "z"), keel.NotFound)
		wantCount(t, s, u.ID, 2)
	})

	t.Run("a code is the user's own: another user's code is NotFound and stays", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		wantNoError(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, other.ID, []string{"theirs"}))
		wantCode(t, "ConsumeRecoveryCode of another user's code", s.ConsumeRecoveryCode(ctx, u.ID, "theirs"), keel.NotFound)
		wantNoError(t, "ConsumeRecoveryCode by its owner", s.ConsumeRecoveryCode(ctx, other.ID, "theirs"))
	})

	t.Run("ReplaceRecoveryCodes drops every earlier code", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		u := mustCreateUser(t, s, NewUser())
		wantNoError(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, u.ID, []string{"a", "b"}))
		wantNoError(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(ctx, u.ID, []string{"b", "c", "c"}))
		wantCount(t, s, u.ID, 2)
		wantCode(t, "ConsumeRecoveryCode of a replaced code", s.ConsumeRecoveryCode(ctx, u.ID, "a"), keel.NotFound)
		wantNoError(t, "ConsumeRecoveryCode of a new code", s.ConsumeRecoveryCode(ctx, u.ID, "b"))
		wantNoError(t, "ConsumeRecoveryCode of a new code", s.ConsumeRecoveryCode(ctx, u.ID, "c"))

		wantNoError(t, "ReplaceRecoveryCodes with none", s.ReplaceRecoveryCodes(ctx, u.ID, nil))
		wantCount(t, s, u.ID, 0)
	})

	t.Run("ReplaceRecoveryCodes for a missing user is NotFound", func(t *testing.T) {
		s := newStore(t)
		id := NewID()
		wantCode(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(t.Context(), id, []string{"a"}), keel.NotFound)
		wantCode(t, "ReplaceRecoveryCodes with none", s.ReplaceRecoveryCodes(t.Context(), id, nil), keel.NotFound)
		wantCount(t, s, id, 0)
	})

	t.Run("of 20 concurrent ConsumeRecoveryCode calls with one code exactly one succeeds", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		codes := make([]string, 10)
		for i := range codes {
			codes[i] = fmt.Sprintf("code-%d", i)
		}
		wantNoError(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(t.Context(), u.ID, codes))
		const n = 20
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = s.ConsumeRecoveryCode(t.Context(), u.ID, "code-3")
			})
		}
		close(start)
		wg.Wait()
		wantOneWinner(t, "ConsumeRecoveryCode", errs, keel.NotFound)
		wantCount(t, s, u.ID, 9)
	})
}

func wantCount(t *testing.T, s keel.Store, userID uuid.UUID, want int) {
	t.Helper()
	n, err := s.CountRecoveryCodes(t.Context(), userID)
	wantNoError(t, "CountRecoveryCodes", err)
	if n != want {
		t.Errorf("CountRecoveryCodes = %d, want %d", n, want)
	}
}
