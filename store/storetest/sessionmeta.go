package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// testSessionMetadata covers what a user sees and does with their own
// sessions: ListUserSessions, DeleteUserSession, TouchSession and
// TrimUserSessions.
func testSessionMetadata(t *testing.T, newStore newStoreFunc) {
	t.Run("ListUserSessions returns the user's unexpired sessions newest first, with every field", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		mustCreateSession(t, s, NewSession(other.ID, now.Add(time.Hour)))
		mustCreateSession(t, s, NewSession(u.ID, now.Add(-time.Minute))) // expired, not yet deleted
		st := newestFirst()
		want := make([]*keel.SessionRecord, len(st))
		for _, i := range insertionOrder {
			sess := NewSession(u.ID, now.Add(time.Hour))
			sess.ID, sess.CreatedAt = st[i].ID, st[i].CreatedAt
			sess.ClientAddr = fmt.Sprintf("192.0.2.%d", i)
			want[i] = mustCreateSession(t, s, sess)
		}
		got, err := s.ListUserSessions(t.Context(), u.ID, now)
		wantNoError(t, "ListUserSessions", err)
		checkIDs(t, "ListUserSessions", sessionIDs(got), stampIDs(st))
		for i := range min(len(got), len(want)) {
			checkSession(t, fmt.Sprintf("session %d", i), got[i], want[i])
		}
	})

	t.Run("ListUserSessions sees a session only while its Expiry is after now", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		for _, tc := range []struct {
			name string
			now  time.Time
			want int
		}{
			{"a microsecond before Expiry it is listed", sess.Expiry.Add(-time.Microsecond), 1},
			{"at Expiry it is not", sess.Expiry, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListUserSessions(t.Context(), u.ID, tc.now)
				wantNoError(t, "ListUserSessions", err)
				if len(got) != tc.want {
					t.Errorf("ListUserSessions = %d sessions, want %d", len(got), tc.want)
				}
			})
		}
	})

	t.Run("ListUserSessions of a user without sessions is empty", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		for _, tc := range []struct {
			name string
			id   uuid.UUID
		}{{"an existing user", u.ID}, {"an unknown user", NewID()}} {
			got, err := s.ListUserSessions(t.Context(), tc.id, Now())
			wantNoError(t, "ListUserSessions of "+tc.name, err)
			if len(got) != 0 {
				t.Errorf("ListUserSessions of %s = %d sessions, want none", tc.name, len(got))
			}
		}
	})

	t.Run("DeleteUserSession deletes the user's session with the ID and nothing else", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		gone := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		kept := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		theirs := mustCreateSession(t, s, NewSession(other.ID, now.Add(time.Hour)))

		wantNoError(t, "DeleteUserSession", s.DeleteUserSession(t.Context(), u.ID, gone.ID))
		_, _, err := s.FindSession(t.Context(), gone.TokenHash, now)
		wantCode(t, "FindSession of the deleted session", err, keel.NotFound)
		got, err := s.ListUserSessions(t.Context(), u.ID, now)
		wantNoError(t, "ListUserSessions", err)
		checkIDs(t, "ListUserSessions after DeleteUserSession", sessionIDs(got), []uuid.UUID{kept.ID})
		_, _, err = s.FindSession(t.Context(), theirs.TokenHash, now)
		wantNoError(t, "FindSession of the other user's session", err)
	})

	t.Run("DeleteUserSession of an ID that is not the user's is NotFound and deletes nothing", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		mine := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		theirs := mustCreateSession(t, s, NewSession(other.ID, now.Add(time.Hour)))
		for _, tc := range []struct {
			name     string
			user, id uuid.UUID
		}{
			{"another user's session", u.ID, theirs.ID},
			{"an unknown ID", u.ID, NewID()},
			{"a user that does not exist", NewID(), mine.ID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, "DeleteUserSession", s.DeleteUserSession(t.Context(), tc.user, tc.id), keel.NotFound)
			})
		}
		for _, sess := range []*keel.SessionRecord{mine, theirs} {
			_, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
			wantNoError(t, "FindSession after the refused deletes", err)
		}
		wantNoError(t, "DeleteUserSession", s.DeleteUserSession(t.Context(), u.ID, mine.ID))
		wantCode(t, "DeleteUserSession again", s.DeleteUserSession(t.Context(), u.ID, mine.ID), keel.NotFound)
	})

	t.Run("TouchSession moves LastUsedAt forward and never back", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		neighbour := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		want := *sess
		for _, tc := range []struct {
			name  string
			at    time.Time
			moves bool
		}{
			{"a later time is written", sess.LastUsedAt.Add(time.Minute), true},
			{"a microsecond later is written", sess.LastUsedAt.Add(time.Minute + time.Microsecond), true},
			{"an earlier time is not", sess.LastUsedAt.Add(30 * time.Second), false},
			{"the same time is not", sess.LastUsedAt.Add(time.Minute + time.Microsecond), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantNoError(t, "TouchSession", s.TouchSession(t.Context(), sess.TokenHash, tc.at))
				if tc.moves {
					want.LastUsedAt = tc.at
				}
				got, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
				wantNoError(t, "FindSession", err)
				checkSession(t, "the touched session", got, &want)
			})
		}
		got, _, err := s.FindSession(t.Context(), neighbour.TokenHash, now)
		wantNoError(t, "FindSession of the neighbour", err)
		checkSession(t, "the neighbour", got, neighbour)
	})

	t.Run("concurrent TouchSession calls leave the latest time", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() { errs <- s.TouchSession(t.Context(), sess.TokenHash, now.Add(time.Duration(i+1)*time.Second)) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			wantNoError(t, "TouchSession", err)
		}
		got, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
		wantNoError(t, "FindSession", err)
		checkTime(t, "LastUsedAt", got.LastUsedAt, now.Add(n*time.Second))
	})

	t.Run("TouchSession of a missing session is no error and creates none", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := NewSession(u.ID, now.Add(time.Hour))
		wantNoError(t, "TouchSession", s.TouchSession(t.Context(), sess.TokenHash, now.Add(time.Minute)))
		_, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
		wantCode(t, "FindSession", err, keel.NotFound)
	})

	t.Run("TrimUserSessions keeps the most recently used live sessions", func(t *testing.T) {
		// Five live sessions, most recently used first: a, b and c differ
		// in LastUsedAt; c and d tie on it and differ in CreatedAt; d and e
		// tie on both and differ in ID (d's is the greater).
		ids := []uuid.UUID{NewID(), NewID(), NewID(), NewID(), NewID()}
		slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
		base := Now().Add(-time.Hour)
		lastUsed := []time.Duration{50, 40, 30, 30, 30}
		created := []time.Duration{1, 2, 20, 10, 10}
		idOf := []int{0, 1, 2, 4, 3}
		for _, tc := range []struct {
			name string
			keep int
			kept int // the first kept of the five stay
		}{
			{"keeping 1 of 5", 1, 1},
			{"keeping 3 of 5 decides a LastUsedAt tie by CreatedAt", 3, 3},
			{"keeping 4 of 5 decides a tie of both by ID", 4, 4},
			{"keeping 5 of 5 deletes nothing", 5, 5},
			{"keeping 100 of 5 deletes nothing", 100, 5},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				now := Now()
				u := mustCreateUser(t, s, NewUser())
				other := mustCreateUser(t, s, NewUser())
				theirs := mustCreateSession(t, s, NewSession(other.ID, now.Add(time.Hour)))
				theirs2 := mustCreateSession(t, s, NewSession(other.ID, now.Add(time.Hour)))
				// An expired session used last of all: it neither counts
				// nor goes.
				expired := NewSession(u.ID, now.Add(-time.Minute))
				expired.LastUsedAt = now
				mustCreateSession(t, s, expired)
				sessions := make([]*keel.SessionRecord, 5)
				for _, i := range []int{3, 0, 4, 2, 1} {
					sess := NewSession(u.ID, now.Add(time.Hour))
					sess.ID = ids[idOf[i]]
					sess.LastUsedAt = base.Add(lastUsed[i] * time.Minute)
					sess.CreatedAt = base.Add(created[i] * time.Second)
					sessions[i] = mustCreateSession(t, s, sess)
				}
				n, err := s.TrimUserSessions(t.Context(), u.ID, tc.keep, now)
				wantNoError(t, "TrimUserSessions", err)
				if want := int64(5 - tc.kept); n != want {
					t.Errorf("TrimUserSessions = %d, want %d", n, want)
				}
				for i, sess := range sessions {
					_, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
					if i < tc.kept {
						wantNoError(t, fmt.Sprintf("FindSession of kept session %d", i), err)
					} else {
						wantCode(t, fmt.Sprintf("FindSession of trimmed session %d", i), err, keel.NotFound)
					}
				}
				_, _, err = s.FindSession(t.Context(), expired.TokenHash, now.Add(-time.Hour))
				wantNoError(t, "FindSession of the expired session", err)
				for _, sess := range []*keel.SessionRecord{theirs, theirs2} {
					_, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
					wantNoError(t, "FindSession of the other user's session", err)
				}
			})
		}
	})

	t.Run("TrimUserSessions keeping fewer than 1 is Invalid and deletes nothing", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		for _, keep := range []int{0, -1} {
			_, err := s.TrimUserSessions(t.Context(), u.ID, keep, now)
			wantCode(t, fmt.Sprintf("TrimUserSessions keeping %d", keep), err, keel.Invalid)
		}
		_, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
		wantNoError(t, "FindSession", err)
	})
}
