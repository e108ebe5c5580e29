// Package webauthntest is a software WebAuthn authenticator for tests: it
// answers the options of navigator.credentials.create and .get as a
// browser with a platform authenticator would, with an ECDSA P-256 key,
// attestation "none", and the CBOR, client data and signatures built by
// hand with the standard library. Its fields let a test play an attacker:
// another origin, a counter that goes backwards, another user handle.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Authenticator holds credentials and answers ceremonies.
type Authenticator struct {
	// Origin is the origin the "browser" reports in the client data.
	Origin string
	// AAGUID identifies the authenticator model (16 bytes).
	AAGUID []byte
}

// Credential is a passkey held by the authenticator.
type Credential struct {
	ID         []byte
	Key        *ecdsa.PrivateKey
	RPID       string
	UserHandle []byte
	// Counter is the signature counter; each assertion adds one first. A
	// test sets it back to play a cloned authenticator.
	Counter uint32
}

var b64 = base64.RawURLEncoding

// creationOptions is the part of navigator.credentials.create's options
// the authenticator reads.
type creationOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

// requestOptions is the part of navigator.credentials.get's options the
// authenticator reads.
type requestOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RPID      string `json:"rpId"`
	} `json:"publicKey"`
}

// Register answers creation options with a new credential: it returns the
// browser's response (the PublicKeyCredential as JSON) and the credential.
func (a *Authenticator) Register(options []byte) ([]byte, *Credential, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, nil, fmt.Errorf("webauthntest: creation options: %w", err)
	}
	userHandle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("webauthntest: user id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	id := make([]byte, 32)
	_, _ = rand.Read(id)
	c := &Credential{ID: id, Key: key, RPID: o.PublicKey.RP.ID, UserHandle: userHandle}

	clientData := a.clientData("webauthn.create", o.PublicKey.Challenge)
	aaguid := a.AAGUID
	if len(aaguid) != 16 {
		aaguid = make([]byte, 16)
	}
	// Attested credential data: AAGUID, credential id length and id, COSE key.
	attested := append([]byte{}, aaguid...)
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(id)))
	attested = append(attested, id...)
	attested = append(attested, coseKey(&key.PublicKey)...)
	authData := authenticatorData(c.RPID, flagUP|flagUV|flagBE|flagBS|flagAT, 0, attested)

	// {"fmt": "none", "attStmt": {}, "authData": authData}
	att := []byte{0xa3}
	att = append(att, cborText("fmt")...)
	att = append(att, cborText("none")...)
	att = append(att, cborText("attStmt")...)
	att = append(att, 0xa0)
	att = append(att, cborText("authData")...)
	att = append(att, cborBytes(authData)...)

	resp := map[string]any{
		"id":    b64.EncodeToString(id),
		"rawId": b64.EncodeToString(id),
		"type":  "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal", "hybrid"},
		},
		"clientExtensionResults":  map[string]any{},
		"authenticatorAttachment": "platform",
	}
	out, err := json.Marshal(resp)
	return out, c, err
}

// Assert answers request options with the credential: it adds one to the
// counter and returns the browser's response, signed with the
// credential's key and carrying its user handle.
func (a *Authenticator) Assert(options []byte, c *Credential) ([]byte, error) {
	return a.AssertAs(options, c, c.UserHandle)
}

// AssertAs is Assert with the user handle the response claims.
func (a *Authenticator) AssertAs(options []byte, c *Credential, userHandle []byte) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("webauthntest: request options: %w", err)
	}
	rpID := o.PublicKey.RPID
	if rpID == "" {
		rpID = c.RPID
	}
	c.Counter++
	clientData := a.clientData("webauthn.get", o.PublicKey.Challenge)
	authData := authenticatorData(rpID, flagUP|flagUV|flagBE|flagBS, c.Counter, nil)
	hash := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, authData...), hash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, digest[:])
	if err != nil {
		return nil, err
	}
	resp := map[string]any{
		"id":    b64.EncodeToString(c.ID),
		"rawId": b64.EncodeToString(c.ID),
		"type":  "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"authenticatorData": b64.EncodeToString(authData),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(userHandle),
		},
		"clientExtensionResults":  map[string]any{},
		"authenticatorAttachment": "platform",
	}
	return json.Marshal(resp)
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// Authenticator data flags.
const (
	flagUP = 0x01 // user present
	flagUV = 0x04 // user verified
	flagBE = 0x08 // backup eligible
	flagBS = 0x10 // backed up
	flagAT = 0x40 // attested credential data included
)

func authenticatorData(rpID string, flags byte, counter uint32, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	d := append([]byte{}, h[:]...)
	d = append(d, flags)
	d = binary.BigEndian.AppendUint32(d, counter)
	return append(d, attested...)
}

// coseKey is the EC2 P-256 COSE key of pub:
// {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
func coseKey(pub *ecdsa.PublicKey) []byte {
	raw, _ := pub.Bytes() // 0x04 || x || y
	x, y := raw[1:33], raw[33:65]
	k := []byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21}
	k = append(k, cborBytes(x)...)
	k = append(k, 0x22)
	return append(k, cborBytes(y)...)
}

// cborHead is a CBOR head of the major type with the length n.
func cborHead(major byte, n int) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 256:
		return []byte{major<<5 | 24, byte(n)}
	default:
		return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
	}
}

func cborBytes(b []byte) []byte { return append(cborHead(2, len(b)), b...) }

func cborText(s string) []byte { return append(cborHead(3, len(s)), s...) }
