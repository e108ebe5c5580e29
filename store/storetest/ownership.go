package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// testOwnership checks "structs passed in are not retained; structs
// returned are the caller's": changing them afterwards, down to the bytes a
// pointer or slice field points at, never changes what the store holds.
func testOwnership(t *testing.T, newStore newStoreFunc) {
	t.Run("changing a user after CreateUser or UpdateUser does not change the stored one", func(t *testing.T) {
		s := newStore(t)
		u := NewUser()
		mustCreateUser(t, s, u)
		want := *u
		want.FullName = ptr(*u.FullName)
		scribbleUser(u)
		checkUser(t, "User after changing the created struct", mustUser(t, s, want.ID), &want)

		upd := want
		upd.FullName = ptr("Updated")
		wantNoError(t, "UpdateUser", s.UpdateUser(t.Context(), &upd))
		want2 := upd
		want2.FullName = ptr("Updated")
		scribbleUser(&upd)
		checkUser(t, "User after changing the updated struct", mustUser(t, s, want.ID), &want2)
	})

	t.Run("changing a returned user does not change the stored one", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		now := Now()
		sess := mustCreateSession(t, s, NewSession(u.ID, now.Add(time.Hour)))
		byEmail := func() *keel.User { got, _ := s.UserByEmail(t.Context(), u.Email); return got }
		for _, tc := range []struct {
			name string
			get  func() *keel.User
		}{
			{"from User", func() *keel.User { return mustUser(t, s, u.ID) }},
			{"from UserByEmail", byEmail},
			{"from ListUsers", func() *keel.User {
				us, _, _ := s.ListUsers(t.Context(), keel.Page{Limit: 1})
				if len(us) == 0 {
					return nil
				}
				return us[0]
			}},
			{"from FindSession", func() *keel.User {
				_, got, _ := s.FindSession(t.Context(), sess.TokenHash, now)
				return got
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := tc.get()
				if got == nil {
					t.Fatal("got no user")
				}
				scribbleUser(got)
				checkUser(t, "User", mustUser(t, s, u.ID), u)
				checkUser(t, "UserByEmail", byEmail(), u)
			})
		}
	})

	t.Run("changing an item after CreateItem or UpdateItem, or a returned one, does not change the stored one", func(t *testing.T) {
		s := newStore(t)
		owner := mustCreateUser(t, s, NewUser())
		it := NewItem(owner.ID)
		mustCreateItem(t, s, it)
		want := *it
		want.Description = ptr(*it.Description)
		scribbleItem(it)
		checkItem(t, "Item after changing the created struct", mustItem(t, s, want.ID), &want)

		upd := want
		upd.Description = ptr("updated")
		wantNoError(t, "UpdateItem", s.UpdateItem(t.Context(), &upd))
		want.Description = ptr("updated")
		scribbleItem(&upd)
		checkItem(t, "Item after changing the updated struct", mustItem(t, s, want.ID), &want)

		scribbleItem(mustItem(t, s, want.ID))
		list, _, err := s.ListItems(t.Context(), keel.ItemFilter{}, keel.Page{Limit: 1})
		wantNoError(t, "ListItems", err)
		for _, got := range list {
			scribbleItem(got)
		}
		checkItem(t, "Item after changing returned structs", mustItem(t, s, want.ID), &want)
	})

	t.Run("changing session data after CreateSession or UpdateSession, or returned data, does not change the stored data", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := NewSession(u.ID, now.Add(time.Hour))
		mustCreateSession(t, s, sess)
		want := *sess
		want.Data = []byte(string(sess.Data))
		sess.Data[0] ^= 0xff
		sess.Expiry = now.Add(-time.Hour)
		find := func(what string) {
			t.Helper()
			got, _, err := s.FindSession(t.Context(), want.TokenHash, now)
			wantNoError(t, what, err)
			checkSession(t, what, got, &want)
		}
		find("FindSession after changing the created struct")

		data := []byte("updated data")
		wantNoError(t, "UpdateSession", s.UpdateSession(t.Context(), want.TokenHash, data, want.Expiry))
		want.Data = []byte("updated data")
		data[0] ^= 0xff
		find("FindSession after changing the data passed to UpdateSession")

		got, gotUser, err := s.FindSession(t.Context(), want.TokenHash, now)
		wantNoError(t, "FindSession", err)
		got.Data[0] ^= 0xff
		got.Expiry = now
		scribbleUser(gotUser)
		find("FindSession after changing a returned session")
		checkUser(t, "User after changing FindSession's user", mustUser(t, s, u.ID), u)
	})

	testOwnershipOfTokens(t, newStore)
}

