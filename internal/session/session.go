// Package session runs keel's sessions on scs
// (github.com/alexedwards/scs/v2). scs makes the tokens (256 bits from
// crypto/rand), hashes them before they reach storage and owns the
// lifetime and idle timeout; this package gives scs a store adapter and a
// compact Codec, and gives keel the four operations it needs (Start,
// Load, Touch, End), so that keel's own code speaks of sessions and users
// rather than of scs contexts.
package session

import (
	"context"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/google/uuid"
)

// Store keeps the sessions, keyed by the hash scs makes of their token. P
// is what Find reads along with a session's data (keel reads the
// session's record and user in the same round trip) and hands back to
// the caller of Load.
type Store[P any] interface {
	// Find returns the data of the unexpired session with the hash, and
	// its payload; found is false when there is none.
	Find(ctx context.Context, hash string) (data []byte, payload P, found bool, err error)
	// Create inserts a new session of the owner.
	Create(ctx context.Context, hash string, owner uuid.UUID, data []byte, expiry time.Time) error
	// Update replaces the data and expiry of an existing session. It never
	// creates one, so a request running while its session was ended cannot
	// bring the session back.
	Update(ctx context.Context, hash string, data []byte, expiry time.Time) error
	// Delete deletes a session; deleting a missing one is not an error.
	Delete(ctx context.Context, hash string) error
}

// Manager issues and reads sessions kept in a Store.
type Manager[P any] struct {
	scs *scs.SessionManager
}

// New returns a Manager over st. Sessions live at most lifetime and, when
// idleTimeout is above 0, end after that long unused.
func New[P any](st Store[P], lifetime, idleTimeout time.Duration) *Manager[P] {
	m := scs.New()
	m.Store = adapter[P]{st}
	m.Lifetime = lifetime
	m.IdleTimeout = idleTimeout
	m.HashTokenInStore = true
	m.Codec = Codec{}
	return &Manager[P]{scs: m}
}

// ownerKey is the session value naming the session's owner.
const ownerKey = "uid"

// Start begins a new session of the owner and stores it with
// Store.Create. The token is always fresh (scs's RenewToken): nothing
// issued before is ever promoted to a session.
func (m *Manager[P]) Start(ctx context.Context, owner uuid.UUID) (token, hash string, expiry time.Time, err error) {
	p := &probe[P]{}
	sctx, err := m.scs.Load(context.WithValue(ctx, probeKey{}, p), "")
	if err != nil {
		return "", "", time.Time{}, err
	}
	if err := m.scs.RenewToken(sctx); err != nil {
		return "", "", time.Time{}, err
	}
	m.scs.Put(sctx, ownerKey, owner.String())
	token, expiry, err = m.scs.Commit(context.WithValue(sctx, createKey{}, owner))
	if err != nil {
		return "", "", time.Time{}, err
	}
	return token, p.hash, expiry, nil
}

// Session is a stored session, as Load reads it.
type Session[P any] struct {
	// Owner is the owner the session's data names; uuid.Nil when it names
	// none.
	Owner uuid.UUID
	// Hash is the token's hash, the session's key in the Store.
	Hash string
	// Payload is what Store.Find read along with the session.
	Payload P

	ctx context.Context // scs's, for Touch
}

// Load reads the session with the token: found is false when there is no
// unexpired one. Errors are the Store's, or the Codec's for data it
// cannot read.
func (m *Manager[P]) Load(ctx context.Context, token string) (s Session[P], found bool, err error) {
	p := &probe[P]{}
	sctx, err := m.scs.Load(context.WithValue(ctx, probeKey{}, p), token)
	if err != nil || !p.found {
		return Session[P]{}, false, err
	}
	owner, err := uuid.Parse(m.scs.GetString(sctx, ownerKey))
	if err != nil {
		owner = uuid.Nil
	}
	return Session[P]{Owner: owner, Hash: p.hash, Payload: p.payload, ctx: sctx}, true, nil
}

// Touch stores a loaded session again, which moves its expiry on by the
// idle timeout, and returns the new expiry. The Store's Update refuses a
// session ended since it was loaded.
func (m *Manager[P]) Touch(s Session[P]) (time.Time, error) {
	_, expiry, err := m.scs.Commit(s.ctx)
	return expiry, err
}

// End deletes a loaded session. Ending one that is gone meanwhile is not
// an error.
func (m *Manager[P]) End(s Session[P]) error {
	return m.scs.Destroy(s.ctx)
}

// probe carries what the adapter learns from the Store back to the
// caller of scs: the payload read with the session, and the token's hash,
// which scs does not expose.
type probe[P any] struct {
	payload P
	hash    string
	found   bool
}

type (
	probeKey  struct{} // context key of the *probe[P] to fill in
	createKey struct{} // context key of the owner a Commit creates a session for
)

// adapter is the scs.CtxStore the Manager gives scs. It turns scs's
// upsert-style Commit into an explicit Create (from Start) or Update.
type adapter[P any] struct{ st Store[P] }

func (a adapter[P]) FindCtx(ctx context.Context, hash string) ([]byte, bool, error) {
	data, payload, found, err := a.st.Find(ctx, hash)
	if err != nil || !found {
		return nil, false, err
	}
	if p, ok := ctx.Value(probeKey{}).(*probe[P]); ok {
		p.payload, p.hash, p.found = payload, hash, true
	}
	return data, true, nil
}

func (a adapter[P]) CommitCtx(ctx context.Context, hash string, b []byte, expiry time.Time) error {
	if p, ok := ctx.Value(probeKey{}).(*probe[P]); ok {
		p.hash = hash
	}
	if owner, ok := ctx.Value(createKey{}).(uuid.UUID); ok {
		return a.st.Create(ctx, hash, owner, b, expiry)
	}
	return a.st.Update(ctx, hash, b, expiry)
}

func (a adapter[P]) DeleteCtx(ctx context.Context, hash string) error {
	return a.st.Delete(ctx, hash)
}

// Find, Commit and Delete complete scs.Store; scs calls the Ctx forms.

func (a adapter[P]) Find(hash string) ([]byte, bool, error) {
	return a.FindCtx(context.Background(), hash)
}

func (a adapter[P]) Commit(hash string, b []byte, expiry time.Time) error {
	return a.CommitCtx(context.Background(), hash, b, expiry)
}

func (a adapter[P]) Delete(hash string) error { return a.DeleteCtx(context.Background(), hash) }
