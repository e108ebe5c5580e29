package keel

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// How long the flows that span two requests live. A provider sign-in
// leaves time to pick an account and consent; a login code only has to
// cross one redirect; a passkey ceremony lasts as long as the browser
// gives the user (passkey.DefaultTimeout) and a little more.
const (
	providerFlowLifetime    = 10 * time.Minute
	loginCodeLifetime       = time.Minute
	passkeyCeremonyLifetime = 6 * time.Minute
)

// maxFlowSecretLength bounds a flow secret keel looks up: its own are 43
// characters.
const maxFlowSecretLength = 128

// newFlowSecret returns a URL-safe secret of 256 random bits.
func newFlowSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", Wrap(err, Internal, "")
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// flowKeyHash is the store's key of a flow secret: the store never holds
// a secret a client could present.
func flowKeyHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// startFlow stores a flow of the kind, with data encoded as JSON, for the
// user (uuid.Nil for none) and returns the secret that names it.
func (s *Service) startFlow(ctx context.Context, kind AuthFlowKind, userID uuid.UUID, data any, lifetime time.Duration) (string, error) {
	secret, err := newFlowSecret()
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(data)
	if err != nil {
		return "", Wrap(err, Internal, "")
	}
	now := s.now()
	f := &AuthFlow{KeyHash: flowKeyHash(secret), Kind: kind, UserID: userID, Data: b, CreatedAt: now, ExpiresAt: now.Add(lifetime)}
	if err := s.db(ctx).CreateAuthFlow(ctx, f); err != nil {
		return "", classify(err, Unavailable)
	}
	return secret, nil
}

// takeFlow consumes the flow of the kind the secret names, once, and
// decodes its data into data. A secret that is empty, too long, unknown,
// used, of another kind or expired is invalid.
func (s *Service) takeFlow(ctx context.Context, kind AuthFlowKind, secret string, data any, invalid *Error) (*AuthFlow, error) {
	if secret == "" || len(secret) > maxFlowSecretLength {
		return nil, invalid
	}
	f, err := s.db(ctx).ConsumeAuthFlow(ctx, kind, flowKeyHash(secret))
	if err != nil {
		if ErrorCode(err) == NotFound {
			return nil, invalid.withCause(err)
		}
		return nil, classify(err, Unavailable)
	}
	if !f.ExpiresAt.After(s.now()) {
		return nil, invalid
	}
	if err := json.Unmarshal(f.Data, data); err != nil {
		return nil, Wrap(err, Internal, "")
	}
	return f, nil
}
