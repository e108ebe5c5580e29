package keel_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
)

// newToken makes a personal API token of the session's user.
func (e *env) newToken(t *testing.T, sess *keel.Session, scope keel.Scope) *keel.NewAPIToken {
	t.Helper()
	tok, err := e.svc.CreateAPIToken(context.Background(), sess.User, keel.CreateAPITokenInput{Name: "ci", Scope: scope, ExpiresInDays: 30})
	if err != nil {
		t.Fatalf("CreateAPIToken: %v", err)
	}
	return tok
}

// tokenSession authenticates a personal API token.
func (e *env) tokenSession(t *testing.T, token string) *keel.Session {
	t.Helper()
	sess, err := e.svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("Authenticate(token): %v", err)
	}
	return sess
}

func TestAPITokensAuthenticateAndAreShownOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	u := e.signUp(t, "ada@example.com")
	sess := e.login(t, "ada@example.com", goodPassword)

	tok := e.newToken(t, sess, keel.ScopeRead)
	if !strings.HasPrefix(tok.Token, keel.APITokenPrefix) || len(tok.Token) < len(keel.APITokenPrefix)+43 {
		t.Fatalf("token %q lacks the prefix or 256 bits", tok.Token)
	}
	if tok.Name != "ci" || tok.Scope != keel.ScopeRead || !tok.ExpiresAt.Equal(tok.CreatedAt.Add(30*24*time.Hour)) {
		t.Errorf("token info = %+v", tok.APITokenInfo)
	}
	got := e.tokenSession(t, tok.Token)
	if got.User.ID != u.ID || !got.APIToken || got.Scope != keel.ScopeRead || got.ID != tok.ID || !got.Expiry.Equal(tok.ExpiresAt) {
		t.Errorf("Authenticate(token) = %+v", got)
	}
	if s := e.tokenSession(t, sess.Token); s.APIToken || s.Scope != "" {
		t.Errorf("a session authenticates as a token: %+v", s)
	}

	listed, err := e.svc.APITokens(ctx, sess.User, u.ID)
	if err != nil || len(listed) != 1 || listed[0].ID != tok.ID || listed[0].Name != "ci" {
		t.Fatalf("APITokens = %+v, %v", listed, err)
	}
	if strings.Contains(strings.ToLower(strings.Join([]string{listed[0].Name, string(listed[0].Scope), listed[0].ID.String()}, " ")), tok.Token[len(keel.APITokenPrefix):][:10]) {
		t.Error("the list shows the token")
	}
}

