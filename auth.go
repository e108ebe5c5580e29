package keel

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/google/uuid"
)

// Session is a logged-in session. Token is the secret the holder presents
// (as a bearer token or in a cookie); keel stores only its hash.
type Session struct {
	Token  string
	Expiry time.Time
	User   *User

	tokenHash string
}

// LoginInput is an email and password, and the client's address for the
// per-address rate limit ("" when there is none, as in a CLI).
type LoginInput struct {
	Email      string
	Password   string
	ClientAddr string
}

// ChangePasswordInput is what ChangePassword needs.
type ChangePasswordInput struct {
	CurrentPassword string `json:"current_password" required:"true" validate:"password"`
	NewPassword     string `json:"new_password" required:"true" validate:"password,notcommon"`
}

// RecoveryInput asks for a password-reset email.
type RecoveryInput struct {
	Email      string
	ClientAddr string
}

// ResetPasswordInput sets a new password with a reset token.
type ResetPasswordInput struct {
	Token       string `json:"token" required:"true"`
	NewPassword string `json:"new_password" required:"true" validate:"password,notcommon"`
}

// sessionKeyUser is the scs session value naming the session's user.
const sessionKeyUser = "uid"

type ctxKey int

const (
	ctxCreateSession ctxKey = iota // uuid.UUID of the user a commit creates a session for
	ctxSessionProbe                // *sessionProbe the adapter fills in
)

// sessionProbe carries what the adapter learns from the store back to the
// Service: the user comes with the session in one round trip.
type sessionProbe struct {
	rec  *SessionRecord
	user *User
	hash string
}

// newSessionManager sets scs up over the Store: scs makes the tokens (256
// bits from crypto/rand), hashes them before they reach the store, and
// owns the lifetime and idle timeout.
func newSessionManager(s *Service) *scs.SessionManager {
	m := scs.New()
	m.Store = sessionAdapter{s}
	m.Lifetime = s.cfg.SessionLifetime
	m.IdleTimeout = s.cfg.IdleTimeout
	m.HashTokenInStore = true
	m.Codec = sessionCodec{}
	return m
}

// sessionAdapter is the scs.CtxStore keel gives scs. It turns scs's
// upsert-style Commit into an explicit create (at login) or update (which
// never re-creates a session that was deleted meanwhile).
type sessionAdapter struct{ s *Service }

func (a sessionAdapter) FindCtx(ctx context.Context, hash string) ([]byte, bool, error) {
	rec, u, err := a.s.store.FindSession(ctx, hash, a.s.now())
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, false, nil
		}
		return nil, false, asCode(err, Unavailable)
	}
	if p, ok := ctx.Value(ctxSessionProbe).(*sessionProbe); ok {
		p.rec, p.user, p.hash = rec, u, hash
	}
	return rec.Data, true, nil
}

func (a sessionAdapter) CommitCtx(ctx context.Context, hash string, b []byte, expiry time.Time) error {
	expiry = expiry.UTC().Truncate(time.Microsecond)
	if p, ok := ctx.Value(ctxSessionProbe).(*sessionProbe); ok {
		p.hash = hash
	}
	if uid, ok := ctx.Value(ctxCreateSession).(uuid.UUID); ok {
		return a.s.store.CreateSession(ctx, &SessionRecord{TokenHash: hash, UserID: uid, Data: b, Expiry: expiry})
	}
	return a.s.store.UpdateSession(ctx, hash, b, expiry)
}

func (a sessionAdapter) DeleteCtx(ctx context.Context, hash string) error {
	return a.s.store.DeleteSession(ctx, hash)
}

func (a sessionAdapter) Find(hash string) ([]byte, bool, error) {
	return a.FindCtx(context.Background(), hash)
}

func (a sessionAdapter) Commit(hash string, b []byte, expiry time.Time) error {
	return a.CommitCtx(context.Background(), hash, b, expiry)
}

func (a sessionAdapter) Delete(hash string) error { return a.DeleteCtx(context.Background(), hash) }

