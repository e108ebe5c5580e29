package keel

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/keel-dev/keel/internal/session"
)

// Session is an authenticated caller: a logged-in session, or a personal
// API token. Token is the secret the holder presents (as a bearer token or
// in a cookie); keel stores only its hash.
type Session struct {
	Token  string
	Expiry time.Time
	// User is the caller's user, read fresh by Authenticate. Passed as the
	// actor to the Service's methods, it carries what the credential may
	// do: the user of a read-only API token can change nothing with them.
	User *User
	// ID names the session (or the API token) to its user, as Sessions
	// and APITokens list it: neither the token nor its hash.
	ID uuid.UUID
	// APIToken reports that the credential is a personal API token, with
	// Scope what it may do (see Scope); false, and Scope empty, for a
	// login session, which may do all its user may.
	APIToken bool
	Scope    Scope
	// DeviceToken, set by Login only, is a fresh device token for the
	// client to keep and present at its next logins (see LoginInput).
	DeviceToken string

	tokenHash string
}

// SessionInfo is what a user sees of one of its sessions: never the token
// or its hash.
type SessionInfo struct {
	ID        uuid.UUID
	CreatedAt time.Time
	// LastUsedAt is when the session last authenticated a call, to within
	// a minute.
	LastUsedAt time.Time
	Expiry     time.Time
	// ClientAddr and UserAgent are what the login came from, as the client
	// said: to recognise the session by, never to trust.
	ClientAddr string
	UserAgent  string
	// Current marks the session the listing was asked with.
	Current bool
}

// lastUsedInterval is how stale a session's or API token's LastUsedAt may
// get: Authenticate writes it only when the stored one is older, so most
// calls stay one read.
const lastUsedInterval = time.Minute

// maxClientAddrLength bounds, in bytes, the client address a session
// keeps (its user agent: MaxUserAgent).
const maxClientAddrLength = 64

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
	var (
		rec *SessionRecord
		u   *User
		err error
	)
	if p := st.s.itemPrefetchOf(ctx); p != nil {
		var it *Item
		if rec, u, it, err = st.s.db(ctx).FindSessionItem(ctx, hash, st.s.now(), p.id); err == nil {
			p.set(u.ID, it)
		}
	} else {
		rec, u, err = st.s.db(ctx).FindSession(ctx, hash, st.s.now())
	}
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, storedSession{}, false, nil
		}
		return nil, storedSession{}, false, classify(err, Unavailable)
	}
	return rec.Data, storedSession{rec, u}, true, nil
}

// newSessionKey is the context key of the *SessionRecord startSession
// fills in for Create: the session's ID and metadata.
type newSessionKey struct{}

func (st sessionStore) Create(ctx context.Context, hash string, owner uuid.UUID, data []byte, expiry time.Time) error {
	rec, ok := ctx.Value(newSessionKey{}).(*SessionRecord)
	if !ok {
		return Wrap(errors.New("keel: a session was created without startSession"), Internal, "")
	}
	rec.TokenHash, rec.UserID, rec.Data, rec.Expiry = hash, owner, data, storeTime(expiry)
	return st.s.db(ctx).CreateSession(ctx, rec)
}

func (st sessionStore) Update(ctx context.Context, hash string, data []byte, expiry time.Time) error {
	return st.s.db(ctx).UpdateSession(ctx, hash, data, storeTime(expiry))
}

func (st sessionStore) Delete(ctx context.Context, hash string) error {
	return st.s.db(ctx).DeleteSession(ctx, hash)
}

// storeTime is t in UTC at the microsecond precision every store keeps.
func storeTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// startSession makes a new session for u in the transaction tx, always
// with a fresh token: nothing issued before the login is ever promoted.
// The session keeps the client of ctx (see WithClient). A session beyond
// Config.MaxSessionsPerUser ends the user's least recently used
// (evictSessions).
func (s *Service) startSession(ctx context.Context, tx Tx, u *User) (*Session, error) {
	now, c := s.now(), ClientFrom(ctx)
	rec := &SessionRecord{
		ID:         newID(),
		CreatedAt:  now,
		LastUsedAt: now,
		ClientAddr: clientText(c.Addr, maxClientAddrLength),
		UserAgent:  clientText(c.UserAgent, MaxUserAgent),
	}
	token, hash, expiry, err := s.sessions.Start(context.WithValue(ctx, newSessionKey{}, rec), u.ID)
	if err != nil {
		return nil, classify(err, Internal)
	}
	if err := s.evictSessions(ctx, tx, u); err != nil {
		return nil, err
	}
	return &Session{Token: token, Expiry: storeTime(expiry), User: u, ID: rec.ID, tokenHash: hash}, nil
}