func TestAPITokenScopesAreEnforcedByTheService(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.superuser(t, "root@example.com")
	other := e.signUp(t, "bob@example.com")
	rootSess := e.login(t, "root@example.com", goodPassword)
	otherSess := e.login(t, "bob@example.com", goodPassword)
	item, err := e.svc.CreateItem(ctx, rootSess.User, keel.CreateItemInput{Title: "mine"})
	if err != nil {
		t.Fatal(err)
	}

	// Every call that changes something, made by a superuser's token: its
	// scope, not its user, decides.
	writes := []struct {
		name string
		call func(actor *keel.User) error
	}{
		{"CreateItem", func(a *keel.User) error {
			_, err := e.svc.CreateItem(ctx, a, keel.CreateItemInput{Title: "t"})
			return err
		}},
		{"UpdateItem", func(a *keel.User) error {
			_, err := e.svc.UpdateItem(ctx, a, item.ID, keel.UpdateItemInput{Title: keel.Some("u")})
			return err
		}},
		{"DeleteItem", func(a *keel.User) error { return e.svc.DeleteItem(ctx, a, item.ID) }},
		{"UpdateMe of the name", func(a *keel.User) error {
			_, err := e.svc.UpdateMe(ctx, a, keel.UpdateMeInput{FullName: keel.Some(ptr("Root"))})
			return err
		}},
		{"CreateUser", func(a *keel.User) error {
			_, err := e.svc.CreateUser(ctx, a, keel.CreateUserInput{Email: "new@example.com", Password: goodPassword})
			return err
		}},
		{"UpdateUser of the superuser flag", func(a *keel.User) error {
			_, err := e.svc.UpdateUser(ctx, a, other.ID, keel.UpdateUserInput{IsSuperuser: keel.Some(false)})
			return err
		}},
		{"SendTestEmail", func(a *keel.User) error { return e.svc.SendTestEmail(ctx, a, "x@example.com") }},
		{"Unlock", func(a *keel.User) error { return e.svc.Unlock(ctx, a, other.ID) }},
	}
	// Every call that manages credentials: no token may.
	credentials := []struct {
		name string
		call func(s *keel.Session) error
	}{
		{"CreateAPIToken", func(s *keel.Session) error {
			_, err := e.svc.CreateAPIToken(ctx, s.User, keel.CreateAPITokenInput{Name: "more", Scope: keel.ScopeFull, ExpiresInDays: 1})
			return err
		}},
		{"RevokeAPIToken", func(s *keel.Session) error { return e.svc.RevokeAPIToken(ctx, s.User, s.User.ID, s.ID) }},
		{"ChangePassword", func(s *keel.Session) error {
			return e.svc.ChangePassword(ctx, s, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "a brand new passphrase"})
		}},
		{"UpdateMe of the email", func(s *keel.Session) error {
			_, err := e.svc.UpdateMe(ctx, s.User, keel.UpdateMeInput{Email: keel.Some("root2@example.com")})
			return err
		}},
		{"UpdateUser of another's email", func(s *keel.Session) error {
			_, err := e.svc.UpdateUser(ctx, s.User, other.ID, keel.UpdateUserInput{Email: keel.Some("bob2@example.com")})
			return err
		}},
		{"UpdateUser of another's password", func(s *keel.Session) error {
			_, err := e.svc.UpdateUser(ctx, s.User, other.ID, keel.UpdateUserInput{Password: keel.Some("a brand new passphrase")})
			return err
		}},
		{"UpdateUser deactivating another", func(s *keel.Session) error {
			_, err := e.svc.UpdateUser(ctx, s.User, other.ID, keel.UpdateUserInput{IsActive: keel.Some(false)})
			return err
		}},
		{"DeleteUser", func(s *keel.Session) error { return e.svc.DeleteUser(ctx, s.User, other.ID) }},
		{"Logout", func(s *keel.Session) error { return e.svc.Logout(ctx, s.Token) }},
		{"LogoutAll", func(s *keel.Session) error { return e.svc.LogoutAll(ctx, s.User) }},
		{"EndSession of its own user's", func(s *keel.Session) error { return e.svc.EndSession(ctx, s.User, s.User.ID, rootSess.ID) }},
		{"EndSession of another's", func(s *keel.Session) error { return e.svc.EndSession(ctx, s.User, other.ID, otherSess.ID) }},
		{"EndOtherSessions", func(s *keel.Session) error { _, err := e.svc.EndOtherSessions(ctx, s); return err }},
	}
	reads := []struct {
		name string
		call func(s *keel.Session) error
	}{
		{"Item", func(s *keel.Session) error { _, err := e.svc.Item(ctx, s.User, item.ID); return err }},
		{"Items", func(s *keel.Session) error { _, _, err := e.svc.Items(ctx, s.User, keel.ListOptions{}); return err }},
		{"User", func(s *keel.Session) error { _, err := e.svc.User(ctx, s.User, other.ID); return err }},
		{"Users", func(s *keel.Session) error { _, _, err := e.svc.Users(ctx, s.User, keel.ListOptions{}); return err }},
		{"Sessions", func(s *keel.Session) error { _, err := e.svc.Sessions(ctx, s, other.ID); return err }},
		{"APITokens", func(s *keel.Session) error { _, err := e.svc.APITokens(ctx, s.User, root.ID); return err }},
	}

	read := e.tokenSession(t, e.newToken(t, rootSess, keel.ScopeRead).Token)
	full := e.tokenSession(t, e.newToken(t, rootSess, keel.ScopeFull).Token)
	for _, w := range writes {
		t.Run("a read-only token cannot "+w.name, func(t *testing.T) {
			wantErr(t, w.call(read.User), keel.ErrReadOnlyToken)
		})
	}
	for _, c := range credentials {
		t.Run("a read-only token cannot "+c.name, func(t *testing.T) {
			if err := c.call(read); !errors.Is(err, keel.ErrSessionRequired) && !errors.Is(err, keel.ErrReadOnlyToken) {
				t.Fatalf("err = %v, want a refusal of the token", err)
			}
		})
		t.Run("a full token cannot "+c.name, func(t *testing.T) {
			wantErr(t, c.call(full), keel.ErrSessionRequired)
		})
	}
	for _, r := range reads {
		t.Run("a read-only token can "+r.name, func(t *testing.T) {
			if err := r.call(read); err != nil {
				t.Fatal(err)
			}
		})
	}
	// Nothing above changed anything.
	if got, err := e.svc.Item(ctx, rootSess.User, item.ID); err != nil || got.Title != "mine" {
		t.Fatalf("the item = %+v, %v", got, err)
	}
	for _, s := range []*keel.Session{rootSess, otherSess} {
		if _, err := e.svc.Authenticate(ctx, s.Token); err != nil {
			t.Fatalf("a session ended by a refused call: %v", err)
		}
	}
	for _, w := range writes {
		t.Run("a full token can "+w.name, func(t *testing.T) {
			if err := w.call(full.User); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("the same calls with a session manage credentials", func(t *testing.T) {
		if _, err := e.svc.CreateAPIToken(ctx, rootSess.User, keel.CreateAPITokenInput{Name: "more", Scope: keel.ScopeFull, ExpiresInDays: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.EndOtherSessions(ctx, rootSess); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAPITokenRevocation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ada := e.signUp(t, "ada@example.com")
	e.signUp(t, "bob@example.com")
	root := e.superuser(t, "root@example.com")
	adaSess := e.login(t, "ada@example.com", goodPassword)
	bobSess := e.login(t, "bob@example.com", goodPassword)
	rootSess := e.login(t, "root@example.com", goodPassword)

	t.Run("a revoked token stops working at once", func(t *testing.T) {
		tok := e.newToken(t, adaSess, keel.ScopeFull)
		if err := e.svc.RevokeAPIToken(ctx, adaSess.User, ada.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Authenticate(ctx, tok.Token)
		wantErr(t, err, keel.ErrInvalidCredentials)
		wantErr(t, e.svc.RevokeAPIToken(ctx, adaSess.User, ada.ID, tok.ID), keel.ErrAPITokenNotFound)
	})
	t.Run("another user's token cannot be revoked, listed or named as one's own", func(t *testing.T) {
		tok := e.newToken(t, adaSess, keel.ScopeFull)
		wantErr(t, e.svc.RevokeAPIToken(ctx, bobSess.User, bobSess.User.ID, tok.ID), keel.ErrAPITokenNotFound)
		wantErr(t, e.svc.RevokeAPIToken(ctx, bobSess.User, ada.ID, tok.ID), keel.ErrNotSuperuser)
		_, err := e.svc.APITokens(ctx, bobSess.User, ada.ID)
		wantErr(t, err, keel.ErrNotSuperuser)
		e.tokenSession(t, tok.Token)
	})
	t.Run("a superuser lists and revokes anyone's token", func(t *testing.T) {
		tok := e.newToken(t, adaSess, keel.ScopeRead)
		listed, err := e.svc.APITokens(ctx, rootSess.User, ada.ID)
		if err != nil || len(listed) == 0 {
			t.Fatalf("APITokens = %v, %v", listed, err)
		}
		if err := e.svc.RevokeAPIToken(ctx, rootSess.User, ada.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Authenticate(ctx, tok.Token)
		wantErr(t, err, keel.ErrInvalidCredentials)
		_, err = e.svc.APITokens(ctx, rootSess.User, uuid.New())
		wantErr(t, err, keel.ErrUserNotFound)
	})
	t.Run("an expired token stops working", func(t *testing.T) {
		tok, err := e.svc.CreateAPIToken(ctx, adaSess.User, keel.CreateAPITokenInput{Name: "day", Scope: keel.ScopeRead, ExpiresInDays: 1})
		if err != nil {
			t.Fatal(err)
		}
		e.tokenSession(t, tok.Token)
		e.clock.Advance(24 * time.Hour)
		defer e.clock.Advance(-24 * time.Hour)
		_, err = e.svc.Authenticate(ctx, tok.Token)
		wantErr(t, err, keel.ErrInvalidCredentials)
	})
	t.Run("a token altered in any character is refused", func(t *testing.T) {
		tok := e.newToken(t, adaSess, keel.ScopeFull)
		for _, bad := range []string{
			tok.Token[:len(tok.Token)-1],
			tok.Token + "x",
			tok.Token[:20] + flip(tok.Token[20]) + tok.Token[21:],
			tok.Token[:len(tok.Token)-1] + flip(tok.Token[len(tok.Token)-1]),
			keel.APITokenPrefix,
		} {
			_, err := e.svc.Authenticate(ctx, bad)
			wantErr(t, err, keel.ErrInvalidCredentials)
		}
	})
	_ = root
}

// TestWhatEndsAPITokens checks the documented policy: a new password and a
// deactivation revoke every token of the user; ending sessions does not.
func TestWhatEndsAPITokens(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		act     func(t *testing.T, e *env, sess, root *keel.Session)
		revokes bool
	}{
		{"a password change revokes them", func(t *testing.T, e *env, sess, _ *keel.Session) {
			err := e.svc.ChangePassword(ctx, sess, keel.ChangePasswordInput{CurrentPassword: goodPassword, NewPassword: "a brand new passphrase"})
			if err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a reset revokes them", func(t *testing.T, e *env, sess, _ *keel.Session) {
			if err := e.svc.RequestPasswordReset(ctx, keel.RecoveryInput{Email: sess.User.Email}); err != nil {
				t.Fatal(err)
			}
			m := e.mail.WaitReset(t)
			if err := e.svc.ResetPassword(ctx, keel.ResetPasswordInput{Token: m.Token, NewPassword: "a brand new passphrase"}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a superuser setting the password revokes them", func(t *testing.T, e *env, sess, root *keel.Session) {
			if _, err := e.svc.UpdateUser(ctx, root.User, sess.User.ID, keel.UpdateUserInput{Password: keel.Some("a brand new passphrase")}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a deactivation revokes them, and a reactivation does not bring them back", func(t *testing.T, e *env, sess, root *keel.Session) {
			for _, active := range []bool{false, true} {
				if _, err := e.svc.UpdateUser(ctx, root.User, sess.User.ID, keel.UpdateUserInput{IsActive: keel.Some(active)}); err != nil {
					t.Fatal(err)
				}
			}
		}, true},
		{"deleting the user deletes them", func(t *testing.T, e *env, sess, root *keel.Session) {
			if err := e.svc.DeleteUser(ctx, root.User, sess.User.ID); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"logging out of every session leaves them", func(t *testing.T, e *env, sess, _ *keel.Session) {
			if err := e.svc.LogoutAll(ctx, sess.User); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"ending the other sessions leaves them", func(t *testing.T, e *env, sess, _ *keel.Session) {
			if _, err := e.svc.EndOtherSessions(ctx, sess); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a change of name leaves them", func(t *testing.T, e *env, sess, _ *keel.Session) {
			if _, err := e.svc.UpdateMe(ctx, sess.User, keel.UpdateMeInput{FullName: keel.Some(ptr("Ada"))}); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.signUp(t, "ada@example.com")
			e.superuser(t, "root@example.com")
			sess := e.login(t, "ada@example.com", goodPassword)
			root := e.login(t, "root@example.com", goodPassword)
			toks := []*keel.NewAPIToken{e.newToken(t, sess, keel.ScopeRead), e.newToken(t, sess, keel.ScopeFull)}
			tt.act(t, e, sess, root)
			for _, tok := range toks {
				_, err := e.svc.Authenticate(ctx, tok.Token)
				switch {
				case tt.revokes:
					wantErr(t, err, keel.ErrInvalidCredentials)
				case err != nil:
					t.Fatalf("the token stopped working: %v", err)
				}
			}
		})
	}

	t.Run("a user deactivated behind keel's back is refused with its token", func(t *testing.T) {
		e := newEnv(t)
		u := e.signUp(t, "ada@example.com")
		tok := e.newToken(t, e.login(t, "ada@example.com", goodPassword), keel.ScopeFull)
		u.IsActive = false
		if err := e.store.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Authenticate(ctx, tok.Token)
		wantErr(t, err, keel.ErrInactiveUser)
	})
}

func TestCreateAPITokenValidates(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *keel.Config) { c.MaxAPITokenLifetime = 90 * 24 * time.Hour })
	e.signUp(t, "ada@example.com")
	sess := e.login(t, "ada@example.com", goodPassword)
	tests := []struct {
		name      string
		in        keel.CreateAPITokenInput
		field     string
		violation keel.Violation
		bound     int
	}{
		{"an empty name is too short", keel.CreateAPITokenInput{Scope: keel.ScopeRead, ExpiresInDays: 1}, "name", keel.TooShort, 1},
		{"a name over 100 characters is too long", keel.CreateAPITokenInput{Name: strings.Repeat("é", 101), Scope: keel.ScopeRead, ExpiresInDays: 1}, "name", keel.TooLong, 100},
		{"a name with a NUL has a control character", keel.CreateAPITokenInput{Name: "ci\x00", Scope: keel.ScopeRead, ExpiresInDays: 1}, "name", keel.ControlCharacter, 0},
		{"a name of invalid UTF-8 is not UTF-8", keel.CreateAPITokenInput{Name: "ci\xff", Scope: keel.ScopeRead, ExpiresInDays: 1}, "name", keel.NotUTF8, 0},
		{"a missing scope is required", keel.CreateAPITokenInput{Name: "ci", ExpiresInDays: 1}, "scope", keel.Required, 0},
		{"an unknown scope is malformed", keel.CreateAPITokenInput{Name: "ci", Scope: "admin", ExpiresInDays: 1}, "scope", keel.Malformed, 0},
		{"no expiry is too small", keel.CreateAPITokenInput{Name: "ci", Scope: keel.ScopeRead}, "expires_in_days", keel.TooSmall, 1},
		{"an expiry past the configured maximum is too large", keel.CreateAPITokenInput{Name: "ci", Scope: keel.ScopeRead, ExpiresInDays: 91}, "expires_in_days", keel.TooLarge, 90},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.CreateAPIToken(ctx, sess.User, tt.in)
			var ke *keel.Error
			if !errorsAs(err, &ke) || ke.Code != keel.Invalid || len(ke.Fields) != 1 {
				t.Fatalf("err = %v, want one failing field", err)
			}
			if f := ke.Fields[0]; f.Field != tt.field || f.Violation != tt.violation || f.Bound != tt.bound {
				t.Errorf("field error = %+v, want %s %v %d", f, tt.field, tt.violation, tt.bound)
			}
		})
	}
	listed, err := e.svc.APITokens(ctx, sess.User, sess.User.ID)
	if err != nil || len(listed) != 0 {
		t.Fatalf("refused tokens were made: %v, %v", listed, err)
	}
	if _, err := e.svc.CreateAPIToken(ctx, sess.User, keel.CreateAPITokenInput{Name: "ci", Scope: keel.ScopeRead, ExpiresInDays: 90}); err != nil {
		t.Fatalf("the longest lifetime allowed: %v", err)
	}
}

func TestAUserHasAtMostMaxAPITokens(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.signUp(t, "ada@example.com")
	sess := e.login(t, "ada@example.com", goodPassword)
	var last *keel.NewAPIToken
	for range keel.MaxAPITokensPerUser {
		last = e.newToken(t, sess, keel.ScopeRead)
	}
	_, err := e.svc.CreateAPIToken(ctx, sess.User, keel.CreateAPITokenInput{Name: "one more", Scope: keel.ScopeRead, ExpiresInDays: 1})
	wantErr(t, err, keel.ErrTooManyAPITokens)
	if err := e.svc.RevokeAPIToken(ctx, sess.User, sess.User.ID, last.ID); err != nil {
		t.Fatal(err)
	}
	e.newToken(t, sess, keel.ScopeRead)
}

func TestAPITokenLastUsedIsWrittenAtMostOnceAMinute(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cs := &keeltest.CountingStore{Store: e.store}
	svc, err := keel.New(cs, keel.Config{Argon2: cheap, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.signUp(t, "ada@example.com")
	sess := e.login(t, "ada@example.com", goodPassword)
	tok := e.newToken(t, sess, keel.ScopeRead)
	lastUsed := func() time.Time {
		listed, err := e.svc.APITokens(ctx, sess.User, sess.User.ID)
		if err != nil || len(listed) != 1 {
			t.Fatalf("APITokens = %v, %v", listed, err)
		}
		return listed[0].LastUsedAt
	}
	if !lastUsed().IsZero() {
		t.Fatal("a new token has been used")
	}
	steps := []struct {
		name    string
		advance time.Duration
		writes  int
	}{
		{"the first use is written", 0, 1},
		{"a use 59 seconds later is not", 59 * time.Second, 0},
		{"a use a minute after the write is", time.Second, 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			e.clock.Advance(st.advance)
			cs.Reset()
			if _, err := svc.Authenticate(ctx, tok.Token); err != nil {
				t.Fatal(err)
			}
			if got := cs.Get("TouchAPIToken"); got != st.writes {
				t.Errorf("TouchAPIToken ran %d times, want %d", got, st.writes)
			}
			if got := cs.Get("FindAPIToken"); got != 1 {
				t.Errorf("FindAPIToken ran %d times, want 1", got)
			}
			if st.writes > 0 && !lastUsed().Equal(e.clock.Now().UTC().Truncate(time.Microsecond)) {
				t.Errorf("LastUsedAt = %v, want %v", lastUsed(), e.clock.Now())
			}
		})
	}
}
