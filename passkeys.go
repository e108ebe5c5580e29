package keel

// PasskeyVerifier runs the two halves of the WebAuthn ceremonies that
// register passkeys and sign in with them. Package passkey implements it
// with github.com/go-webauthn/webauthn; keel keeps each ceremony's state
// between its halves (single-use, expiring) and the passkeys themselves.
// Options and responses are JSON, passed between the browser's
// navigator.credentials calls and keel untouched.
type PasskeyVerifier interface {
	// BeginRegistration returns the options of navigator.credentials.create
	// for a new discoverable passkey of the user, excluding the passkeys it
	// has, and the ceremony's state.
	BeginRegistration(user PasskeyUser, registered []*Passkey) (options, state []byte, err error)
	// FinishRegistration checks the browser's response to the ceremony
	// with the state and returns the new passkey (its credential, key,
	// counter and flags; keel fills in the rest). A response that fails
	// the checks is Invalid.
	FinishRegistration(user PasskeyUser, state, response []byte) (*Passkey, error)
	// BeginLogin returns the options of navigator.credentials.get and the
	// ceremony's state: for any discoverable passkey when user is nil, for
	// one of the user's registered passkeys otherwise (a second factor).
	BeginLogin(user *PasskeyUser, registered []*Passkey) (options, state []byte, err error)
	// FinishLogin checks the browser's response to the ceremony with the
	// state: the challenge, origin, relying party, signature, user
	// verification, and that the credential is one of those owner returns
	// for the user handle (the response's, or the user's the ceremony was
	// begun for). A signature counter that did not move on is refused. A
	// response that fails the checks is Unauthenticated.
	FinishLogin(state, response []byte, owner func(userHandle []byte) (PasskeyUser, []*Passkey, error)) (*PasskeyAssertion, error)
}

// PasskeyUser is a user as WebAuthn sees it.
type PasskeyUser struct {
	// Handle is the user's WebAuthn user handle: 64 random bytes, never
	// the user's id or email.
	Handle      []byte
	Name        string // the email
	DisplayName string // the full name, or the email
}

// PasskeyAssertion is a passkey sign-in that passed the checks.
type PasskeyAssertion struct {
	UserHandle   []byte
	CredentialID []byte
	// SignCount and Flags are the authenticator's, from this sign-in.
	SignCount uint32
	Flags     PasskeyFlags
}
