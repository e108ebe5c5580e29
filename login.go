package keel

import (
	"context"

	"github.com/google/uuid"
)

// LoginInput is an email and password, the client's address for the
// per-address rate limit ("" when there is none, as in a CLI), and the
// device token an earlier login gave the client (Session.DeviceToken),
// which exempts it from the account's lockout.
type LoginInput struct {
	Email       string
	Password    string
	ClientAddr  string
	DeviceToken string
}

// Login checks an email and password and starts a new session, which
// keeps the client of ctx (its address and user agent, see WithClient). An
// unknown email and a wrong password give the same error
// (ErrIncorrectLogin) and cost the same time; ErrInactiveUser, and
// ErrEmailNotVerified when verification is required, come only after a
// correct password. For a user with a second factor the error is a
// *Challenge, which CompleteLogin turns into the session with a code.
// Failed attempts count against per-address
// limits, and against the account's (RateLimits.LoginPerAccount) or, for a
// client that presents a device token of the account, against that
// device's (RateLimits.LoginPerDevice): strangers who lock the account out
// do not lock out its owner's devices (see devices.go). A locked-out client
// is refused with ErrTooManyRequests (with RetryAfter) before its password
// is checked, so the answer never tells whether it was right. A successful
// login gives the client a new device token in Session.DeviceToken (a
// challenged one only once CompleteLogin succeeds). A bcrypt hash, or an
// argon2id hash with old parameters, is upgraded on success.
func (s *Service) Login(ctx context.Context, in LoginInput) (*Session, error) {
	if err := s.notInTx(ctx, "Login"); err != nil {
		return nil, err
	}
	ctx = withClientAddr(ctx, in.ClientAddr)
	email := NormalizeEmail(in.Email)
	var u *User
	// An email no account can have (see textFault) is an unknown one,
	// not looked up: bun cannot send a NUL to a database at all.
	if email != "" && len(email) <= 255 && textFault("text", email) == 0 {
		found, err := s.db(ctx).UserByEmail(ctx, email)
		switch {
		case err == nil:
			u = found
		case ErrorCode(err) != NotFound:
			return nil, classify(err, Unavailable)
		}
	}
	guesses, byAddress := s.loginLimits(email, in.ClientAddr)
	nonce, trusted, err := s.trustedDevice(ctx, u, in.DeviceToken)
	if err != nil {
		return nil, err
	}
	if trusted {
		guesses = s.deviceLimit(u.ID, nonce)
	}
	if reason, err := s.checkLimits(ctx, append([]rateLimit{guesses}, byAddress...)...); err != nil {
		return nil, s.rateLimitRefusal(ctx, reason, err, email, u)
	}
	// Count the attempt before the password is checked: parallel guesses
	// all pass the check above, and would each be verified if they were
	// counted only once they had failed.
	if reason, err := s.hitLimits(ctx, guesses); err != nil {
		return nil, s.rateLimitRefusal(ctx, reason, err, email, u)
	}
	hash := s.hasher.dummy
	if u != nil {
		hash = u.PasswordHash
	}
	password, reason := in.Password, ReasonWrongPassword
	if n := runeLen(password); n < 1 || n > MaxPasswordLength {
		// Never hash an oversized input; spend the same time anyway.
		password, reason = "", ReasonPasswordOutOfRange
	}
	ok, rehash, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return nil, err
	}
	if u == nil || !ok || password == "" {
		if _, err := s.hitLimits(ctx, byAddress...); err != nil && ErrorCode(err) != RateLimited {
			return nil, err
		}
		if u == nil {
			reason = ReasonUnknownEmail
		}
		e := s.newEvent(ctx, EventLoginFailed, uuid.Nil, u)
		e.Email, e.Reason = email, reason
		return nil, s.refusal(ctx, e, ErrIncorrectLogin)
	}
	// The right password clears the count it was held to; a trusted
	// device's success leaves the account's lockout of strangers standing.
	s.resetCounter(ctx, guesses)
	if !u.IsActive {
		e := s.newEvent(ctx, EventLoginFailed, uuid.Nil, u)
		e.Reason = ReasonInactiveUser
		return nil, s.refusal(ctx, e, ErrInactiveUser)
	}
	if s.cfg.EmailVerification == VerificationRequired && !u.IsVerified {
		e := s.newEvent(ctx, EventLoginFailed, uuid.Nil, u)
		e.Reason = ReasonEmailNotVerified
		return nil, s.refusal(ctx, e, ErrEmailNotVerified)
	}
	if rehash {
		s.upgradeHash(ctx, u, in.Password)
	}
	ch, err := s.challenge(ctx, u)
	if err != nil {
		return nil, err
	}
	if ch != nil {
		return nil, ch
	}
	var sess *Session
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		sess, err = s.startSession(ctx, tx, u)
		if err != nil {
			return err
		}
		return s.emit(ctx, tx, s.newEvent(ctx, EventLoginSucceeded, u.ID, u))
	})
	if err != nil {
		return nil, classify(err, Internal)
	}
	sess.DeviceToken = s.issueDeviceToken(ctx, u)
	return sess, nil
}

// withClientAddr fills in the client's address of ctx from an input's
// ClientAddr when the adapter gave none.
func withClientAddr(ctx context.Context, addr string) context.Context {
	c := ClientFrom(ctx)
	if c.Addr != "" || addr == "" {
		return ctx
	}
	c.Addr = addr
	return WithClient(ctx, c)
}

// upgradeHash re-hashes a password with the current parameters. Failure is
// logged, not fatal: the old hash still works.
func (s *Service) upgradeHash(ctx context.Context, u *User, password string) {
	newHash, err := s.hasher.Hash(ctx, password)
	if err == nil {
		err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
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
