package storetest

import (
	"bytes"
	"crypto/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// NewPasskey returns an unsaved passkey of the user with a fresh id, a
// random credential id and public key (with a NUL and a 0xff byte, as
// binary columns must keep), two transports, an AAGUID, sign count 0,
// backup-eligible flags, CreatedAt Now and no use yet.
func NewPasskey(userID uuid.UUID) *keel.Passkey {
	credID := randomBytes(32)
	credID[0], credID[1] = 0, 0xff
	return &keel.Passkey{
		ID:           NewID(),
		UserID:       userID,
		CredentialID: credID,
		Name:         "Laptop",
		PublicKey:    randomBytes(77),
		Transports:   []string{"internal", "hybrid"},
		AAGUID:       randomBytes(16),
		Flags:        keel.PasskeyFlags{UserPresent: true, UserVerified: true, BackupEligible: true},
		CreatedAt:    Now(),
	}
}

// NewUserHandle returns a random WebAuthn user handle of 64 bytes.
func NewUserHandle() []byte { return randomBytes(64) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return b
}

func mustCreatePasskey(t *testing.T, s keel.Store, p *keel.Passkey) *keel.Passkey {
	t.Helper()
	if err := s.CreatePasskey(t.Context(), p); err != nil {
		t.Fatalf("CreatePasskey: %v", err)
	}
	return p
}

func mustPasskey(t *testing.T, s keel.Store, credentialID []byte) *keel.Passkey {
	t.Helper()
	p, err := s.Passkey(t.Context(), credentialID)
	if err != nil {
		t.Fatalf("Passkey: %v", err)
	}
	return p
}

func checkPasskey(t *testing.T, what string, got, want *keel.Passkey) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: passkey = nil, want %s", what, want.ID)
		return
	}
	if got.ID != want.ID || got.UserID != want.UserID || got.Name != want.Name {
		t.Errorf("%s: ID, UserID, Name = %s, %s, %q; want %s, %s, %q", what, got.ID, got.UserID, got.Name, want.ID, want.UserID, want.Name)
	}
	if !bytes.Equal(got.CredentialID, want.CredentialID) {
		t.Errorf("%s: CredentialID = %x, want %x", what, got.CredentialID, want.CredentialID)
	}
	if !bytes.Equal(got.PublicKey, want.PublicKey) {
		t.Errorf("%s: PublicKey = %x, want %x", what, got.PublicKey, want.PublicKey)
	}
	if !bytes.Equal(got.AAGUID, want.AAGUID) {
		t.Errorf("%s: AAGUID = %x, want %x", what, got.AAGUID, want.AAGUID)
	}
	if !slices.Equal(got.Transports, want.Transports) && !(len(got.Transports) == 0 && len(want.Transports) == 0) {
		t.Errorf("%s: Transports = %q, want %q", what, got.Transports, want.Transports)
	}
	if got.SignCount != want.SignCount {
		t.Errorf("%s: SignCount = %d, want %d", what, got.SignCount, want.SignCount)
	}
	if got.Flags != want.Flags {
		t.Errorf("%s: Flags = %+v, want %+v", what, got.Flags, want.Flags)
	}
	checkTime(t, what+": CreatedAt", got.CreatedAt, want.CreatedAt)
	if want.LastUsedAt.IsZero() {
		if !got.LastUsedAt.IsZero() {
			t.Errorf("%s: LastUsedAt = %v, want the zero time (never used)", what, got.LastUsedAt)
		}
	} else {
		checkTime(t, what+": LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	}
}

func passkeyIDs(ps []*keel.Passkey) []uuid.UUID {
	out := make([]uuid.UUID, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

func testPasskeys(t *testing.T, newStore newStoreFunc) {
	t.Run("Passkey returns the passkey by credential id, every field and byte intact", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		p := mustCreatePasskey(t, s, NewPasskey(u.ID))
		checkPasskey(t, "Passkey", mustPasskey(t, s, p.CredentialID), p)

		bare := NewPasskey(u.ID)
		bare.Transports, bare.AAGUID = nil, make([]byte, 16)
		mustCreatePasskey(t, s, bare)
		got := mustPasskey(t, s, bare.CredentialID)
		checkPasskey(t, "a passkey without transports", got, bare)
		if got.Transports == nil {
			t.Error("Transports of a passkey without any = nil, want an empty slice")
		}
	})

	t.Run("Passkey of an unknown credential id, or of a prefix of one, is NotFound", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		p := mustCreatePasskey(t, s, NewPasskey(u.ID))
		for _, id := range [][]byte{randomBytes(32), p.CredentialID[:31], nil} {
			_, err := s.Passkey(t.Context(), id)
			wantCode(t, "Passkey", err, keel.NotFound)
		}
	})

	t.Run("a credential id is registered once, whoever registers it again", func(t *testing.T) {
		s := newStore(t)
		alice := mustCreateUser(t, s, NewUser())
		mallory := mustCreateUser(t, s, NewUser())
		first := mustCreatePasskey(t, s, NewPasskey(alice.ID))
		for _, owner := range []*keel.User{alice, mallory} {
			dup := NewPasskey(owner.ID)
			dup.CredentialID = bytes.Clone(first.CredentialID)
			wantCode(t, "CreatePasskey of a registered credential id", s.CreatePasskey(t.Context(), dup), keel.Conflict)
		}
		checkPasskey(t, "the first passkey", mustPasskey(t, s, first.CredentialID), first)
		sameID := NewPasskey(alice.ID)
		sameID.ID = first.ID
		wantCode(t, "CreatePasskey with a taken id", s.CreatePasskey(t.Context(), sameID), keel.Conflict)
	})

	t.Run("CreatePasskey for a missing user is NotFound and registers nothing", func(t *testing.T) {
		s := newStore(t)
		p := NewPasskey(NewID())
		wantCode(t, "CreatePasskey", s.CreatePasskey(t.Context(), p), keel.NotFound)
		_, err := s.Passkey(t.Context(), p.CredentialID)
		wantCode(t, "Passkey", err, keel.NotFound)
	})

	t.Run("ListPasskeys lists the user's passkeys newest first and no one else's", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		st := newestFirst()
		for _, i := range []int{2, 0, 1} {
			p := NewPasskey(u.ID)
			p.ID, p.CreatedAt = st[i].ID, st[i].CreatedAt
			mustCreatePasskey(t, s, p)
		}
		mustCreatePasskey(t, s, NewPasskey(other.ID))
		got, err := s.ListPasskeys(t.Context(), u.ID)
		wantNoError(t, "ListPasskeys", err)
		checkIDs(t, "ListPasskeys", passkeyIDs(got), stampIDs(st[:3]))
		none, err := s.ListPasskeys(t.Context(), NewID())
		wantNoError(t, "ListPasskeys of an unknown user", err)
		if len(none) != 0 {
			t.Errorf("ListPasskeys of an unknown user = %d passkeys, want none", len(none))
		}
	})

	t.Run("UsePasskey records a use only when the signature counter moves on", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		p := NewPasskey(u.ID)
		p.SignCount = 5
		mustCreatePasskey(t, s, p)
		ctx := t.Context()
		at := Now().Add(time.Minute)
		flags := keel.PasskeyFlags{UserPresent: true, UserVerified: true, BackupEligible: true, BackupState: true}

		for _, tc := range []struct {
			name  string
			count uint32
		}{
			{"the same counter (a replayed or cloned signature)", 5},
			{"a counter that went backwards (a cloned authenticator)", 4},
			{"a counter of 0 after a counting one", 0},
		} {
			wantCode(t, "UsePasskey with "+tc.name, s.UsePasskey(ctx, p.CredentialID, tc.count, flags, at), keel.Conflict)
			checkPasskey(t, "the passkey after a refused use", mustPasskey(t, s, p.CredentialID), p)
		}

		wantNoError(t, "UsePasskey with a higher counter", s.UsePasskey(ctx, p.CredentialID, 6, flags, at))
		want := *p
		want.SignCount, want.Flags, want.LastUsedAt = 6, flags, at
		checkPasskey(t, "the passkey after a use", mustPasskey(t, s, p.CredentialID), &want)

		wantCode(t, "UsePasskey of an unknown credential", s.UsePasskey(ctx, randomBytes(32), 100, flags, at), keel.NotFound)
	})

	t.Run("UsePasskey of an authenticator without a counter (always 0) records every use", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		p := mustCreatePasskey(t, s, NewPasskey(u.ID))
		for i := range 2 {
			at := Now().Add(time.Duration(i+1) * time.Minute)
			wantNoError(t, "UsePasskey with counter 0", s.UsePasskey(t.Context(), p.CredentialID, 0, p.Flags, at))
			want := *p
			want.LastUsedAt = at
			checkPasskey(t, "the passkey", mustPasskey(t, s, p.CredentialID), &want)
		}
	})

	t.Run("of 10 concurrent uses with one counter value exactly one is recorded", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		p := NewPasskey(u.ID)
		p.SignCount = 1
		mustCreatePasskey(t, s, p)
		const n = 10
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = s.UsePasskey(t.Context(), p.CredentialID, 2, p.Flags, Now())
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
			wantCode(t, "a losing UsePasskey", err, keel.Conflict)
		}
		if winners != 1 {
			t.Errorf("%d uses were recorded, want exactly 1", winners)
		}
	})

	t.Run("DeletePasskey deletes the user's own passkey and never another user's", func(t *testing.T) {
		s := newStore(t)
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		mine := mustCreatePasskey(t, s, NewPasskey(u.ID))
		theirs := mustCreatePasskey(t, s, NewPasskey(other.ID))
		wantCode(t, "DeletePasskey of another user's passkey", s.DeletePasskey(t.Context(), u.ID, theirs.ID), keel.NotFound)
		checkPasskey(t, "the other user's passkey", mustPasskey(t, s, theirs.CredentialID), theirs)
		wantNoError(t, "DeletePasskey", s.DeletePasskey(t.Context(), u.ID, mine.ID))
		_, err := s.Passkey(t.Context(), mine.CredentialID)
		wantCode(t, "Passkey after DeletePasskey", err, keel.NotFound)
		wantCode(t, "DeletePasskey again", s.DeletePasskey(t.Context(), u.ID, mine.ID), keel.NotFound)
	})

	t.Run("a user has one user handle, a handle belongs to one user, and UserByHandle finds its user", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		u := mustCreateUser(t, s, NewUser())
		other := mustCreateUser(t, s, NewUser())
		_, err := s.UserHandle(ctx, u.ID)
		wantCode(t, "UserHandle before one is made", err, keel.NotFound)

		h := NewUserHandle()
		h[0], h[1] = 0, 0xff
		wantNoError(t, "CreateUserHandle", s.CreateUserHandle(ctx, u.ID, h))
		got, err := s.UserHandle(ctx, u.ID)
		wantNoError(t, "UserHandle", err)
		if !bytes.Equal(got, h) {
			t.Errorf("UserHandle = %x, want %x", got, h)
		}
		byHandle, err := s.UserByHandle(ctx, h)
		wantNoError(t, "UserByHandle", err)
		checkUser(t, "UserByHandle", byHandle, u)

		wantCode(t, "a second CreateUserHandle for the user", s.CreateUserHandle(ctx, u.ID, NewUserHandle()), keel.Conflict)
		wantCode(t, "CreateUserHandle of a taken handle", s.CreateUserHandle(ctx, other.ID, bytes.Clone(h)), keel.Conflict)
		wantCode(t, "CreateUserHandle for a missing user", s.CreateUserHandle(ctx, NewID(), NewUserHandle()), keel.NotFound)
		for _, unknown := range [][]byte{NewUserHandle(), h[:63]} {
			_, err = s.UserByHandle(ctx, unknown)
			wantCode(t, "UserByHandle of an unknown handle", err, keel.NotFound)
		}
		got, err = s.UserHandle(ctx, u.ID)
		wantNoError(t, "UserHandle after the refused calls", err)
		if !bytes.Equal(got, h) {
			t.Errorf("UserHandle after the refused calls = %x, want %x", got, h)
		}
	})

	t.Run("DeleteUser removes the user's passkeys and user handle and leaves other users' alone", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		gone := mustCreateUser(t, s, NewUser())
		kept := mustCreateUser(t, s, NewUser())
		gonePasskey := mustCreatePasskey(t, s, NewPasskey(gone.ID))
		keptPasskey := mustCreatePasskey(t, s, NewPasskey(kept.ID))
		goneHandle, keptHandle := NewUserHandle(), NewUserHandle()
		wantNoError(t, "CreateUserHandle", s.CreateUserHandle(ctx, gone.ID, goneHandle))
		wantNoError(t, "CreateUserHandle", s.CreateUserHandle(ctx, kept.ID, keptHandle))

		wantNoError(t, "DeleteUser", s.DeleteUser(ctx, gone.ID))
		_, err := s.Passkey(ctx, gonePasskey.CredentialID)
		wantCode(t, "Passkey of the deleted user", err, keel.NotFound)
		_, err = s.UserByHandle(ctx, goneHandle)
		wantCode(t, "UserByHandle of the deleted user", err, keel.NotFound)
		checkPasskey(t, "the other user's passkey", mustPasskey(t, s, keptPasskey.CredentialID), keptPasskey)
		u, err := s.UserByHandle(ctx, keptHandle)
		wantNoError(t, "UserByHandle of the other user", err)
		checkUser(t, "UserByHandle of the other user", u, kept)
		// The deleted user's credential id and handle are free again.
		reuse := NewPasskey(kept.ID)
		reuse.CredentialID = gonePasskey.CredentialID
		wantNoError(t, "CreatePasskey of the deleted user's credential id", s.CreatePasskey(ctx, reuse))
	})
}
