package smtpmail_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message the test server accepted.
type received struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool   // the session was encrypted when the message came
	AuthUser string // "" when the client did not authenticate
}

// serverOptions shape a test server.
type serverOptions struct {
	STARTTLS bool   // offer STARTTLS
	Implicit bool   // speak TLS from the first byte
	User     string // require AUTH PLAIN with User/Password when set
	Password string
}

// testServer is a real SMTP server (github.com/emersion/go-smtp) on a
// loopback port, running inside the test process.
type testServer struct {
	Host   string
	Port   int
	Client *tls.Config // trusts the server's certificate

	mu   sync.Mutex
	msgs []received
	srv  *smtp.Server
}

func (s *testServer) Messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *testServer) Close() error { return s.srv.Close() }

// startServer starts a server; stop it with Close.
func startServer(opts serverOptions) (*testServer, error) {
	cert, pool, err := selfSigned()
	if err != nil {
		return nil, err
	}
	ts := &testServer{Host: "127.0.0.1", Client: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	srv := smtp.NewServer(backend{ts, opts})
	srv.Domain = "localhost"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	// Auth over a plain connection is allowed only for the plain-server tests.
	srv.AllowInsecureAuth = !opts.STARTTLS && !opts.Implicit
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if opts.STARTTLS {
		srv.TLSConfig = serverTLS
	}
	var l net.Listener
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ts.Port = l.Addr().(*net.TCPAddr).Port
	if opts.Implicit {
		l = tls.NewListener(l, serverTLS)
	}
	ts.srv = srv
	go srv.Serve(l) //nolint:errcheck // Close ends it
	return ts, nil
}

// newServer starts a server for the test and stops it at the end.
func newServer(t testing.TB, opts serverOptions) *testServer {
	t.Helper()
	ts, err := startServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Close() })
	return ts
}

type backend struct {
	ts   *testServer
	opts serverOptions
}

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{backend: b, conn: c}, nil
}

type session struct {
	backend
	conn *smtp.Conn
	user string
	msg  received
}

func (s *session) AuthMechanisms() []string {
	if s.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != s.opts.User || pass != s.opts.Password {
			return errors.New("invalid credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.opts.User != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg = received{From: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = b
	_, s.msg.TLS = s.conn.TLSConnectionState()
	s.msg.AuthUser = s.user
	s.ts.mu.Lock()
	s.ts.msgs = append(s.ts.msgs, s.msg)
	s.ts.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.msg = received{} }
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "keel test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// parsed is a received message taken apart.
type parsed struct {
	Header  mail.Header
	Subject string
	From    *mail.Address
	To      []*mail.Address
	Text    string
	HTML    string
}

// parseMessage decodes headers and the text and HTML parts of a message.
func parseMessage(t testing.TB, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the message does not parse: %v\n%s", err, data)
	}
	var p parsed
	p.Header = m.Header
	dec := new(mime.WordDecoder)
	if p.Subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("Subject: %v", err)
	}
	if p.From, err = mail.ParseAddress(m.Header.Get("From")); err != nil {
		t.Fatalf("From: %v", err)
	}
	if p.To, err = m.Header.AddressList("To"); err != nil {
		t.Fatalf("To: %v", err)
	}
	collectParts(t, m.Header.Get("Content-Type"), m.Body, &p)
	return p
}

func collectParts(t testing.TB, contentType string, body io.Reader, p *parsed) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart() // decodes quoted-printable
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("multipart: %v", err)
			}
			collectParts(t, part.Header.Get("Content-Type"), part, p)
		}
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	switch mt {
	case "text/plain":
		p.Text = string(b)
	case "text/html":
		p.HTML = string(b)
	default:
		t.Fatalf("unexpected part %s", mt)
	}
}
