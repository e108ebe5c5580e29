package main

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
)

// Profile is the host's own row about a keel user, made when the user
// signs up.
type Profile struct {
	bun.BaseModel `bun:"table:profiles" json:"-"`

	UserID      uuid.UUID `bun:"user_id,pk" json:"user_id"`
	Handle      string    `bun:"handle" json:"handle"`
	DisplayName string    `bun:"display_name" json:"display_name"`
}

// Note is the host's own resource, owned by a keel user.
type Note struct {
	bun.BaseModel `bun:"table:notes" json:"-"`

	ID        uuid.UUID `bun:"id,pk" json:"id"`
	UserID    uuid.UUID `bun:"user_id" json:"user_id"`
	Body      string    `bun:"body" json:"body"`
	CreatedAt time.Time `bun:"created_at" json:"created_at"`
}

// newProfile is the profile a new user gets: its handle is the local
// part of its email, its display name its full name or else the handle.
func newProfile(u *keel.User) Profile {
	handle, _, _ := strings.Cut(u.Email, "@")
	name := handle
	if u.FullName != nil && *u.FullName != "" {
		name = *u.FullName
	}
	return Profile{UserID: u.ID, Handle: handle, DisplayName: name}
}

// errHandleTaken is how createProfile refuses a handle another user has:
// a keel.Reject, so that the sign-up answers 422 on the email.
func errHandleTaken(p Profile, email string) error {
	return keel.Reject("email", email, "the handle "+p.Handle+" is taken; sign up with another address")
}

// notebook keeps the profiles and notes. createProfile and deleteUser run
// in keel's transaction (tx) from before hooks, so that they commit with
// the sign-up or deletion or not at all.
type notebook interface {
	createProfile(ctx context.Context, tx keel.Tx, p Profile, email string) error
	deleteUser(ctx context.Context, tx keel.Tx, userID uuid.UUID) error
	profile(ctx context.Context, userID uuid.UUID) (Profile, bool, error)
	addNote(ctx context.Context, n Note) error
	notes(ctx context.Context, userID uuid.UUID) ([]Note, error)
}

// memNotebook keeps the notebook in memory, beside keel's memstore. It has
// no transaction to join: createProfile and deleteUser write at once, and
// are atomic with keel's transaction because each is the last before hook
// of its event, after which the transaction cannot fail.
type memNotebook struct {
	mu       sync.Mutex
	profiles map[uuid.UUID]Profile
	handles  map[string]uuid.UUID
	byUser   map[uuid.UUID][]Note
}

func newMemNotebook() *memNotebook {
	return &memNotebook{profiles: map[uuid.UUID]Profile{}, handles: map[string]uuid.UUID{}, byUser: map[uuid.UUID][]Note{}}
}

func (m *memNotebook) createProfile(_ context.Context, _ keel.Tx, p Profile, email string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.handles[p.Handle]; taken {
		return errHandleTaken(p, email)
	}
	m.profiles[p.UserID], m.handles[p.Handle] = p, p.UserID
	return nil
}

func (m *memNotebook) deleteUser(_ context.Context, _ keel.Tx, userID uuid.UUID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.handles, m.profiles[userID].Handle)
	delete(m.profiles, userID)
	delete(m.byUser, userID)
	return nil
}

func (m *memNotebook) profile(_ context.Context, userID uuid.UUID) (Profile, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.profiles[userID]
	return p, ok, nil
}

func (m *memNotebook) addNote(_ context.Context, n Note) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byUser[n.UserID] = append(m.byUser[n.UserID], n)
	return nil
}

func (m *memNotebook) notes(_ context.Context, userID uuid.UUID) ([]Note, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.byUser[userID])
	slices.SortFunc(out, func(a, b Note) int { return cmp.Compare(b.ID.String(), a.ID.String()) }) // UUIDv7: newest first
	return out, nil
}
