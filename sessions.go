package keel

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel/internal/session"
)

// Session is a logged-in session. Token is the secret the holder presents
// (as a bearer token or in a cookie); keel stores only its hash.
type Session struct {
	Token  string
	Expiry time.Time
	User   *User

	tokenHash string
}

// sessionManager runs the Service's sessions on scs (see
// internal/session), kept in the Store.
type sessionManager = session.Manager[storedSession]

// storedSession is what the Store reads along with a session: its record
// and its user, in one round trip.
type storedSession struct {
	rec  *SessionRecord
	user *User
}

// sessionStore is the Store as internal/session sees it.
type sessionStore struct{ s *Service }

func newSessionManager(s *Service) *sessionManager {
	return session.New[storedSession](sessionStore{s}, s.cfg.SessionLifetime, s.cfg.IdleTimeout)
}

func (st sessionStore) Find(ctx context.Context, hash string) ([]byte, storedSession, bool, error) {
	rec, u, err := st.s.db(ctx).FindSession(ctx, hash, st.s.now())
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, storedSession{}, false, nil
		}
		return nil, storedSession{}, false, classify(err, Unavailable)
	}
	return rec.Data, storedSession{rec, u}, true, nil
}

func (st sessionStore) Create(ctx context.Context, hash string, owner uuid.UUID, data []byte, expiry time.Time) error {
	return st.s.db(ctx).CreateSession(ctx, &SessionRecord{TokenHash: hash, UserID: owner, Data: data, Expiry: storeTime(expiry)})
}

func (st sessionStore) Update(ctx context.Context, hash string, data []byte, expiry time.Time) error {
	return st.s.db(ctx).UpdateSession(ctx, hash, data, storeTime(expiry))
}

func (st sessionStore) Delete(ctx context.Context, hash string) error {
	return st.s.db(ctx).DeleteSession(ctx, hash)
}

// storeTime is t in UTC at the microsecond precision every store keeps.
func storeTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// startSession makes a new session for u, always with a fresh token:
// nothing issued before the login is ever promoted.
func (s *Service) startSession(ctx context.Context, u *User) (*Session, error) {
	token, hash, expiry, err := s.sessions.Start(ctx, u.ID)
	if err != nil {
		return nil, classify(err, Internal)
	}
	return &Session{Token: token, Expiry: expiry, User: u, tokenHash: hash}, nil
}

// Authenticate resolves a session token to its session and user, with the
// user read fresh from the store in the same round trip. An empty token is
// ErrNotAuthenticated; an unknown, expired or revoked one is
// ErrInvalidCredentials; a deactivated user is ErrInactiveUser; a store
// that fails is Unavailable — never "anonymous", never someone else.
func (s *Service) Authenticate(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrNotAuthenticated
	}
	if len(token) > maxTokenLength {
		return nil, ErrInvalidCredentials
	}
	stored, found, err := s.sessions.Load(ctx, token)
	if err != nil {
		return nil, classify(err, Internal)
	}
	u := stored.Payload.user
	if !found || u == nil || stored.Owner != u.ID {
		return nil, ErrInvalidCredentials
	}
	if !u.IsActive {
		return nil, ErrInactiveUser
	}
	expiry := stored.Payload.rec.Expiry
	if s.cfg.IdleTimeout > 0 {
		exp, err := s.sessions.Touch(stored)
		if err != nil {
			if ErrorCode(err) == NotFound {
				return nil, ErrInvalidCredentials // logged out meanwhile
			}
			return nil, classify(err, Unavailable)
		}
		expiry = exp
	}
	return &Session{Token: token, Expiry: expiry, User: u, tokenHash: stored.Hash}, nil
}

// maxTokenLength bounds a session or reset token keel looks up: its own
// are 43 characters, and a longer one is refused without a lookup.
const maxTokenLength = 256

// endSessions ends every session of the user but the one whose token hash
// is keepTokenHash ("" keeps none), in the transaction tx, and returns how
// many ended.
func endSessions(ctx context.Context, tx Tx, userID uuid.UUID, keepTokenHash string) (int64, error) {
	return tx.DeleteUserSessions(ctx, userID, keepTokenHash)
}

// emitSessionsEnded emits EventSessionsEnded for the n sessions of u that
// ended in tx, by the actor; nothing when none did.
func (s *Service) emitSessionsEnded(ctx context.Context, tx Tx, actorID uuid.UUID, u *User, n int64) error {
	if n == 0 {
		return nil
	}
	e := s.newEvent(ctx, EventSessionsEnded, actorID, u)
	e.Sessions = n
	return s.emit(ctx, tx, e)
}
