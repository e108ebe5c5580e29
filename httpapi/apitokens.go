package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
)

// apiTokenPublic is a personal API token as its user sees it: never the
// token.
type apiTokenPublic struct {
	ID         uuid.UUID  `json:"id" required:"true" format:"uuid" description:"Names the token; not the token."`
	Name       string     `json:"name" required:"true"`
	Scope      keel.Scope `json:"scope" required:"true" enum:"read,full"`
	CreatedAt  time.Time  `json:"created_at" required:"true"`
	LastUsedAt *time.Time `json:"last_used_at" required:"true" description:"When the token last authenticated a request, to within a minute; null when never."`
	ExpiresAt  time.Time  `json:"expires_at" required:"true"`
}

// apiTokensPublic is a user's live tokens, newest first.
type apiTokensPublic struct {
	Data  []apiTokenPublic `json:"data" required:"true" nullable:"false"`
	Count int              `json:"count" required:"true" minimum:"0"`
}

// apiTokenCreated is a token just made, with the token itself: the only
// answer that ever shows it.
type apiTokenCreated struct {
	ID        uuid.UUID  `json:"id" required:"true" format:"uuid"`
	Name      string     `json:"name" required:"true"`
	Scope     keel.Scope `json:"scope" required:"true" enum:"read,full"`
	CreatedAt time.Time  `json:"created_at" required:"true"`
	ExpiresAt time.Time  `json:"expires_at" required:"true"`
	Token     string     `json:"token" required:"true" description:"The token, shown this once: send it as Authorization: Bearer. The server keeps only its hash."`
}

// apiTokenPath is the path parameters of a token of a user.
type apiTokenPath struct {
	UserID  uuid.UUID `path:"user_id" format:"uuid"`
	TokenID uuid.UUID `path:"token_id" format:"uuid"`
}

// myAPITokenPath is the path parameter of a token of the caller's.
type myAPITokenPath struct {
	TokenID uuid.UUID `path:"token_id" format:"uuid"`
}

func newAPITokenPublic(t keel.APITokenInfo) apiTokenPublic {
	out := apiTokenPublic{ID: t.ID, Name: t.Name, Scope: t.Scope, CreatedAt: t.CreatedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC()}
	if !t.LastUsedAt.IsZero() {
		used := t.LastUsedAt.UTC()
		out.LastUsedAt = &used
	}
	return out
}

// createMyAPIToken serves POST /users/me/tokens.
func createMyAPIToken(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	var in keel.CreateAPITokenInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	t, err := a.svc.CreateAPIToken(r.Context(), sess.User, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiTokenCreated{ID: t.ID, Name: t.Name, Scope: t.Scope,
		CreatedAt: t.CreatedAt.UTC(), ExpiresAt: t.ExpiresAt.UTC(), Token: t.Token})
	return nil
}

// readMyAPITokens serves GET /users/me/tokens.
func readMyAPITokens(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	return a.writeAPITokens(w, r, sess, sess.User.ID)
}

// readUserAPITokens serves GET /users/{user_id}/tokens.
func readUserAPITokens(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "user_id")
	if err != nil {
		return err
	}
	return a.writeAPITokens(w, r, sess, id)
}

func (a *api) writeAPITokens(w http.ResponseWriter, r *http.Request, sess *keel.Session, userID uuid.UUID) error {
	list, err := a.svc.APITokens(r.Context(), sess.User, userID)
	if err != nil {
		return err
	}
	out := apiTokensPublic{Data: make([]apiTokenPublic, len(list)), Count: len(list)}
	for i, t := range list {
		out.Data[i] = newAPITokenPublic(t)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// revokeMyAPIToken serves DELETE /users/me/tokens/{token_id}.
func revokeMyAPIToken(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "token_id")
	if err != nil {
		return err
	}
	return a.revokeAPIToken(w, r, sess, sess.User.ID, id)
}

// revokeUserAPIToken serves DELETE /users/{user_id}/tokens/{token_id}.
func revokeUserAPIToken(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	userID, err := pathUUID(r, "user_id")
	if err != nil {
		return err
	}
	id, err := pathUUID(r, "token_id")
	if err != nil {
		return err
	}
	return a.revokeAPIToken(w, r, sess, userID, id)
}

func (a *api) revokeAPIToken(w http.ResponseWriter, r *http.Request, sess *keel.Session, userID, tokenID uuid.UUID) error {
	if err := a.svc.RevokeAPIToken(r.Context(), sess.User, userID, tokenID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{"API token revoked"})
	return nil
}
