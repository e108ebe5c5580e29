package smtpmail_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/smtpmail"
)

// A Mailer sends keel's emails over SMTP; give it to keel.New in
// keel.Config.Mailer. Here it talks to a test server on a loopback port.
func ExampleNew() {
	srv, err := startServer(serverOptions{STARTTLS: true, User: "mailer", Password: "app-password"})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	m, err := smtpmail.New(smtpmail.Config{
		Host:         srv.Host, // SMTP_HOST
		Port:         srv.Port, // SMTP_PORT
		StartTLS:     true,     // SMTP_TLS
		TLSConfig:    srv.Client,
		Username:     "mailer",       // SMTP_USER
		Password:     "app-password", // SMTP_PASSWORD
		From:         "noreply@example.com",
		FromName:     "Acme",
		FrontendHost: "https://app.example.com",
		ProjectName:  "Acme",
	})
	if err != nil {
		log.Fatal(err)
	}
	err = m.SendPasswordReset(context.Background(), keel.PasswordResetMail{
		To:        "ada@example.com",
		Token:     "the-token",
		ExpiresAt: time.Now().Add(time.Hour),
	})
	if err != nil {
		log.Fatal(err)
	}
	msg := srv.Messages()[0]
	fmt.Println("to:", msg.To, "encrypted:", msg.TLS, "authenticated as:", msg.AuthUser)
	// Output: to: [ada@example.com] encrypted: true authenticated as: mailer
}

// Without an SMTP server, Log writes mail to a logger; in development the
// line carries the reset link.
func ExampleLog() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the output stable
			}
			return a
		},
	}))
	m := &smtpmail.Log{Logger: logger, FrontendHost: "http://localhost:5173", Development: true}
	_ = m.SendPasswordReset(context.Background(), keel.PasswordResetMail{
		To:        "ada@example.com",
		Token:     "the-token",
		ExpiresAt: time.Now().Add(time.Hour),
	})
	// Output: level=INFO msg="smtpmail: no SMTP server is configured; the password-reset email would carry this link" to=ada@example.com link="http://localhost:5173/reset-password?token=the-token" valid_for="1 hour"
}
