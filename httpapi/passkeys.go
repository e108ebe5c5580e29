package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
)

// passkeyCeremony is the first half of a WebAuthn ceremony.
type passkeyCeremony struct {
	Ceremony string `json:"ceremony" required:"true" description:"Names the ceremony in its second half; single-use."`
	// Options is the argument of the browser's navigator.credentials
	// call: {"publicKey": {...}}, with its binary fields base64url-encoded.
	Options   json.RawMessage `json:"options" required:"true" nullable:"false"`
	ExpiresAt time.Time       `json:"expires_at" required:"true"`
}

// passkeyPublic is a passkey as the API shows it: never its key.
type passkeyPublic struct {
	ID         uuid.UUID  `json:"id" required:"true" format:"uuid"`
	Name       string     `json:"name" required:"true"`
	Transports []string   `json:"transports" required:"true" nullable:"false"`
	BackedUp   bool       `json:"backed_up" required:"true" description:"The passkey is synced to other devices."`
	CreatedAt  time.Time  `json:"created_at" required:"true"`
	LastUsedAt *time.Time `json:"last_used_at" required:"true" description:"null until it first signs in."`
}

// passkeysPublic lists a user's passkeys.
type passkeysPublic struct {
	Data  []passkeyPublic `json:"data" required:"true" nullable:"false"`
	Count int             `json:"count" required:"true" minimum:"0"`
}

// passkeyIDPath is the path parameter of DELETE /users/me/passkeys/{id}.
type passkeyIDPath struct {
	ID uuid.UUID `path:"id" format:"uuid"`
}

func newPasskeyPublic(p *keel.Passkey) passkeyPublic {
	out := passkeyPublic{ID: p.ID, Name: p.Name, Transports: p.Transports, BackedUp: p.Flags.BackupState, CreatedAt: p.CreatedAt.UTC()}
	if out.Transports == nil {
		out.Transports = []string{}
	}
	if !p.LastUsedAt.IsZero() {
		t := p.LastUsedAt.UTC()
		out.LastUsedAt = &t
	}
	return out
}

func newPasskeyCeremony(c *keel.PasskeyCeremony) passkeyCeremony {
	return passkeyCeremony{Ceremony: c.ID, Options: c.Options, ExpiresAt: c.ExpiresAt.UTC()}
}

// passkeyRegistrationOptions serves POST /users/me/passkeys/options.
func passkeyRegistrationOptions(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	c, err := a.svc.BeginPasskeyRegistration(r.Context(), sess)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPasskeyCeremony(c))
	return nil
}

// registerPasskey serves POST /users/me/passkeys.
func registerPasskey(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	var in keel.PasskeyRegistrationInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	p, err := a.svc.FinishPasskeyRegistration(r.Context(), sess, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newPasskeyPublic(p))
	return nil
}

// readPasskeys serves GET /users/me/passkeys.
func readPasskeys(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	ps, err := a.svc.Passkeys(r.Context(), sess.User)
	if err != nil {
		return err
	}
	out := passkeysPublic{Data: make([]passkeyPublic, len(ps)), Count: len(ps)}
	for i, p := range ps {
		out.Data[i] = newPasskeyPublic(p)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deletePasskey serves DELETE /users/me/passkeys/{id}.
func deletePasskey(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "id")
	if err != nil {
		return err
	}
	if err := a.svc.DeletePasskey(r.Context(), sess.User, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{"Passkey deleted"})
	return nil
}

// passkeyLoginOptions serves POST /login/passkey/options.
func passkeyLoginOptions(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	w.Header().Set("Cache-Control", "no-store")
	c, err := a.svc.BeginPasskeyLogin(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPasskeyCeremony(c))
	return nil
}

// passkeyLogin serves POST /login/passkey, answered as POST
// /login/access-token answers a password.
func passkeyLogin(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	var in keel.PasskeyLoginInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	in.ClientAddr = a.clientAddr(r)
	w.Header().Set("Cache-Control", "no-store")
	sess, err := a.svc.FinishPasskeyLogin(r.Context(), in)
	if answerChallenge(w, err) {
		return nil
	}
	if err != nil {
		return err
	}
	a.writeSession(w, sess)
	return nil
}

// challengeBody is a login challenge's token.
type challengeBody struct {
	Challenge string `json:"challenge" required:"true" description:"The challenge of the 403 a sign-in answered."`
}

// passkeySecondFactorOptions serves POST /login/two-factor/passkey/options.
func passkeySecondFactorOptions(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	var in challengeBody
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	c, err := a.svc.BeginPasskeySecondFactor(r.Context(), in.Challenge)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPasskeyCeremony(c))
	return nil
}

// passkeySecondFactor serves POST /login/two-factor/passkey: a challenge
// and a passkey give the Token a code gives at POST /login/two-factor.
func passkeySecondFactor(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	var in keel.PasskeySecondFactorInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	in.ClientAddr = a.clientAddr(r)
	w.Header().Set("Cache-Control", "no-store")
	sess, err := a.svc.CompleteLoginWithPasskey(r.Context(), in)
	if err != nil {
		return err
	}
	a.writeSession(w, sess)
	return nil
}