// Login checks an email and password and starts a new session. An unknown
// email and a wrong password give the same error (ErrIncorrectLogin) and
// cost the same time; ErrInactiveUser comes only after a correct password.
// Failed attempts count against per-account and per-address limits
// (ErrTooManyRequests, with RetryAfter). A bcrypt hash, or an argon2id
// hash with old parameters, is upgraded on success.
func (s *Service) Login(ctx context.Context, in LoginInput) (*Session, error) {
	email := NormalizeEmail(in.Email)
	keys := s.loginKeys(email, in.ClientAddr)
	if err := s.checkLimits(ctx, keys...); err != nil {
		return nil, err
	}
	// Count the attempt on the account before the password is checked:
	// parallel guesses all pass the check above, and would each be verified
	// if they were counted only once they had failed.
	if err := s.hitLimits(ctx, keys[0]); err != nil {
		return nil, err
	}
	var u *User
	if email != "" && len(email) <= 255 {
		found, err := s.store.UserByEmail(ctx, email)
		switch {
		case err == nil:
			u = found
		case ErrorCode(err) != NotFound:
			return nil, asCode(err, Unavailable)
		}
	}
	hash := s.hasher.dummy
	if u != nil {
		hash = u.PasswordHash
	}
	password := in.Password
	if n := runeLen(password); n < 1 || n > MaxPasswordLength {
		// Never hash an oversized input; spend the same time anyway.
		password, u = "", nil
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return nil, err
	}
	if u == nil || !ok {
		if err := s.hitLimits(ctx, keys[1:]...); err != nil && ErrorCode(err) != RateLimited {
			return nil, err
		}
		return nil, ErrIncorrectLogin
	}
	s.clearLimit(ctx, keys[0].key)
	if !u.IsActive {
		return nil, ErrInactiveUser
	}
	if rehash {
		s.upgradeHash(ctx, u, in.Password)
	}
	return s.startSession(ctx, u)
}

// upgradeHash re-hashes a password with the current parameters. Failure is
// logged, not fatal: the old hash still works.
func (s *Service) upgradeHash(ctx context.Context, u *User, password string) {
	newHash, err := s.hasher.Hash(ctx, password)
	if err == nil {
		err = s.store.InTx(ctx, func(tx Store) error {
			cur, err := tx.User(ctx, u.ID)
			if err != nil {
				return err
			}
			if cur.PasswordHash != u.PasswordHash {
				return nil // changed meanwhile; keep the newer one
			}
			cur.PasswordHash = newHash
			if err := tx.UpdateUser(ctx, cur); err != nil {
				return err
			}
			u.PasswordHash = newHash
			return nil
		})
	}
	if err != nil {
		s.log.WarnContext(ctx, "keel: upgrading a password hash failed", "user_id", u.ID, "err", err)
	}
}

// startSession makes a new session for u. RenewToken guarantees a fresh
// token: nothing issued before the login is ever promoted.
func (s *Service) startSession(ctx context.Context, u *User) (*Session, error) {
	probe := &sessionProbe{}
	sctx, err := s.sessions.Load(context.WithValue(ctx, ctxSessionProbe, probe), "")
	if err != nil {
		return nil, asCode(err, Internal)
	}
	if err := s.sessions.RenewToken(sctx); err != nil {
		return nil, asCode(err, Internal)
	}
	s.sessions.Put(sctx, sessionKeyUser, u.ID.String())
	token, expiry, err := s.sessions.Commit(context.WithValue(sctx, ctxCreateSession, u.ID))
	if err != nil {
		return nil, asCode(err, Internal)
	}
	return &Session{Token: token, Expiry: expiry, User: u, tokenHash: probe.hash}, nil
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
	if len(token) > 256 {
		return nil, ErrInvalidCredentials
	}
	probe := &sessionProbe{}
	sctx, err := s.sessions.Load(context.WithValue(ctx, ctxSessionProbe, probe), token)
	if err != nil {
		return nil, asCode(err, Internal)
	}
	if probe.user == nil || s.sessions.GetString(sctx, sessionKeyUser) != probe.user.ID.String() {
		return nil, ErrInvalidCredentials
	}
	if !probe.user.IsActive {
		return nil, ErrInactiveUser
	}
	expiry := probe.rec.Expiry
	if s.cfg.IdleTimeout > 0 {
		_, exp, err := s.sessions.Commit(sctx)
		if err != nil {
			if ErrorCode(err) == NotFound {
				return nil, ErrInvalidCredentials // logged out meanwhile
			}
			return nil, asCode(err, Unavailable)
		}
		expiry = exp
	}
	return &Session{Token: token, Expiry: expiry, User: probe.user, tokenHash: probe.hash}, nil
}