func testOwnershipOfTokens(t *testing.T, newStore newStoreFunc) {
	t.Run("changing a session or API token after creating it, or a returned one, does not change the stored one", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		u := mustCreateUser(t, s, NewUser())
		sess := NewSession(u.ID, now.Add(time.Hour))
		mustCreateSession(t, s, sess)
		wantSess := *sess
		wantSess.Data = []byte(string(sess.Data))
		tok := NewAPIToken(u.ID, now, now.Add(time.Hour))
		mustCreateAPIToken(t, s, tok)
		wantTok := *tok
		scribbleSession(sess)
		scribbleAPIToken(tok)
		check := func(what string) {
			t.Helper()
			got, _, err := s.FindSession(t.Context(), wantSess.TokenHash, now)
			wantNoError(t, what+": FindSession", err)
			checkSession(t, what, got, &wantSess)
			gotTok, _, err := s.FindAPIToken(t.Context(), wantTok.TokenHash, now)
			wantNoError(t, what+": FindAPIToken", err)
			checkAPIToken(t, what, gotTok, &wantTok)
		}
		check("after changing the created structs")

		got, _, err := s.FindSession(t.Context(), wantSess.TokenHash, now)
		wantNoError(t, "FindSession", err)
		scribbleSession(got)
		gotTok, _, err := s.FindAPIToken(t.Context(), wantTok.TokenHash, now)
		wantNoError(t, "FindAPIToken", err)
		scribbleAPIToken(gotTok)
		list, err := s.ListUserSessions(t.Context(), u.ID, now)
		wantNoError(t, "ListUserSessions", err)
		for _, sess := range list {
			scribbleSession(sess)
		}
		toks, err := s.ListUserAPITokens(t.Context(), u.ID, now)
		wantNoError(t, "ListUserAPITokens", err)
		for _, tok := range toks {
			scribbleAPIToken(tok)
		}
		check("after changing the returned structs")
	})
}

// scribbleSession changes every field of s but its token hash, and its
// data in place.
func scribbleSession(s *keel.SessionRecord) {
	for i := range s.Data {
		s.Data[i] ^= 0xff
	}
	s.ID = uuid.Nil
	s.UserID = uuid.Nil
	s.Expiry = time.Time{}
	s.CreatedAt = time.Time{}
	s.LastUsedAt = time.Time{}
	s.ClientAddr = "scribbled"
	s.UserAgent = "scribbled"
}

// scribbleAPIToken changes every field of t but its token hash.
func scribbleAPIToken(t *keel.APIToken) {
	t.ID = uuid.Nil
	t.UserID = uuid.Nil
	t.Name = "scribbled"
	t.Scope = "scribbled"
	t.CreatedAt = time.Time{}
	t.LastUsedAt = time.Time{}
	t.ExpiresAt = time.Time{}
}

// scribbleUser changes every field of u and what its pointers point at.
func scribbleUser(u *keel.User) {
	if u.FullName != nil {
		*u.FullName = "scribbled"
	}
	u.Email = "scribbled@example.com"
	u.IsActive = !u.IsActive
	u.IsSuperuser = !u.IsSuperuser
	u.PasswordHash = "scribbled"
	u.PasswordChangedAt = time.Time{}
	u.CreatedAt = time.Time{}
	u.UpdatedAt = time.Time{}
}

// scribbleItem changes every field of it and what its pointers point at.
func scribbleItem(it *keel.Item) {
	if it.Description != nil {
		*it.Description = "scribbled"
	}
	it.Title = "scribbled"
	it.CreatedAt = time.Time{}
	it.UpdatedAt = time.Time{}
}
