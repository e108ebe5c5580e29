package keel

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// issueToken stores, through tx, a fresh one-time token of the purpose for
// the user, superseding the user's earlier one of that purpose, and
// returns the secret (which only its recipient gets; the store keeps its
// hash) and the stored record.
func (s *Service) issueToken(ctx context.Context, tx Tx, userID uuid.UUID, purpose TokenPurpose, email string, lifetime time.Duration) (string, *OneTimeToken, error) {
	token, hash, err := newResetToken()
	if err != nil {
		return "", nil, err
	}
	now := s.now()
	t := &OneTimeToken{TokenHash: hash, UserID: userID, Purpose: purpose, Email: email, CreatedAt: now, ExpiresAt: now.Add(lifetime)}
	if err := tx.CreateOneTimeToken(ctx, t); err != nil {
		return "", nil, err
	}
	return token, t, nil
}

// tokenLookup is the hash a one-time token is stored under, or "" for a
// token no secret keel made can be (empty, or too long to bother hashing).
func tokenLookup(token string) string {
	if token == "" || len(token) > 256 {
		return ""
	}
	return hashToken(token)
}
