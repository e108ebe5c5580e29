package passkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/keel-dev/keel"
)

// Config describes the relying party.
type Config struct {
	// RPID is the relying party id: the domain passkeys are bound to,
	// e.g. "example.com" (valid for example.com and its subdomains).
	RPID string
	// RPName is the name authenticators show. Default RPID.
	RPName string
	// Origins are the origins the browser may run the ceremonies from,
	// e.g. "https://app.example.com"; each must be RPID or a subdomain of
	// it.
	Origins []string
	// Timeout is how long the browser gives the user for a ceremony.
	// Default 5 minutes.
	Timeout time.Duration
}

// DefaultTimeout is how long a ceremony may take by default.
const DefaultTimeout = 5 * time.Minute

// RelyingParty runs the ceremonies. Safe for concurrent use.
type RelyingParty struct {
	wa *webauthn.WebAuthn
}

var _ keel.PasskeyVerifier = (*RelyingParty)(nil)

// New checks cfg and returns a RelyingParty.
func New(cfg Config) (*RelyingParty, error) {
	if cfg.RPID == "" {
		return nil, errors.New("passkey: the relying party id is empty")
	}
	if len(cfg.Origins) == 0 {
		return nil, errors.New("passkey: no origins are configured")
	}
	for _, o := range cfg.Origins {
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("passkey: origin %q is not scheme://host[:port]", o)
		}
	}
	if cfg.RPName == "" {
		cfg.RPName = cfg.RPID
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: cfg.Timeout, TimeoutUVD: cfg.Timeout}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPName,
		RPOrigins:             cfg.Origins,
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &RelyingParty{wa: wa}, nil
}

// user is a keel user with its passkeys, as go-webauthn sees it.
type user struct {
	keel.PasskeyUser
	creds []webauthn.Credential
}

func newUser(u keel.PasskeyUser, registered []*keel.Passkey) *user {
	creds := make([]webauthn.Credential, len(registered))
	for i, p := range registered {
		creds[i] = credential(p)
	}
	return &user{PasskeyUser: u, creds: creds}
}

func (u *user) WebAuthnID() []byte                         { return u.Handle }
func (u *user) WebAuthnName() string                       { return u.Name }
func (u *user) WebAuthnDisplayName() string                { return u.DisplayName }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// credential is a stored passkey as go-webauthn verifies with it.
func credential(p *keel.Passkey) webauthn.Credential {
	transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID:              p.CredentialID,
		PublicKey:       p.PublicKey,
		AttestationType: "none",
		Transport:       transports,
		Flags: webauthn.CredentialFlags{
			UserPresent:    p.Flags.UserPresent,
			UserVerified:   p.Flags.UserVerified,
			BackupEligible: p.Flags.BackupEligible,
			BackupState:    p.Flags.BackupState,
		},
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}
}