// evictSessions ends, in the transaction tx, the user's least recently
// used sessions beyond Config.MaxSessionsPerUser, and emits
// EventSessionsEnded for them.
func (s *Service) evictSessions(ctx context.Context, tx Tx, u *User) error {
	n, err := tx.TrimUserSessions(ctx, u.ID, s.cfg.MaxSessionsPerUser, s.now())
	if err != nil {
		return err
	}
	return s.emitSessionsEnded(ctx, tx, u.ID, u, n)
}

// Authenticate resolves a session token, or a personal API token (which
// begins with APITokenPrefix), to its session and user, with the user read
// fresh from the store in the same round trip. An empty token is
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
	if strings.HasPrefix(token, APITokenPrefix) {
		return s.authenticateAPIToken(ctx, token)
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
	rec := stored.Payload.rec
	expiry := rec.Expiry
	if now := s.now(); now.Sub(rec.LastUsedAt) >= lastUsedInterval {
		if err := s.db(ctx).TouchSession(ctx, stored.Hash, now); err != nil {
			s.log.WarnContext(ctx, "keel: recording a session's use failed", "user_id", u.ID, "err", err)
		}
	}
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
	return &Session{Token: token, Expiry: expiry, User: u, ID: rec.ID, tokenHash: stored.Hash}, nil
}

// maxTokenLength bounds a session or reset token keel looks up: its own
// are 43 characters, and a longer one is refused without a lookup.
const maxTokenLength = 256

// Sessions lists the user's live sessions, newest first, with the one sess
// is marked Current. A user lists its own; a superuser lists anyone's.
func (s *Service) Sessions(ctx context.Context, sess *Session, userID uuid.UUID) ([]SessionInfo, error) {
	if sess == nil {
		return nil, ErrNotAuthenticated
	}
	if _, err := s.requireSelfOrSuperuser(ctx, sess.User, userID, toRead); err != nil {
		return nil, err
	}
	recs, err := s.db(ctx).ListUserSessions(ctx, userID, s.now())
	if err != nil {
		return nil, classify(err, Unavailable)
	}
	out := make([]SessionInfo, len(recs))
	for i, r := range recs {
		out[i] = SessionInfo{
			ID:         r.ID,
			CreatedAt:  r.CreatedAt,
			LastUsedAt: r.LastUsedAt,
			Expiry:     r.Expiry,
			ClientAddr: r.ClientAddr,
			UserAgent:  r.UserAgent,
			Current:    !sess.APIToken && r.TokenHash == sess.tokenHash,
		}
	}
	return out, nil
}

// endCredentials ends every session of the user but the one whose token
// hash is keepTokenHash ("" keeps none) and revokes every API token of the
// user, in the transaction tx, and returns how many of each ended: what a
// new password (a change, a reset, a superuser's), a deactivation and a
// deletion do, each being how an account is taken back from whoever holds
// a credential of it.
func endCredentials(ctx context.Context, tx Tx, userID uuid.UUID, keepTokenHash string) (sessions, tokens int64, err error) {
	sessions, err = endSessions(ctx, tx, userID, keepTokenHash)
	if err != nil {
		return 0, 0, err
	}
	tokens, err = tx.DeleteUserAPITokens(ctx, userID)
	if err != nil {
		return 0, 0, err
	}
	return sessions, tokens, nil
}

// endSessions ends every session of the user but the one whose token hash
// is keepTokenHash ("" keeps none), in the transaction tx, and returns how
// many ended.
func endSessions(ctx context.Context, tx Tx, userID uuid.UUID, keepTokenHash string) (int64, error) {
	return tx.DeleteUserSessions(ctx, userID, keepTokenHash)
}

// emitCredentialsEnded emits EventSessionsEnded and
// EventAPITokensRevoked for the sessions and tokens of u that
// endCredentials ended in tx, by the actor; nothing for none.
func (s *Service) emitCredentialsEnded(ctx context.Context, tx Tx, actorID uuid.UUID, u *User, sessions, tokens int64) error {
	if err := s.emitSessionsEnded(ctx, tx, actorID, u, sessions); err != nil {
		return err
	}
	if tokens == 0 {
		return nil
	}
	e := s.newEvent(ctx, EventAPITokensRevoked, actorID, u)
	e.APITokens = tokens
	return s.emit(ctx, tx, e)
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

// clientText is s, a client's own description of itself, made safe to
// keep and show: valid UTF-8 without control characters, cut to at most
// max bytes on a character boundary.
func clientText(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return truncateUTF8(s, max)
}