// Logout ends the session with the token. Ending one that is already gone
// is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" || len(token) > 256 {
		return nil
	}
	sctx, err := s.sessions.Load(ctx, token)
	if err != nil {
		return asCode(err, Unavailable)
	}
	if s.sessions.Token(sctx) == "" {
		return nil
	}
	if err := s.sessions.Destroy(sctx); err != nil {
		return asCode(err, Unavailable)
	}
	return nil
}

// LogoutAll ends every session of the actor, this one included.
func (s *Service) LogoutAll(ctx context.Context, actor *User) error {
	if actor == nil {
		return ErrNotAuthenticated
	}
	if _, err := s.store.DeleteUserSessions(ctx, actor.ID, ""); err != nil {
		return asCode(err, Unavailable)
	}
	return nil
}

// ChangePassword sets a new password for the session's user, given the
// current one, and ends every other session of that user; sess stays
// valid. Wrong current passwords count against the login limit.
func (s *Service) ChangePassword(ctx context.Context, sess *Session, in ChangePasswordInput) error {
	if sess == nil {
		return ErrNotAuthenticated
	}
	if err := requireActive(sess.User); err != nil {
		return err
	}
	if err := s.validate(in); err != nil {
		return err
	}
	keys := s.loginKeys(sess.User.Email, "")
	if err := s.checkLimits(ctx, keys...); err != nil {
		return err
	}
	// Counted before the check, as in Login, so parallel guesses stay
	// within the limit; a right password clears the count.
	if err := s.hitLimits(ctx, keys...); err != nil {
		return err
	}
	u, err := s.store.User(ctx, sess.User.ID)
	if err != nil {
		return userStoreErr(err, ErrUserNotFound)
	}
	ok, _, err := s.hasher.Verify(ctx, in.CurrentPassword, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return ErrIncorrectPassword
	}
	s.clearLimit(ctx, keys[0].key)
	if in.CurrentPassword == in.NewPassword {
		return ErrSamePassword
	}
	hash, err := s.hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		return err
	}
	return s.setPassword(ctx, u.ID, hash, sess.tokenHash)
}

// setPassword stores a new hash and, in the same transaction, ends every
// session but keep and voids every reset token.
func (s *Service) setPassword(ctx context.Context, id uuid.UUID, hash, keep string) error {
	err := s.store.InTx(ctx, func(tx Store) error {
		u, err := tx.User(ctx, id)
		if err != nil {
			return err
		}
		now := s.now()
		u.PasswordHash, u.PasswordChangedAt, u.UpdatedAt = hash, now, now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := endAllSessions(ctx, tx, id, keep); err != nil {
			return err
		}
		return tx.DeleteUserResetTokens(ctx, id)
	})
	if err != nil {
		return userStoreErr(err, ErrUserNotFound)
	}
	return nil
}

func endAllSessions(ctx context.Context, tx Store, id uuid.UUID, keep string) error {
	_, err := tx.DeleteUserSessions(ctx, id, keep)
	return err
}

// RequestPasswordReset makes a single-use reset token for the email and
// has the Mailer deliver it, in the background so the call takes the same
// time whether or not the account exists. It returns nil for an unknown or
// inactive email too. Requests count against per-address and
// per-(email, address) limits.
func (s *Service) RequestPasswordReset(ctx context.Context, in RecoveryInput) error {
	if s.cfg.Mailer == nil {
		return Errorf(Unavailable, "no mailer is configured")
	}
	email := NormalizeEmail(in.Email)
	if err := s.hitLimits(ctx, s.recoveryKeys(email, in.ClientAddr)...); err != nil {
		return err
	}
	if email == "" || len(email) > 255 {
		return nil
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil
		}
		return asCode(err, Unavailable)
	}
	if !u.IsActive {
		return nil
	}
	token, hash, err := newResetToken()
	if err != nil {
		return err
	}
	now := s.now()
	rt := &ResetToken{TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.ResetTokenLifetime)}
	if err := s.store.CreateResetToken(ctx, rt); err != nil {
		return asCode(err, Unavailable)
	}
	msg := PasswordResetMail{To: u.Email, Token: token, ExpiresAt: rt.ExpiresAt}
	if u.FullName != nil {
		msg.Name = *u.FullName
	}
	s.mail.Add(1)
	go func() {
		defer s.mail.Done()
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.cfg.Mailer.SendPasswordReset(mctx, msg); err != nil {
			s.log.ErrorContext(mctx, "keel: sending a password-reset email failed", "user_id", u.ID, "err", err)
		}
	}()
	return nil
}