// BeginRegistration starts registering a discoverable passkey for u.
func (rp *RelyingParty) BeginRegistration(u keel.PasskeyUser, registered []*keel.Passkey) (options, state []byte, err error) {
	wu := newUser(u, registered)
	creation, session, err := rp.wa.BeginRegistration(wu,
		webauthn.WithExclusions(webauthn.Credentials(wu.creds).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	if err != nil {
		return nil, nil, keel.Wrap(fmt.Errorf("passkey: begin registration: %w", err), keel.Internal, "")
	}
	return encode(creation, session)
}

// FinishRegistration checks the browser's response and returns the new
// passkey.
func (rp *RelyingParty) FinishRegistration(u keel.PasskeyUser, state, response []byte) (*keel.Passkey, error) {
	session, err := decodeState(state)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, refused(keel.Invalid, "the passkey's registration response cannot be read", err)
	}
	cred, err := rp.wa.CreateCredential(newUser(u, nil), *session, parsed)
	if err != nil {
		return nil, refused(keel.Invalid, "the passkey's registration was refused", err)
	}
	transports := make([]string, len(cred.Transport))
	for i, t := range cred.Transport {
		transports[i] = string(t)
	}
	aaguid := cred.Authenticator.AAGUID
	if len(aaguid) == 0 {
		aaguid = make([]byte, 16)
	}
	return &keel.Passkey{
		CredentialID: cred.ID,
		PublicKey:    cred.PublicKey,
		Transports:   transports,
		AAGUID:       aaguid,
		SignCount:    cred.Authenticator.SignCount,
		Flags:        flags(cred.Flags),
	}, nil
}

// BeginLogin starts a sign-in: with any discoverable passkey when u is
// nil, with one of u's registered passkeys otherwise.
func (rp *RelyingParty) BeginLogin(u *keel.PasskeyUser, registered []*keel.Passkey) (options, state []byte, err error) {
	var (
		assertion *protocol.CredentialAssertion
		session   *webauthn.SessionData
	)
	if u == nil {
		assertion, session, err = rp.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	} else {
		assertion, session, err = rp.wa.BeginLogin(newUser(*u, registered), webauthn.WithUserVerification(protocol.VerificationRequired))
	}
	if err != nil {
		// go-webauthn refuses to begin for a user without credentials.
		return nil, nil, refused(keel.Invalid, "there is no passkey to sign in with", err)
	}
	return encode(assertion, session)
}

// FinishLogin checks the browser's response and returns the assertion.
func (rp *RelyingParty) FinishLogin(state, response []byte, owner func(userHandle []byte) (keel.PasskeyUser, []*keel.Passkey, error)) (*keel.PasskeyAssertion, error) {
	session, err := decodeState(state)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, refused(keel.Unauthenticated, "the passkey's response cannot be read", err)
	}
	var ownerErr error
	lookup := func(handle []byte) (*user, error) {
		u, registered, err := owner(handle)
		if err != nil {
			ownerErr = err
			return nil, err
		}
		return newUser(u, registered), nil
	}
	var (
		wu   *user
		cred *webauthn.Credential
	)
	if len(session.UserID) > 0 {
		if wu, err = lookup(session.UserID); err == nil {
			cred, err = rp.wa.ValidateLogin(wu, *session, parsed)
		}
	} else {
		var found webauthn.User
		found, cred, err = rp.wa.ValidatePasskeyLogin(func(_, handle []byte) (webauthn.User, error) {
			return lookup(handle)
		}, *session, parsed)
		if err == nil {
			wu = found.(*user)
		}
	}
	if ownerErr != nil && keel.ErrorCode(ownerErr) != keel.NotFound {
		return nil, ownerErr // the store failed: not the passkey's fault
	}
	if err != nil {
		return nil, refused(keel.Unauthenticated, "the passkey was refused", err)
	}
	if cred.Authenticator.CloneWarning {
		return nil, refused(keel.Unauthenticated, "the passkey's signature counter went backwards: the authenticator may be cloned", nil)
	}
	return &keel.PasskeyAssertion{
		UserHandle:   bytes.Clone(wu.Handle),
		CredentialID: cred.ID,
		SignCount:    cred.Authenticator.SignCount,
		Flags:        flags(cred.Flags),
	}, nil
}

func flags(f webauthn.CredentialFlags) keel.PasskeyFlags {
	return keel.PasskeyFlags{UserPresent: f.UserPresent, UserVerified: f.UserVerified, BackupEligible: f.BackupEligible, BackupState: f.BackupState}
}

// encode returns the browser's options and the ceremony state as JSON.
func encode(options any, session *webauthn.SessionData) ([]byte, []byte, error) {
	o, err := json.Marshal(options)
	if err != nil {
		return nil, nil, keel.Wrap(fmt.Errorf("passkey: encoding the options: %w", err), keel.Internal, "")
	}
	s, err := json.Marshal(session)
	if err != nil {
		return nil, nil, keel.Wrap(fmt.Errorf("passkey: encoding the ceremony state: %w", err), keel.Internal, "")
	}
	return o, s, nil
}

func decodeState(state []byte) (*webauthn.SessionData, error) {
	var s webauthn.SessionData
	if err := json.Unmarshal(state, &s); err != nil || s.Challenge == "" {
		return nil, keel.Wrap(fmt.Errorf("passkey: decoding the ceremony state: %v", err), keel.Internal, "")
	}
	return &s, nil
}

// refused is the error of a response that failed the checks, with
// go-webauthn's reason (its details, never the response) as the cause.
func refused(code keel.Code, msg string, cause error) error {
	if cause == nil {
		cause = errors.New(msg)
	} else {
		var pe *protocol.Error
		if errors.As(cause, &pe) {
			cause = fmt.Errorf("%s: %s (%s): %w", msg, pe.Details, pe.DevInfo, cause)
		}
	}
	return keel.Wrap(fmt.Errorf("passkey: %w", cause), code, msg)
}
