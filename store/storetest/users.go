package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/keel-dev/keel"
)

func testUsers(t *testing.T, newStore newStoreFunc) {
	t.Run("a created user reads back by id and by email with every field", func(t *testing.T) {
		s := newStore(t)
		u := NewUser()
		u.IsSuperuser = true
		u.IsVerified = true
		u.PasswordChangedAt = u.CreatedAt.Add(-time.Hour)
		u.UpdatedAt = u.CreatedAt.Add(time.Second)
		mustCreateUser(t, s, NewUser()) // a neighbour, so a store that returns any row fails
		mustCreateUser(t, s, u)

		got, err := s.User(t.Context(), u.ID)
		wantNoError(t, "User", err)
		checkUser(t, "User", got, u)

		got, err = s.UserByEmail(t.Context(), u.Email)
		wantNoError(t, "UserByEmail", err)
		checkUser(t, "UserByEmail", got, u)
	})

	t.Run("a full name round-trips whether nil, empty or set", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			fullName *string
		}{
			{"nil stays nil", nil},
			{"an empty name stays empty, not nil", ptr("")},
			{"a name with non-ASCII letters stays the same", ptr("Zoë Ångström 山田")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				u := NewUser()
				u.FullName = tc.fullName
				mustCreateUser(t, s, u)
				checkStringPtr(t, "FullName", mustUser(t, s, u.ID).FullName, tc.fullName)
			})
		}
	})

	t.Run("times round-trip to the microsecond and come back in UTC", func(t *testing.T) {
		base := time.Date(2024, time.February, 29, 23, 59, 58, 123456000, time.UTC)
		for _, tc := range []struct {
			name string
			loc  *time.Location
		}{
			{"from UTC", time.UTC},
			{"from a zone east of UTC", time.FixedZone("UTC+5:30", 5*3600+1800)},
			{"from a zone west of UTC", time.FixedZone("UTC-8", -8*3600)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				u := NewUser()
				u.CreatedAt = base.In(tc.loc)
				u.UpdatedAt = base.Add(time.Microsecond).In(tc.loc)
				u.PasswordChangedAt = base.Add(-999999 * time.Microsecond).In(tc.loc)
				mustCreateUser(t, s, u)
				got := mustUser(t, s, u.ID)
				checkTime(t, "CreatedAt", got.CreatedAt, u.CreatedAt)
				checkTime(t, "UpdatedAt", got.UpdatedAt, u.UpdatedAt)
				checkTime(t, "PasswordChangedAt", got.PasswordChangedAt, u.PasswordChangedAt)
			})
		}
		t.Run("nanoseconds are kept to within a microsecond", func(t *testing.T) {
			s := newStore(t)
			u := NewUser()
			u.CreatedAt = base.Add(789 * time.Nanosecond)
			mustCreateUser(t, s, u)
			got := mustUser(t, s, u.ID)
			if d := got.CreatedAt.Sub(u.CreatedAt).Abs(); d >= time.Microsecond {
				t.Errorf("CreatedAt = %v, want %v to within a microsecond (off by %v)", got.CreatedAt, u.CreatedAt, d)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt = %v is in %v, want UTC", got.CreatedAt, got.CreatedAt.Location())
			}
		})
	})

	t.Run("missing users are NotFound", func(t *testing.T) {
		s := newStore(t)
		other := mustCreateUser(t, s, NewUser()) // the store is not empty
		missing := NewUser()
		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"User with an unknown id", func() error { _, err := s.User(t.Context(), missing.ID); return err }},
			{"UserByEmail with an unknown email", func() error { _, err := s.UserByEmail(t.Context(), missing.Email); return err }},
			{"UpdateUser of an unknown id", func() error { return s.UpdateUser(t.Context(), missing) }},
			{"DeleteUser of an unknown id", func() error { return s.DeleteUser(t.Context(), missing.ID) }},
		} {
			t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.name, tc.call(), keel.NotFound) })
		}
		t.Run("and a failed UpdateUser creates no user", func(t *testing.T) {
			_, err := s.User(t.Context(), missing.ID)
			wantCode(t, "User after UpdateUser", err, keel.NotFound)
			checkUser(t, "the other user", mustUser(t, s, other.ID), other)
		})
	})

	t.Run("CreateUser rejects a taken email with Conflict and keeps the first user", func(t *testing.T) {
		s := newStore(t)
		first := mustCreateUser(t, s, NewUser())
		second := NewUser()
		second.Email = first.Email
		wantCode(t, "CreateUser with a taken email", s.CreateUser(t.Context(), second), keel.Conflict)

		_, err := s.User(t.Context(), second.ID)
		wantCode(t, "User of the rejected user", err, keel.NotFound)
		got, err := s.UserByEmail(t.Context(), first.Email)
		wantNoError(t, "UserByEmail", err)
		checkUser(t, "UserByEmail", got, first)
	})

	t.Run("UpdateUser replaces every field except ID and CreatedAt", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		later := u.CreatedAt.Add(time.Hour)
		upd := &keel.User{
			ID:                u.ID,
			Email:             "renamed-" + u.Email,
			FullName:          nil,
			IsActive:          false,
			IsSuperuser:       true,
			IsVerified:        true,
			PasswordHash:      "$2a$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01",
			PasswordChangedAt: later,
			CreatedAt:         u.CreatedAt.Add(-48 * time.Hour), // must be ignored
			UpdatedAt:         later.Add(time.Microsecond),
		}
		wantNoError(t, "UpdateUser", s.UpdateUser(t.Context(), upd))

		want := *upd
		want.CreatedAt = u.CreatedAt
		checkUser(t, "User after UpdateUser", mustUser(t, s, u.ID), &want)

		got, err := s.UserByEmail(t.Context(), upd.Email)
		wantNoError(t, "UserByEmail with the new email", err)
		checkUser(t, "UserByEmail with the new email", got, &want)
		_, err = s.UserByEmail(t.Context(), u.Email)
		wantCode(t, "UserByEmail with the old email", err, keel.NotFound)

		// The old email is free again.
		reuse := NewUser()
		reuse.Email = u.Email
		wantNoError(t, "CreateUser with the freed email", s.CreateUser(t.Context(), reuse))
	})

	t.Run("UpdateUser sets a full name on a user that had none", func(t *testing.T) {
		s := newStore(t)
		u := NewUser()
		u.FullName = nil
		mustCreateUser(t, s, u)
		upd := *u
		upd.FullName = ptr("Now Named")
		wantNoError(t, "UpdateUser", s.UpdateUser(t.Context(), &upd))
		checkUser(t, "User", mustUser(t, s, u.ID), &upd)
	})

	t.Run("UpdateUser keeping the user's own email is not a Conflict", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		upd := *u
		upd.FullName = ptr("Changed Name")
		wantNoError(t, "UpdateUser", s.UpdateUser(t.Context(), &upd))
		checkUser(t, "User", mustUser(t, s, u.ID), &upd)
	})

	t.Run("UpdateUser to another user's email is a Conflict and changes nothing", func(t *testing.T) {
		s := newStore(t)
		first := mustCreateUser(t, s, NewUser())
		second := mustCreateUser(t, s, NewUser())
		upd := *second
		upd.Email = first.Email
		upd.FullName = ptr("Should Not Stick")
		wantCode(t, "UpdateUser to a taken email", s.UpdateUser(t.Context(), &upd), keel.Conflict)

		checkUser(t, "the updated user", mustUser(t, s, second.ID), second)
		got, err := s.UserByEmail(t.Context(), first.Email)
		wantNoError(t, "UserByEmail", err)
		checkUser(t, "the owner of the email", got, first)
		got, err = s.UserByEmail(t.Context(), second.Email)
		wantNoError(t, "UserByEmail with the unchanged email", err)
		checkUser(t, "UserByEmail with the unchanged email", got, second)
	})

	t.Run("DeleteUser removes the user, frees its email and leaves the others", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		wantNoError(t, "DeleteUser", s.DeleteUser(t.Context(), u.ID))

		_, err := s.User(t.Context(), u.ID)
		wantCode(t, "User after DeleteUser", err, keel.NotFound)
		_, err = s.UserByEmail(t.Context(), u.Email)
		wantCode(t, "UserByEmail after DeleteUser", err, keel.NotFound)
		wantCode(t, "a second DeleteUser", s.DeleteUser(t.Context(), u.ID), keel.NotFound)
		checkUser(t, "the other user", mustUser(t, s, other.ID), other)

		reuse := NewUser()
		reuse.Email = u.Email
		wantNoError(t, "CreateUser with the freed email", s.CreateUser(t.Context(), reuse))
	})

	t.Run("of 50 concurrent creates with one email exactly one succeeds and the rest are Conflict", func(t *testing.T) {
		s := newStore(t)
		const n = 50
		email := NewUser().Email
		users := make([]*keel.User, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			users[i] = NewUser()
			users[i].Email = email
			wg.Go(func() {
				<-start
				errs[i] = s.CreateUser(t.Context(), users[i])
			})
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("creates %d and %d both succeeded", winner, i)
			case err == nil:
				winner = i
			case keel.ErrorCode(err) != keel.Conflict:
				t.Errorf("create %d: err = %v (code %v), want code Conflict", i, err, keel.ErrorCode(err))
			}
		}
		if winner < 0 {
			t.Fatal("no create succeeded")
		}
		got, err := s.UserByEmail(t.Context(), email)
		wantNoError(t, "UserByEmail", err)
		checkUser(t, "UserByEmail", got, users[winner])
		_, total, err := s.ListUsers(t.Context(), keel.Page{Offset: 0, Limit: 100})
		wantNoError(t, "ListUsers", err)
		if total != 1 {
			t.Errorf("ListUsers count = %d, want 1", total)
		}
	})

	t.Run("ListUsers returns pages newest first and counts every user", func(t *testing.T) {
		s := newStore(t)
		stamps := newestFirst()
		for _, i := range insertionOrder {
			u := NewUser()
			u.ID, u.CreatedAt = stamps[i].ID, stamps[i].CreatedAt
			mustCreateUser(t, s, u)
		}
		ids := stampIDs(stamps)
		for _, tc := range []struct {
			name string
			page keel.Page
			want []int
		}{
			{"a page bigger than the list holds every user in order", keel.Page{Offset: 0, Limit: 100}, []int{0, 1, 2, 3, 4, 5, 6}},
			{"a page exactly the list's size holds every user", keel.Page{Offset: 0, Limit: 7}, []int{0, 1, 2, 3, 4, 5, 6}},
			{"the first page holds the newest", keel.Page{Offset: 0, Limit: 3}, []int{0, 1, 2}},
			{"the second page continues where the first ended", keel.Page{Offset: 3, Limit: 3}, []int{3, 4, 5}},
			{"the last page is short", keel.Page{Offset: 6, Limit: 3}, []int{6}},
			{"a page inside a CreatedAt tie is ordered by ID", keel.Page{Offset: 2, Limit: 1}, []int{2}},
			{"a page just past the end is empty", keel.Page{Offset: 7, Limit: 3}, nil},
			{"a page far past the end is empty", keel.Page{Offset: 1000, Limit: 3}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := s.ListUsers(t.Context(), tc.page)
				wantNoError(t, "ListUsers", err)
				checkIDs(t, "ListUsers", userIDs(got), pick(ids, tc.want...))
				if total != len(stamps) {
					t.Errorf("ListUsers count = %d, want %d", total, len(stamps))
				}
			})
		}
	})

	t.Run("ListUsers returns full users", func(t *testing.T) {
		s := newStore(t)
		u := NewUser()
		u.IsSuperuser = true
		mustCreateUser(t, s, u)
		got, _, err := s.ListUsers(t.Context(), keel.Page{Limit: 10})
		wantNoError(t, "ListUsers", err)
		if len(got) != 1 {
			t.Fatalf("ListUsers returned %d users, want 1", len(got))
		}
		checkUser(t, "ListUsers", got[0], u)
	})

	t.Run("ListUsers on an empty store returns no users and a count of 0", func(t *testing.T) {
		s := newStore(t)
		got, total, err := s.ListUsers(t.Context(), keel.Page{Offset: 0, Limit: 10})
		wantNoError(t, "ListUsers", err)
		if len(got) != 0 || total != 0 {
			t.Errorf("ListUsers = %d users, count %d; want none, count 0", len(got), total)
		}
	})
}
