// Package passkey runs keel's WebAuthn ceremonies with
// github.com/go-webauthn/webauthn: registering discoverable passkeys,
// signing in with one alone, and using one as a second factor. The relying
// party id and the origins allowed come from Config. A *RelyingParty is a
// keel.PasskeyVerifier; give it to keel.Config.Passkeys.
package passkey
