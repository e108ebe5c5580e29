package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

func testAPITokens(t *testing.T, newStore newStoreFunc) {
	t.Run("a created token is found by its hash with its user and every field", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			modify func(tok *keel.APIToken)
		}{
			{"a full token never used", func(*keel.APIToken) {}},
			{"a read-only token", func(tok *keel.APIToken) { tok.Scope = keel.ScopeRead }},
			{"a token used before", func(tok *keel.APIToken) { tok.LastUsedAt = tok.CreatedAt.Add(time.Second) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				now := Now()
				u := mustCreateUser(t, s, NewUser())
				other := mustCreateUser(t, s, NewUser())
				mustCreateAPIToken(t, s, NewAPIToken(other.ID, now, now.Add(time.Hour))) // a neighbour
				tok := NewAPIToken(u.ID, now, now.Add(time.Hour))
				tc.modify(tok)
				mustCreateAPIToken(t, s, tok)

				got, gotUser, err := s.FindAPIToken(t.Context(), tok.TokenHash, now)
				wantNoError(t, "FindAPIToken", err)
				checkAPIToken(t, "FindAPIToken", got, tok)
				checkUser(t, "FindAPIToken's user", gotUser, u)
			})
		}
	})

	t.Run("FindAPIToken sees a token only while its ExpiresAt is after now", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateAPIToken(t, s, NewAPIToken(u.ID, now, now.Add(time.Hour)))
		for _, tc := range []struct {
			name  string
			now   time.Time
			found bool
		}{
			{"a microsecond before ExpiresAt it is found", tok.ExpiresAt.Add(-time.Microsecond), true},
			{"at ExpiresAt it is NotFound", tok.ExpiresAt, false},
			{"a day after ExpiresAt it is NotFound", tok.ExpiresAt.Add(24 * time.Hour), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, _, err := s.FindAPIToken(t.Context(), tok.TokenHash, tc.now)
				if tc.found {
					wantNoError(t, "FindAPIToken", err)
					checkAPIToken(t, "FindAPIToken", got, tok)
					return
				}
				wantCode(t, "FindAPIToken", err, keel.NotFound)
			})
		}
	})

	t.Run("FindAPIToken of an unknown hash is NotFound, and a session's hash is not a token's", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		mustCreateAPIToken(t, s, NewAPIToken(u.ID, now, now.Add(time.Hour)))
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		for _, hash := range []string{NewTokenHash(), "", sess.TokenHash} {
			_, _, err := s.FindAPIToken(t.Context(), hash, now)
			wantCode(t, fmt.Sprintf("FindAPIToken(%.8q)", hash), err, keel.NotFound)
		}
	})

	t.Run("CreateAPIToken refuses a taken hash or ID with Conflict and a missing user with NotFound", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			modify func(dup, first *keel.APIToken)
			code   keel.Code
		}{
			{"a taken hash", func(dup, first *keel.APIToken) { dup.TokenHash = first.TokenHash }, keel.Conflict},
			{"a taken ID", func(dup, first *keel.APIToken) { dup.ID = first.ID }, keel.Conflict},
			{"a missing user", func(dup, _ *keel.APIToken) { dup.UserID = NewID() }, keel.NotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				now := Now()
				u := mustCreateUser(t, s, NewUser())
				other := mustCreateUser(t, s, NewUser())
				first := mustCreateAPIToken(t, s, NewAPIToken(u.ID, now, now.Add(time.Hour)))
				dup := NewAPIToken(other.ID, now, now.Add(2*time.Hour))
				tc.modify(dup, first)
				wantCode(t, "CreateAPIToken", s.CreateAPIToken(t.Context(), dup), tc.code)

				got, gotUser, err := s.FindAPIToken(t.Context(), first.TokenHash, now)
				wantNoError(t, "FindAPIToken of the first", err)
				checkAPIToken(t, "the first token", got, first)
				checkUser(t, "the first token's user", gotUser, u)
				theirs, err := s.ListUserAPITokens(t.Context(), other.ID, now)
				wantNoError(t, "ListUserAPITokens", err)
				if len(theirs) != 0 {
					t.Errorf("the refused token was stored: %v", apiTokenIDs(theirs))
				}
			})
		}
	})

	t.Run("ListUserAPITokens returns the user's unexpired tokens newest first", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		mustCreateAPIToken(t, s, NewAPIToken(other.ID, now, now.Add(time.Hour)))
		mustCreateAPIToken(t, s, NewAPIToken(u.ID, now.Add(-time.Hour), now.Add(-time.Minute))) // expired
		st := newestFirst()
		want := make([]*keel.APIToken, len(st))
		for _, i := range insertionOrder {
			tok := NewAPIToken(u.ID, st[i].CreatedAt, now.Add(time.Hour))
			tok.ID = st[i].ID
			tok.Name = fmt.Sprintf("token %d", i)
			want[i] = mustCreateAPIToken(t, s, tok)
		}
		got, err := s.ListUserAPITokens(t.Context(), u.ID, now)
		wantNoError(t, "ListUserAPITokens", err)
		checkIDs(t, "ListUserAPITokens", apiTokenIDs(got), stampIDs(st))
		for i := range min(len(got), len(want)) {
			checkAPIToken(t, fmt.Sprintf("token %d", i), got[i], want[i])
		}
		none, err := s.ListUserAPITokens(t.Context(), NewID(), now)
		wantNoError(t, "ListUserAPITokens of an unknown user", err)
		if len(none) != 0 {
			t.Errorf("ListUserAPITokens of an unknown user = %d tokens, want none", len(none))
		}
	})

	t.Run("DeleteUserAPIToken deletes the user's token with the ID and refuses any other", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		gone := mustCreateAPIToken(t, s, NewAPIToken(u.ID, now, now.Add(time.Hour)))
		kept := mustCreateAPIToken(t, s, NewAPIToken(u.ID, now, now.Add(time.Hour)))
		theirs := mustCreateAPIToken(t, s, NewAPIToken(other.ID, now, now.Add(time.Hour)))
		for _, tc := range []struct {
			name     string
			user, id uuid.UUID
		}{
			{"another user's token", u.ID, theirs.ID},
			{"an unknown ID", u.ID, NewID()},
			{"a user that does not own it", other.ID, kept.ID},
		} {
			t.Run(tc.name+" is NotFound", func(t *testing.T) {
				wantCode(t, "DeleteUserAPIToken", s.DeleteUserAPIToken(t.Context(), tc.user, tc.id), keel.NotFound)
			})
		}
		wantNoError(t, "DeleteUserAPIToken", s.DeleteUserAPIToken(t.Context(), u.ID, gone.ID))
		_, _, err := s.FindAPIToken(t.Context(), gone.TokenHash, now)
		wantCode(t, "FindAPIToken of the deleted token", err, keel.NotFound)
		wantCode(t, "DeleteUserAPIToken again", s.DeleteUserAPIToken(t.Context(), u.ID, gone.ID), keel.NotFound)
		for _, tok := range []*keel.APIToken{kept, theirs} {
			_, _, err := s.FindAPIToken(t.Context(), tok.TokenHash, now)
			wantNoError(t, "FindAPIToken of a token that stays", err)
		}
	})

	t.Run("DeleteUserAPITokens deletes every token of the user, expired too, and counts them", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		for range 3 {
			mustCreateAPIToken(t, s, NewAPIToken(u.ID, now, now.Add(time.Hour)))
		}
		mustCreateAPIToken(t, s, NewAPIToken(u.ID, now.Add(-time.Hour), now.Add(-time.Minute)))
		theirs := mustCreateAPIToken(t, s, NewAPIToken(other.ID, now, now.Add(time.Hour)))
		n, err := s.DeleteUserAPITokens(t.Context(), u.ID)
		wantNoError(t, "DeleteUserAPITokens", err)
		if n != 4 {
			t.Errorf("DeleteUserAPITokens = %d, want 4", n)
		}
		n, err = s.DeleteUserAPITokens(t.Context(), u.ID)
		wantNoError(t, "DeleteUserAPITokens again", err)
		if n != 0 {
			t.Errorf("DeleteUserAPITokens again = %d, want 0", n)
		}
		_, _, err = s.FindAPIToken(t.Context(), theirs.TokenHash, now)
		wantNoError(t, "FindAPIToken of the other user's token", err)
	})

	t.Run("TouchAPIToken sets LastUsedAt, moves it forward and never back", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		tok := mustCreateAPIToken(t, s, NewAPIToken(u.ID, now, now.Add(time.Hour)))
		neighbour := mustCreateAPIToken(t, s, NewAPIToken(u.ID, now, now.Add(time.Hour)))
		want := *tok
		for _, tc := range []struct {
			name  string
			at    time.Time
			moves bool
		}{
			{"the first use is written", now.Add(time.Minute), true},
			{"a later use is written", now.Add(2 * time.Minute), true},
			{"an earlier time is not", now.Add(90 * time.Second), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantNoError(t, "TouchAPIToken", s.TouchAPIToken(t.Context(), tok.ID, tc.at))
				if tc.moves {
					want.LastUsedAt = tc.at
				}
				got, _, err := s.FindAPIToken(t.Context(), tok.TokenHash, now)
				wantNoError(t, "FindAPIToken", err)
				checkAPIToken(t, "the touched token", got, &want)
			})
		}
		got, _, err := s.FindAPIToken(t.Context(), neighbour.TokenHash, now)
		wantNoError(t, "FindAPIToken of the neighbour", err)
		checkAPIToken(t, "the neighbour", got, neighbour)
		wantNoError(t, "TouchAPIToken of an unknown ID", s.TouchAPIToken(t.Context(), NewID(), now))
	})
}
