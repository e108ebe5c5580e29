package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/httpapi"
)

// serveGone serves q as if its client had gone away before the handler
// ran: the request's context is already cancelled.
func (e *env) serveGone(q req) *resp {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, e.build(q).WithContext(ctx))
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return &resp{Response: res, body: b}
}

func TestWritesSurviveTheClient(t *testing.T) {
	t.Run("a sign-up whose client went away still creates the account", func(t *testing.T) {
		e := newEnv(t)
		res := e.serveGone(req{method: "POST", path: "/users/signup", json: map[string]any{"email": "gone@example.com", "password": password}})
		expect(t, res, 201, "")
		if _, err := e.store.UserByEmail(t.Context(), "gone@example.com"); err != nil {
			t.Fatalf("no account after the sign-up: %v", err)
		}
	})
	t.Run("an item create whose client went away still creates the item", func(t *testing.T) {
		e := newEnv(t)
		u, tok := e.userToken("alice@example.com", false)
		res := e.serveGone(req{method: "POST", path: "/items/", bearer: tok, json: map[string]any{"title": "kept"}})
		expect(t, res, 201, "")
		items, n, err := e.store.ListItems(t.Context(), keel.ItemFilter{OwnerID: u.ID}, keel.Page{Limit: 10})
		if err != nil || n != 1 || items[0].Title != "kept" {
			t.Fatalf("items %v %d %v, want the one item", items, n, err)
		}
	})
	t.Run("a password change whose client went away still changes the password", func(t *testing.T) {
		e := newEnv(t)
		_, tok := e.userToken("alice@example.com", false)
		const newPassword = "a brand new passphrase"
		res := e.serveGone(req{method: "PATCH", path: "/users/me/password", bearer: tok,
			json: map[string]any{"current_password": password, "new_password": newPassword}})
		expect(t, res, 200, "")
		if _, err := e.svc.Login(t.Context(), keel.LoginInput{Email: "alice@example.com", Password: newPassword}); err != nil {
			t.Fatalf("the new password does not work: %v", err)
		}
	})
	t.Run("a read whose client went away stops early", func(t *testing.T) {
		e := newEnv(t)
		_, tok := e.userToken("alice@example.com", false)
		res := e.serveGone(req{method: "GET", path: "/items/", bearer: tok})
		expect(t, res, 503, "")
	})
}

// TestAbortedSignUp disconnects a real client while its sign-up is inside
// its transaction: the account and what a hook writes for it are still
// created.
func TestAbortedSignUp(t *testing.T) {
	inHook := make(chan struct{})
	clientCtx := make(chan context.Context, 1) // the request's context before httpapi
	served := make(chan struct{})
	e := newEnv(t, withKeel(func(c *keel.Config) {
		c.Hooks.Before = []keel.BeforeHook{func(ctx context.Context, tx keel.Tx, ev keel.Event) error {
			if ev.Kind != keel.EventSignedUp {
				return nil
			}
			close(inHook)
			<-(<-clientCtx).Done() // the client has gone
			// A write of the program's own, with the operation's context.
			return tx.CreateItem(ctx, &keel.Item{ID: uuid.Must(uuid.NewV7()), Title: "welcome", OwnerID: ev.UserID, CreatedAt: ev.At, UpdatedAt: ev.At})
		}}
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		clientCtx <- r.Context()
		e.h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	r, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/users/signup", strings.NewReader(`{"email":"gone@example.com","password":"`+password+`"}`))
	r.Header.Set("Content-Type", "application/json")
	sent := make(chan error, 1)
	go func() {
		res, err := srv.Client().Do(r)
		if err == nil {
			res.Body.Close()
		}
		sent <- err
	}()
	<-inHook
	cancel() // the client gives up and closes the connection
	if err := <-sent; err == nil {
		t.Fatal("the client got an answer; it should have given up first")
	}
	<-served
	u, err := e.store.UserByEmail(context.Background(), "gone@example.com")
	if err != nil {
		t.Fatalf("no account after the aborted sign-up: %v", err)
	}
	if _, n, _ := e.store.ListItems(context.Background(), keel.ItemFilter{OwnerID: u.ID}, keel.Page{Limit: 1}); n != 1 {
		t.Fatalf("%d items: the hook's write did not survive the client", n)
	}
}

func TestCompleteWrites(t *testing.T) {
	for _, tc := range []struct {
		method   string
		detached bool
	}{
		{"POST", true}, {"PUT", true}, {"PATCH", true}, {"DELETE", true},
		{"GET", false}, {"HEAD", false}, {"OPTIONS", false},
	} {
		name := "a " + tc.method + " keeps the client's cancellation"
		if tc.detached {
			name = "a " + tc.method + " is not cancelled by its client, only by the timeout"
		}
		t.Run(name, func(t *testing.T) {
			var ctxErr error
			var hasDeadline bool
			h := httpapi.CompleteWrites(keel.DefaultResetTokenLifetime)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctxErr = r.Context().Err()
				_, hasDeadline = r.Context().Deadline()
			}))
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, "/", bytes.NewReader(nil)).WithContext(ctx))
			if detached := ctxErr == nil; detached != tc.detached {
				t.Fatalf("context error %v: detached %v, want %v", ctxErr, detached, tc.detached)
			}
			if tc.detached && !hasDeadline {
				t.Fatal("the detached context has no deadline")
			}
		})
	}
}
