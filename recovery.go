package keel

import (
	"context"

	"github.com/google/uuid"
)

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

// RequestPasswordReset makes a single-use reset token for the email and
// has the Mailer deliver it, in the background so the call takes the same
// time whether or not the account exists. It returns nil for an unknown or
// inactive email too. Requests count against per-address and
// per-(email, address) limits.
func (s *Service) RequestPasswordReset(ctx context.Context, in RecoveryInput) error {
	if err := s.notInTx(ctx, "RequestPasswordReset"); err != nil {
		return err
	}
	if s.cfg.Mailer == nil {
		return ErrNoMailer
	}
	ctx = withClientAddr(ctx, in.ClientAddr)
	email := NormalizeEmail(in.Email)
	if reason, err := s.hitLimits(ctx, s.recoveryLimits(email, in.ClientAddr)...); err != nil {
		return s.rateLimitRefusal(ctx, reason, err, email, nil)
	}
	// noToken reports a request that makes no token, which the caller
	// cannot tell from one that does.
	noToken := func(u *User, reason string) error {
		e := s.newEvent(ctx, EventPasswordResetRequested, uuid.Nil, u)
		e.Email, e.Reason = email, reason
		return s.report(ctx, e)
	}
	if email == "" || len(email) > 255 || textFault("text", email) != 0 {
		return noToken(nil, ReasonUnknownEmail)
	}
	u, err := s.db(ctx).UserByEmail(ctx, email)
	if err != nil {
		if ErrorCode(err) == NotFound {
			return noToken(nil, ReasonUnknownEmail)
		}
		return classify(err, Unavailable)
	}
	if !u.IsActive {
		return noToken(u, ReasonInactiveUser)
	}
	token, hash, err := newResetToken()
	if err != nil {
		return err
	}
	now := s.now()
	rt := &ResetToken{TokenHash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.ResetTokenLifetime)}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.CreateResetToken(ctx, rt); err != nil {
			return err
		}
		return s.emit(ctx, tx, s.newEvent(ctx, EventPasswordResetRequested, uuid.Nil, u))
	})
	if err != nil {
		return classify(err, Unavailable)
	}
	msg := PasswordResetMail{To: u.Email, Token: token, ExpiresAt: rt.ExpiresAt}
	if u.FullName != nil {
		msg.Name = *u.FullName
	}
	s.sendResetMail(ctx, u.ID, msg)
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
	if in.Token == "" || len(in.Token) > maxTokenLength {
		return ErrInvalidResetToken
	}
	// Spend the token before hashing: a made-up token then costs one
	// lookup, not a password hash (hashing is bounded and shared with
	// logins), and no hash runs inside a transaction.
	var rt *ResetToken
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		t, err := tx.ConsumeResetToken(ctx, hashToken(in.Token))
		if err != nil {
			return err
		}
		u, err := tx.User(ctx, t.UserID)
		if err != nil {
			return err
		}
		if err := s.checkResetToken(t, u); err != nil {
			return err
		}
		rt = t
		return nil
	})
	if err != nil {
		return resetTokenError(err)
	}
	hash, err := s.hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		s.restoreResetToken(ctx, rt)
		return err
	}
	// Check again: a password change may have landed while hashing.
	u, err := s.setPassword(ctx, EventPasswordReset, rt.UserID, hash, "", func(u *User) error { return s.checkResetToken(rt, u) })
	if err != nil {
		if _, veto := vetoed(err); veto || ErrorCode(err) == Unavailable || ErrorCode(err) == Internal {
			s.restoreResetToken(ctx, rt)
		}
		return resetTokenError(err)
	}
	// The owner proved control of the mailbox: lift the login lockout.
	account, _ := s.loginLimits(u.Email, "")
	s.resetCounter(ctx, account)
	return nil
}

// checkResetToken refuses a token that expired, that a password change
// superseded, or whose user, u, is inactive.
func (s *Service) checkResetToken(t *ResetToken, u *User) error {
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
	if err := s.db(ctx).CreateResetToken(context.WithoutCancel(ctx), rt); err != nil {
		s.log.WarnContext(ctx, "keel: restoring a reset token after a failed reset failed", "user_id", rt.UserID, "err", err)
	}
}

// resetTokenError gives a store error on a reset token its meaning: a
// missing token (or user) is ErrInvalidResetToken.
func resetTokenError(err error) error {
	if v, ok := vetoed(err); ok {
		return v
	}
	if ErrorCode(err) == NotFound {
		return ErrInvalidResetToken.withCause(err)
	}
	return classify(err, Internal)
}
