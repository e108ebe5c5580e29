package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

func testSessions(t *testing.T, newStore newStoreFunc) {
	t.Run("a created session is found with its user", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		verified := NewUser()
		verified.IsVerified = true
		u := mustCreateUser(t, s, verified)
		other := mustCreateUser(t, s, NewUser())
		mustCreateSession(t, s, NewSession(other.ID, now.Add(time.Hour))) // a neighbour
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))

		got, gotUser, err := s.FindSession(t.Context(), sess.TokenHash, now)
		wantNoError(t, "FindSession", err)
		checkSession(t, "FindSession", got, sess)
		checkUser(t, "FindSession's user", gotUser, u)
	})

	t.Run("FindSession sees a session only while its Expiry is after now", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		for _, tc := range []struct {
			name  string
			now   time.Time
			found bool
		}{
			{"an hour before Expiry it is found", sess.Expiry.Add(-time.Hour), true},
			{"a microsecond before Expiry it is found", sess.Expiry.Add(-time.Microsecond), true},
			{"at Expiry it is NotFound", sess.Expiry, false},
			{"a microsecond after Expiry it is NotFound", sess.Expiry.Add(time.Microsecond), false},
			{"a day after Expiry it is NotFound", sess.Expiry.Add(24 * time.Hour), false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, gotUser, err := s.FindSession(t.Context(), sess.TokenHash, tc.now)
				if tc.found {
					wantNoError(t, "FindSession", err)
					checkSession(t, "FindSession", got, sess)
					checkUser(t, "FindSession's user", gotUser, u)
					return
				}
				wantCode(t, "FindSession", err, keel.NotFound)
			})
		}
	})

	t.Run("FindSession of an unknown token hash is NotFound", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		_, _, err := s.FindSession(t.Context(), NewTokenHash(), now)
		wantCode(t, "FindSession", err, keel.NotFound)
		_, _, err = s.FindSession(t.Context(), "", now)
		wantCode(t, "FindSession of an empty hash", err, keel.NotFound)
	})

	t.Run("FindSessionItem returns the session, its user and the item asked for, whoever owns it", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		mine := mustCreateItem(t, s, NewItem(u.ID))
		noDesc := NewItem(u.ID)
		noDesc.Description = nil
		noDesc = mustCreateItem(t, s, noDesc)
		theirs := mustCreateItem(t, s, NewItem(other.ID))
		for _, tc := range []struct {
			name string
			want *keel.Item
		}{
			{"the user's own item comes with the session", mine},
			{"an item without a description comes with it as nil", noDesc},
			{"another user's item comes too: ownership is keel's to check", theirs},
		} {
			t.Run(tc.name, func(t *testing.T) {
				gotSess, gotUser, gotItem, err := s.FindSessionItem(t.Context(), sess.TokenHash, now, tc.want.ID)
				wantNoError(t, "FindSessionItem", err)
				checkSession(t, "FindSessionItem", gotSess, sess)
				checkUser(t, "FindSessionItem's user", gotUser, u)
				checkItem(t, "FindSessionItem's item", gotItem, tc.want)
			})
		}
	})

	t.Run("FindSessionItem finds the session without the item when there is none", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		gone := mustCreateItem(t, s, NewItem(u.ID))
		wantNoError(t, "DeleteItem", s.DeleteItem(t.Context(), gone.ID))
		for _, tc := range []struct {
			name string
			id   uuid.UUID
		}{
			{"an id never used", NewID()},
			{"a deleted item's id", gone.ID},
			{"the nil id", uuid.Nil},
			{"the session's own id", sess.ID},
			{"the user's id", u.ID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				gotSess, gotUser, gotItem, err := s.FindSessionItem(t.Context(), sess.TokenHash, now, tc.id)
				wantNoError(t, "FindSessionItem", err)
				checkSession(t, "FindSessionItem", gotSess, sess)
				checkUser(t, "FindSessionItem's user", gotUser, u)
				if gotItem != nil {
					t.Errorf("FindSessionItem's item = %+v, want nil", gotItem)
				}
			})
		}
	})

	t.Run("FindSessionItem of an expired or unknown session is NotFound even when the item exists", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		it := mustCreateItem(t, s, NewItem(u.ID))
		for _, tc := range []struct {
			name string
			hash string
			now  time.Time
		}{
			{"at its Expiry", sess.TokenHash, sess.Expiry},
			{"after its Expiry", sess.TokenHash, sess.Expiry.Add(time.Microsecond)},
			{"an unknown token hash", NewTokenHash(), now},
			{"an empty token hash", "", now},
		} {
			t.Run(tc.name, func(t *testing.T) {
				gotSess, gotUser, gotItem, err := s.FindSessionItem(t.Context(), tc.hash, tc.now, it.ID)
				wantCode(t, "FindSessionItem", err, keel.NotFound)
				if gotSess != nil || gotUser != nil || gotItem != nil {
					t.Errorf("FindSessionItem answered %v, %v, %v with its error, want nothing", gotSess, gotUser, gotItem)
				}
			})
		}
	})

	t.Run("FindSessionItem in a transaction sees the transaction's writes", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		it := NewItem(u.ID)
		err := s.InTx(t.Context(), func(tx keel.Tx) error {
			if err := tx.CreateItem(t.Context(), it); err != nil {
				return err
			}
			gotSess, _, gotItem, err := tx.FindSessionItem(t.Context(), sess.TokenHash, now, it.ID)
			if err != nil {
				return err
			}
			checkSession(t, "FindSessionItem in the transaction", gotSess, sess)
			checkItem(t, "FindSessionItem's item in the transaction", gotItem, it)
			return nil
		})
		wantNoError(t, "InTx", err)
	})

	t.Run("CreateSession with a taken token hash is a Conflict and keeps the first", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		first := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		dup := NewSession(other.ID, now.Add(2*time.Hour))
		dup.TokenHash = first.TokenHash
		dup.Data = []byte("other")
		wantCode(t, "CreateSession", s.CreateSession(t.Context(), dup), keel.Conflict)
		got, gotUser, err := s.FindSession(t.Context(), first.TokenHash, now)
		wantNoError(t, "FindSession", err)
		checkSession(t, "FindSession", got, first)
		checkUser(t, "FindSession's user", gotUser, u)
		n, err := s.DeleteUserSessions(t.Context(), other.ID, "")
		wantNoError(t, "DeleteUserSessions", err)
		if n != 0 {
			t.Errorf("DeleteUserSessions of the rejected session's user = %d, want 0", n)
		}
	})

	t.Run("CreateSession with a taken ID is a Conflict and keeps the first", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		first := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		dup := NewSession(u.ID, now.Add(2*time.Hour))
		dup.ID = first.ID
		wantCode(t, "CreateSession", s.CreateSession(t.Context(), dup), keel.Conflict)
		_, _, err := s.FindSession(t.Context(), dup.TokenHash, now)
		wantCode(t, "FindSession of the rejected session", err, keel.NotFound)
		got, _, err := s.FindSession(t.Context(), first.TokenHash, now)
		wantNoError(t, "FindSession", err)
		checkSession(t, "FindSession", got, first)
	})

	t.Run("CreateSession for a missing user is NotFound and creates nothing", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		sess := NewSession(NewID(), now.Add(time.Hour))
		wantCode(t, "CreateSession", s.CreateSession(t.Context(), sess), keel.NotFound)
		// A user that appears later does not inherit it.
		u := NewUser()
		u.ID = sess.UserID
		mustCreateUser(t, s, u)
		_, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
		wantCode(t, "FindSession", err, keel.NotFound)
	})

	t.Run("UpdateSession sets data and expiry and keeps the rest", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			data []byte
			move time.Duration
		}{
			{"extending the session", []byte("new data"), 24 * time.Hour},
			{"shortening the session", []byte("shorter"), -30 * time.Minute},
			{"with binary data", []byte{0, 1, 2, 0xfe, 0xff}, time.Microsecond},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				now := Now()
				u := mustCreateUser(t, s, NewUser())
				sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
				neighbour := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
				expiry := sess.Expiry.Add(tc.move)
				wantNoError(t, "UpdateSession", s.UpdateSession(t.Context(), sess.TokenHash, tc.data, expiry))

				got, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
				wantNoError(t, "FindSession", err)
				want := *sess
				want.Data, want.Expiry = tc.data, expiry
				checkSession(t, "FindSession after UpdateSession", got, &want)
				got, _, err = s.FindSession(t.Context(), neighbour.TokenHash, now)
				wantNoError(t, "FindSession of the neighbour", err)
				checkSession(t, "the neighbour", got, neighbour)
			})
		}
	})

	t.Run("UpdateSession can revive an expired but not yet deleted session", func(t *testing.T) {
		// The row exists until DeleteSession or DeleteExpired removes it;
		// UpdateSession only refuses rows that are gone.
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(-time.Minute)))
		wantNoError(t, "UpdateSession", s.UpdateSession(t.Context(), sess.TokenHash, sess.Data, now.Add(time.Hour)))
		_, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
		wantNoError(t, "FindSession", err)
	})

	t.Run("UpdateSession of a deleted session is NotFound and does not recreate it", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			delete func(s keel.Store, sess *keel.SessionRecord) error
			left   int64 // sessions the user still has
		}{
			{"after DeleteSession", func(s keel.Store, sess *keel.SessionRecord) error {
				return s.DeleteSession(t.Context(), sess.TokenHash)
			}, 0},
			{"after DeleteUserSessions", func(s keel.Store, sess *keel.SessionRecord) error {
				_, err := s.DeleteUserSessions(t.Context(), sess.UserID, "")
				return err
			}, 0},
			{"for a hash that never existed", func(s keel.Store, sess *keel.SessionRecord) error {
				sess.TokenHash = NewTokenHash()
				return nil
			}, 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				now := Now()
				u := mustCreateUser(t, s, NewUser())
				sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
				wantNoError(t, "deleting", tc.delete(s, sess))
				wantCode(t, "UpdateSession", s.UpdateSession(t.Context(), sess.TokenHash, []byte("late write"), now.Add(time.Hour)), keel.NotFound)
				_, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
				wantCode(t, "FindSession after UpdateSession", err, keel.NotFound)
				n, err := s.DeleteUserSessions(t.Context(), u.ID, "")
				wantNoError(t, "DeleteUserSessions", err)
				if n != tc.left {
					t.Errorf("DeleteUserSessions = %d, want %d: UpdateSession recreated a session", n, tc.left)
				}
			})
		}
	})

	t.Run("DeleteSession deletes only that session and a missing one is no error", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		keep := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		wantNoError(t, "DeleteSession", s.DeleteSession(t.Context(), sess.TokenHash))
		_, _, err := s.FindSession(t.Context(), sess.TokenHash, now)
		wantCode(t, "FindSession after DeleteSession", err, keel.NotFound)
		wantNoError(t, "DeleteSession again", s.DeleteSession(t.Context(), sess.TokenHash))
		wantNoError(t, "DeleteSession of an unknown hash", s.DeleteSession(t.Context(), NewTokenHash()))
		got, _, err := s.FindSession(t.Context(), keep.TokenHash, now)
		wantNoError(t, "FindSession of the other session", err)
		checkSession(t, "the other session", got, keep)
	})

	t.Run("DeleteUserSessions deletes the user's sessions except one and counts them", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			except   int // index into the user's sessions; -1 for "", -2 for another user's hash
			wantGone int64
		}{
			{"keeping the current session", 1, 3},
			{"keeping none when except is empty", -1, 4},
			{"keeping none when except is another user's session", -2, 4},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				now := Now()
				u := mustCreateUser(t, s, NewUser())
				other := mustCreateUser(t, s, NewUser())
				var mine []*keel.SessionRecord
				for i := range 3 {
					mine = append(mine, mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Duration(i+1)*time.Hour))))
				}
				// An expired session is still the user's and still goes.
				mine = append(mine, mustCreateSession(t, s, NewSession(u.ID, now.Add(-time.Hour))))
				theirs := mustCreateSession(t, s, NewSession(other.ID, now.Add(time.Hour)))

				except := ""
				switch {
				case tc.except >= 0:
					except = mine[tc.except].TokenHash
				case tc.except == -2:
					except = theirs.TokenHash
				}
				n, err := s.DeleteUserSessions(t.Context(), u.ID, except)
				wantNoError(t, "DeleteUserSessions", err)
				if n != tc.wantGone {
					t.Errorf("DeleteUserSessions = %d, want %d", n, tc.wantGone)
				}
				for i, sess := range mine {
					_, _, err := s.FindSession(t.Context(), sess.TokenHash, now.Add(-2*time.Hour))
					if i == tc.except {
						wantNoError(t, "FindSession of the kept session", err)
						continue
					}
					wantCode(t, "FindSession of a deleted session", err, keel.NotFound)
				}
				got, gotUser, err := s.FindSession(t.Context(), theirs.TokenHash, now)
				wantNoError(t, "FindSession of the other user's session", err)
				checkSession(t, "the other user's session", got, theirs)
				checkUser(t, "the other user's session's user", gotUser, other)

				n, err = s.DeleteUserSessions(t.Context(), u.ID, "")
				wantNoError(t, "DeleteUserSessions again", err)
				if want := 4 - tc.wantGone; n != want {
					t.Errorf("DeleteUserSessions again = %d, want %d", n, want)
				}
			})
		}
	})

	t.Run("DeleteUserSessions of a user without sessions deletes nothing", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		for _, id := range []struct {
			name string
			id   uuid.UUID
		}{{"an existing user", u.ID}, {"an unknown user", NewID()}} {
			n, err := s.DeleteUserSessions(t.Context(), id.id, "")
			wantNoError(t, "DeleteUserSessions of "+id.name, err)
			if n != 0 {
				t.Errorf("DeleteUserSessions of %s = %d, want 0", id.name, n)
			}
		}
	})
}
