package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// NewIdentity returns an unsaved identity of the user at the provider with
// a fresh id, a random subject, an email and CreatedAt Now.
func NewIdentity(userID uuid.UUID, provider string) *keel.Identity {
	id := NewID()
	return &keel.Identity{
		ID:        id,
		UserID:    userID,
		Provider:  provider,
		Subject:   "subject-" + id.String(),
		Email:     "someone-" + id.String() + "@provider.example",
		CreatedAt: Now(),
	}
}

func mustCreateIdentity(t *testing.T, s keel.Store, id *keel.Identity) *keel.Identity {
	t.Helper()
	if err := s.CreateIdentity(t.Context(), id); err != nil {
		t.Fatalf("CreateIdentity(%s, %s): %v", id.Provider, id.Subject, err)
	}
	return id
}

func checkIdentity(t *testing.T, what string, got, want *keel.Identity) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: identity = nil, want %s", what, want.ID)
		return
	}
	if got.ID != want.ID || got.UserID != want.UserID || got.Provider != want.Provider ||
		got.Subject != want.Subject || got.Email != want.Email {
		t.Errorf("%s = %+v, want %+v", what, *got, *want)
	}
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
}

func identityIDs(ids []*keel.Identity) []uuid.UUID {
	out := make([]uuid.UUID, len(ids))
	for i, id := range ids {
		out[i] = id.ID
	}
	return out
}