// ResetPassword sets a new password with a reset token. The token works
// once, until it expires, and only if it is the user's newest and no
// password change came after it; otherwise ErrInvalidResetToken. A reset
// ends every session of the user and never logs anyone in.
func (s *Service) ResetPassword(ctx context.Context, in ResetPasswordInput) error {
	if err := s.validate(in); err != nil {
		return err
	}
	if in.Token == "" || len(in.Token) > 256 {
		return ErrInvalidResetToken
	}
	// Spend the token before hashing: a made-up token then costs one
	// lookup, not a password hash (hashing is bounded and shared with
	// logins), and no hash runs inside a transaction.
	var rt *ResetToken
	err := s.store.InTx(ctx, func(tx Store) error {
		t, err := tx.ConsumeResetToken(ctx, hashResetToken(in.Token))
		if err != nil {
			return err
		}
		if err := s.checkResetToken(ctx, tx, t); err != nil {
			return err
		}
		rt = t
		return nil
	})
	if err != nil {
		return resetErr(err)
	}
	hash, err := s.hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		s.restoreResetToken(ctx, rt)
		return err
	}
	var email string
	err = s.store.InTx(ctx, func(tx Store) error {
		// Check again: a password change may have landed while hashing.
		if err := s.checkResetToken(ctx, tx, rt); err != nil {
			return err
		}
		u, err := tx.User(ctx, rt.UserID)
		if err != nil {
			return err
		}
		now := s.now()
		u.PasswordHash, u.PasswordChangedAt, u.UpdatedAt = hash, now, now
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := endAllSessions(ctx, tx, u.ID, ""); err != nil {
			return err
		}
		email = u.Email
		return tx.DeleteUserResetTokens(ctx, u.ID)
	})
	if err != nil {
		if c := ErrorCode(err); c == Unavailable || c == Internal {
			s.restoreResetToken(ctx, rt)
		}
		return resetErr(err)
	}
	// The owner proved control of the mailbox: lift the login lockout.
	s.clearLimit(ctx, s.loginKeys(email, "")[0].key)
	return nil
}

// checkResetToken refuses a token that expired, that a password change
// superseded, or whose user is gone or inactive.
func (s *Service) checkResetToken(ctx context.Context, tx Store, t *ResetToken) error {
	u, err := tx.User(ctx, t.UserID)
	if err != nil {
		return err
	}
	if !t.ExpiresAt.After(s.now()) || t.CreatedAt.Before(u.PasswordChangedAt) {
		return ErrInvalidResetToken
	}
	if !u.IsActive {
		return ErrInactiveUser
	}
	return nil
}

// restoreResetToken puts back a token that was spent by a reset that then
// failed for want of a resource (hashing busy, store down), so the link in
// the user's mailbox keeps working. Best effort.
func (s *Service) restoreResetToken(ctx context.Context, rt *ResetToken) {
	if err := s.store.CreateResetToken(context.WithoutCancel(ctx), rt); err != nil {
		s.log.WarnContext(ctx, "keel: restoring a reset token after a failed reset failed", "user_id", rt.UserID, "err", err)
	}
}

func resetErr(err error) error {
	if ErrorCode(err) == NotFound {
		return ErrInvalidResetToken.with(err)
	}
	return asCode(err, Internal)
}

// SendTestEmail sends a test message. Superuser only.
func (s *Service) SendTestEmail(ctx context.Context, actor *User, to string) error {
	if err := requireSuperuser(actor); err != nil {
		return err
	}
	in := struct {
		EmailTo string `json:"email_to" validate:"max=255,email"`
	}{NormalizeEmail(to)}
	if err := s.validate(in); err != nil {
		return err
	}
	if s.cfg.Mailer == nil {
		return Errorf(Unavailable, "no mailer is configured")
	}
	if err := s.cfg.Mailer.SendTestEmail(ctx, in.EmailTo); err != nil {
		return Wrap(err, Unavailable, "sending mail failed")
	}
	return nil
}

// newResetToken returns a URL-safe token of 256 random bits and its hash.
func newResetToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", Wrap(err, Internal, "")
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashResetToken(token), nil
}

func hashResetToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