func testIdentities(t *testing.T, newStore newStoreFunc) {
	t.Run("Identity returns the linked identity by provider and subject, every field intact", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		id := mustCreateIdentity(t, s, NewIdentity(u.ID, "google"))
		got, err := s.Identity(t.Context(), "google", id.Subject)
		wantNoError(t, "Identity", err)
		checkIdentity(t, "Identity", got, id)
	})

	t.Run("an account is found only at its own provider and with its exact subject", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		id := mustCreateIdentity(t, s, NewIdentity(u.ID, "google"))
		for _, tc := range []struct{ name, provider, subject string }{
			{"another provider", "corp", id.Subject},
			{"another subject", "google", id.Subject + "x"},
			{"the subject in another case", "google", "SUBJECT-" + id.Subject[len("subject-"):]},
		} {
			_, err := s.Identity(t.Context(), tc.provider, tc.subject)
			wantCode(t, "Identity with "+tc.name, err, keel.NotFound)
		}
	})

	t.Run("a provider's account is linked to one user at most", func(t *testing.T) {
		s := newStore(t)
		alice := mustCreateUser(t, s, NewUser())
		mallory := mustCreateUser(t, s, NewUser())
		first := mustCreateIdentity(t, s, NewIdentity(alice.ID, "google"))
		again := NewIdentity(mallory.ID, "google")
		again.Subject = first.Subject
		wantCode(t, "CreateIdentity of a linked account for another user", s.CreateIdentity(t.Context(), again), keel.Conflict)
		got, err := s.Identity(t.Context(), "google", first.Subject)
		wantNoError(t, "Identity", err)
		checkIdentity(t, "the first link", got, first)

		elsewhere := NewIdentity(mallory.ID, "corp")
		elsewhere.Subject = first.Subject
		wantNoError(t, "CreateIdentity of the same subject at another provider", s.CreateIdentity(t.Context(), elsewhere))
	})

	t.Run("CreateIdentity with a taken id is Conflict", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		first := mustCreateIdentity(t, s, NewIdentity(u.ID, "google"))
		dup := NewIdentity(u.ID, "google")
		dup.ID = first.ID
		wantCode(t, "CreateIdentity", s.CreateIdentity(t.Context(), dup), keel.Conflict)
	})

	t.Run("CreateIdentity for a missing user is NotFound and links nothing", func(t *testing.T) {
		s := newStore(t)
		id := NewIdentity(NewID(), "google")
		wantCode(t, "CreateIdentity", s.CreateIdentity(t.Context(), id), keel.NotFound)
		_, err := s.Identity(t.Context(), "google", id.Subject)
		wantCode(t, "Identity", err, keel.NotFound)
	})

	t.Run("ListIdentities lists the user's identities newest first and no one else's", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		base := Now().Add(-time.Hour)
		older := NewIdentity(u.ID, "google")
		older.CreatedAt = base
		newer := NewIdentity(u.ID, "corp")
		newer.CreatedAt = base.Add(time.Minute)
		mustCreateIdentity(t, s, newer)
		mustCreateIdentity(t, s, older)
		mustCreateIdentity(t, s, NewIdentity(other.ID, "google"))
		got, err := s.ListIdentities(t.Context(), u.ID)
		wantNoError(t, "ListIdentities", err)
		checkIDs(t, "ListIdentities", identityIDs(got), []uuid.UUID{newer.ID, older.ID})
		if len(got) == 2 {
			checkIdentity(t, "the newest", got[0], newer)
		}
		none, err := s.ListIdentities(t.Context(), NewID())
		wantNoError(t, "ListIdentities of an unknown user", err)
		if len(none) != 0 {
			t.Errorf("ListIdentities of an unknown user = %d identities, want none", len(none))
		}
	})

	t.Run("DeleteIdentity unlinks the user's own identity and never another user's", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		mine := mustCreateIdentity(t, s, NewIdentity(u.ID, "google"))
		theirs := mustCreateIdentity(t, s, NewIdentity(other.ID, "google"))
		wantCode(t, "DeleteIdentity of another user's identity", s.DeleteIdentity(t.Context(), u.ID, theirs.ID), keel.NotFound)
		got, err := s.Identity(t.Context(), "google", theirs.Subject)
		wantNoError(t, "Identity of the other user's identity", err)
		checkIdentity(t, "the other user's identity", got, theirs)

		wantNoError(t, "DeleteIdentity", s.DeleteIdentity(t.Context(), u.ID, mine.ID))
		_, err = s.Identity(t.Context(), "google", mine.Subject)
		wantCode(t, "Identity after DeleteIdentity", err, keel.NotFound)
		wantCode(t, "DeleteIdentity again", s.DeleteIdentity(t.Context(), u.ID, mine.ID), keel.NotFound)
		// Unlinked, the account may be linked again.
		again := NewIdentity(other.ID, "google")
		again.Subject = mine.Subject
		wantNoError(t, "CreateIdentity of the unlinked account", s.CreateIdentity(t.Context(), again))
	})

	t.Run("DeleteUser removes the user's identities, and the account may be linked again", func(t *testing.T) {
		s := newStore(t)
		gone := mustCreateUser(t, s, NewUser())
		kept := mustCreateUser(t, s, NewUser())
		goneID := mustCreateIdentity(t, s, NewIdentity(gone.ID, "google"))
		keptID := mustCreateIdentity(t, s, NewIdentity(kept.ID, "google"))
		wantNoError(t, "DeleteUser", s.DeleteUser(t.Context(), gone.ID))
		_, err := s.Identity(t.Context(), "google", goneID.Subject)
		wantCode(t, "Identity of the deleted user", err, keel.NotFound)
		got, err := s.Identity(t.Context(), "google", keptID.Subject)
		wantNoError(t, "Identity of the other user", err)
		checkIdentity(t, "the other user's identity", got, keptID)
		again := NewIdentity(kept.ID, "google")
		again.Subject = goneID.Subject
		wantNoError(t, "CreateIdentity of the deleted user's account", s.CreateIdentity(t.Context(), again))
	})

	t.Run("of 10 concurrent links of one account to different users exactly one succeeds", func(t *testing.T) {
		s := newStore(t)
		const n = 10
		users := make([]*keel.User, n)
		for i := range users {
			users[i] = mustCreateUser(t, s, NewUser())
		}
		subject := "subject-" + NewID().String()
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				id := NewIdentity(users[i].ID, "google")
				id.Subject = subject
				errs[i] = s.CreateIdentity(t.Context(), id)
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
			wantCode(t, "a losing CreateIdentity", err, keel.Conflict)
		}
		if winners != 1 {
			t.Errorf("%d links succeeded, want exactly 1", winners)
		}
	})
}
