package keel_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
)

func TestSignUpValidation(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("é", 128) // 128 code points, 256 bytes
	tests := []struct {
		name      string
		in        keel.SignUpInput
		badFields []string
	}{
		{"a good email and password are accepted", keel.SignUpInput{Email: "ada@example.com", Password: goodPassword}, nil},
		{"a 128-code-point password is accepted though it is 256 bytes", keel.SignUpInput{Email: "ada@example.com", Password: long}, nil},
		{"a malformed email is refused", keel.SignUpInput{Email: "ada", Password: goodPassword}, []string{"email"}},
		{"an empty email is refused", keel.SignUpInput{Email: "", Password: goodPassword}, []string{"email"}},
		{"an email over 255 characters is refused", keel.SignUpInput{Email: strings.Repeat("a", 250) + "@example.com", Password: goodPassword}, []string{"email"}},
		{"a 7-character password is refused", keel.SignUpInput{Email: "ada@example.com", Password: "abcdefg"}, []string{"password"}},
		{"a 129-code-point password is refused, never truncated", keel.SignUpInput{Email: "ada@example.com", Password: long + "x"}, []string{"password"}},
		{"a common password is refused", keel.SignUpInput{Email: "ada@example.com", Password: "password1"}, []string{"password"}},
		{"a common password is refused whatever its case", keel.SignUpInput{Email: "ada@example.com", Password: "PassWord1"}, []string{"password"}},
		{"the template's placeholder password is refused", keel.SignUpInput{Email: "ada@example.com", Password: "changethis"}, []string{"password"}},
		{"a full name over 255 characters is refused", keel.SignUpInput{Email: "ada@example.com", Password: goodPassword, FullName: ptr(strings.Repeat("n", 256))}, []string{"full_name"}},
		{"every failing field is reported at once", keel.SignUpInput{Email: "x", Password: "x"}, []string{"email", "password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u, err := e.svc.SignUp(ctx, tt.in)
			if tt.badFields == nil {
				if err != nil {
					t.Fatal(err)
				}
				if u.IsSuperuser || !u.IsActive || u.PasswordHash == tt.in.Password {
					t.Fatalf("user = %+v", u)
				}
				return
			}
			wantCode(t, err, keel.Invalid)
			var ke *keel.Error
			errorsAs(err, &ke)
			var got []string
			for _, f := range ke.Fields {
				got = append(got, f.Field)
				if f.Message == "" || f.Violation == 0 {
					t.Errorf("field error without message or violation: %+v", f)
				}
				if f.Field == "password" && f.Value != nil {
					t.Errorf("a password was echoed in an error: %+v", f)
				}
				if strings.Contains(err.Error(), tt.in.Password) {
					t.Errorf("the password appears in the error text: %v", err)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.badFields, ",") {
				t.Fatalf("fields = %v, want %v", got, tt.badFields)
			}
		})
	}
}

func TestSignUpStoresANormalisedEmailAndAnArgon2idHash(t *testing.T) {
	e := newEnv(t)
	u, err := e.svc.SignUp(context.Background(), keel.SignUpInput{Email: "  Ada@Example.COM ", Password: goodPassword, FullName: ptr("Ada")})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ada@example.com" || *u.FullName != "Ada" {
		t.Fatalf("user = %+v", u)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash = %s", u.PasswordHash)
	}
	if u.ID.Version() != 7 {
		t.Fatalf("id %s is not a UUIDv7", u.ID)
	}
}

func TestEmailsAreUniqueIgnoringCase(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.signUp(t, "ada@example.com")
	_, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: "ADA@example.com", Password: goodPassword})
	wantErr(t, err, keel.ErrEmailTaken)
	wantCode(t, err, keel.Conflict)
}

func TestConcurrentSignUpsWithOneEmailMakeOneAccount(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var ok, conflict atomic.Int32
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := "ada@example.com"
			if i%2 == 0 {
				email = "ADA@example.com"
			}
			_, err := e.svc.SignUp(ctx, keel.SignUpInput{Email: email, Password: goodPassword})
			switch keel.ErrorCode(err) {
			case keel.Conflict:
				conflict.Add(1)
			default:
				if err == nil {
					ok.Add(1)
				} else {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != 49 {
		t.Fatalf("ok = %d, conflict = %d", ok.Load(), conflict.Load())
	}
}

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.superuser(t, "root@example.com")
	ada := e.signUp(t, "ada@example.com")

	t.Run("a superuser may set the flags", func(t *testing.T) {
		u, err := e.svc.CreateUser(ctx, root, keel.CreateUserInput{Email: "admin2@example.com", Password: goodPassword, IsSuperuser: true, IsActive: ptr(false)})
		if err != nil {
			t.Fatal(err)
		}
		if !u.IsSuperuser || u.IsActive {
			t.Fatalf("user = %+v", u)
		}
	})
	t.Run("a user is active unless told otherwise", func(t *testing.T) {
		u, err := e.svc.CreateUser(ctx, root, keel.CreateUserInput{Email: "plain@example.com", Password: goodPassword})
		if err != nil || !u.IsActive || u.IsSuperuser {
			t.Fatalf("user = %+v, %v", u, err)
		}
	})
	t.Run("an ordinary user may not", func(t *testing.T) {
		_, err := e.svc.CreateUser(ctx, ada, keel.CreateUserInput{Email: "x@example.com", Password: goodPassword})
		wantErr(t, err, keel.ErrNotSuperuser)
	})
	t.Run("nobody may without an actor", func(t *testing.T) {
		_, err := e.svc.CreateUser(ctx, nil, keel.CreateUserInput{Email: "x@example.com", Password: goodPassword})
		wantErr(t, err, keel.ErrNotAuthenticated)
	})
	t.Run("a taken email is a conflict", func(t *testing.T) {
		_, err := e.svc.CreateUser(ctx, root, keel.CreateUserInput{Email: "Ada@example.com", Password: goodPassword})
		wantErr(t, err, keel.ErrEmailTaken)
	})
}

func TestReadUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.superuser(t, "root@example.com")
	ada := e.signUp(t, "ada@example.com")
	bob := e.signUp(t, "bob@example.com")
	tests := []struct {
		name  string
		actor *keel.User
		id    uuid.UUID
		want  error
	}{
		{"a user reads itself", ada, ada.ID, nil},
		{"a user may not read another", ada, bob.ID, keel.ErrNotSuperuser},
		{"a superuser reads anyone", root, bob.ID, nil},
		{"a missing user is not found", root, uuid.Must(uuid.NewV7()), keel.ErrUserNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := e.svc.User(ctx, tt.actor, tt.id)
			if tt.want != nil {
				wantErr(t, err, tt.want)
				return
			}
			if err != nil || u.ID != tt.id {
				t.Fatalf("User = %v, %v", u, err)
			}
		})
	}
}

func TestListUsers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.superuser(t, "root@example.com")
	var emails []string
	for i := range 5 {
		e.clock.Advance(time.Second)
		email := string(rune('a'+i)) + "@example.com"
		e.signUp(t, email)
		emails = append(emails, email)
	}
	users, n, err := e.svc.Users(ctx, root, keel.ListOptions{Skip: 1, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 || len(users) != 2 || users[0].Email != emails[3] || users[1].Email != emails[2] {
		t.Fatalf("n = %d, users = %v", n, users)
	}
	all, _, err := e.svc.Users(ctx, root, keel.ListOptions{})
	if err != nil || len(all) != 6 {
		t.Fatalf("default page: %d users, %v", len(all), err)
	}
	for _, tt := range []struct {
		name string
		opts keel.ListOptions
	}{
		{"a negative skip is invalid", keel.ListOptions{Skip: -1}},
		{"a negative limit is invalid", keel.ListOptions{Limit: -1}},
		{"a limit over the maximum is invalid", keel.ListOptions{Limit: 101}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.svc.Users(ctx, root, tt.opts)
			wantCode(t, err, keel.Invalid)
		})
	}
	t.Run("an ordinary user may not list users", func(t *testing.T) {
		ada, _ := e.store.UserByEmail(ctx, "a@example.com")
		_, _, err := e.svc.Users(ctx, ada, keel.ListOptions{})
		wantErr(t, err, keel.ErrNotSuperuser)
	})
}

func TestUpdateMe(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ada := e.signUp(t, "ada@example.com")
	e.signUp(t, "bob@example.com")

	t.Run("absent fields stay", func(t *testing.T) {
		u, err := e.svc.UpdateMe(ctx, ada, keel.UpdateMeInput{FullName: keel.Some(ptr("Ada L"))})
		if err != nil || u.Email != "ada@example.com" || *u.FullName != "Ada L" {
			t.Fatalf("%+v, %v", u, err)
		}
	})
	t.Run("a null full name clears it", func(t *testing.T) {
		u, err := e.svc.UpdateMe(ctx, ada, keel.UpdateMeInput{FullName: keel.Some[*string](nil)})
		if err != nil || u.FullName != nil {
			t.Fatalf("%+v, %v", u, err)
		}
	})
	t.Run("the email is normalised", func(t *testing.T) {
		u, err := e.svc.UpdateMe(ctx, ada, keel.UpdateMeInput{Email: keel.Some(" ADA2@example.com")})
		if err != nil || u.Email != "ada2@example.com" {
			t.Fatalf("%+v, %v", u, err)
		}
	})
	t.Run("another user's email is a conflict", func(t *testing.T) {
		_, err := e.svc.UpdateMe(ctx, ada, keel.UpdateMeInput{Email: keel.Some("BOB@example.com")})
		wantErr(t, err, keel.ErrEmailTaken)
	})
	t.Run("an empty email is invalid", func(t *testing.T) {
		_, err := e.svc.UpdateMe(ctx, ada, keel.UpdateMeInput{Email: keel.Some("")})
		wantCode(t, err, keel.Invalid)
	})
	t.Run("the flags cannot be set through it", func(t *testing.T) {
		// UpdateMeInput has no flag fields: mass assignment is impossible by type.
		u, _ := e.store.User(ctx, ada.ID)
		if u.IsSuperuser || !u.IsActive {
			t.Fatalf("%+v", u)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.superuser(t, "root@example.com")
	ada := e.signUp(t, "ada@example.com")
	e.signUp(t, "bob@example.com")

	t.Run("a superuser changes any field", func(t *testing.T) {
		u, err := e.svc.UpdateUser(ctx, root, ada.ID, keel.UpdateUserInput{
			Email: keel.Some("ada.l@example.com"), FullName: keel.Some(ptr("Ada")), IsSuperuser: keel.Some(true),
			Password: keel.Some("a different password"),
		})
		if err != nil || u.Email != "ada.l@example.com" || !u.IsSuperuser || *u.FullName != "Ada" {
			t.Fatalf("%+v, %v", u, err)
		}
		e.login(t, "ada.l@example.com", "a different password")
	})
	t.Run("a missing user is not found", func(t *testing.T) {
		_, err := e.svc.UpdateUser(ctx, root, uuid.Must(uuid.NewV7()), keel.UpdateUserInput{FullName: keel.Some(ptr("x"))})
		wantErr(t, err, keel.ErrUserNotFound)
	})
	t.Run("a taken email is a conflict", func(t *testing.T) {
		_, err := e.svc.UpdateUser(ctx, root, ada.ID, keel.UpdateUserInput{Email: keel.Some("bob@example.com")})
		wantErr(t, err, keel.ErrEmailTaken)
	})
	t.Run("a weak password is invalid", func(t *testing.T) {
		_, err := e.svc.UpdateUser(ctx, root, ada.ID, keel.UpdateUserInput{Password: keel.Some("short")})
		wantCode(t, err, keel.Invalid)
	})
	t.Run("an ordinary user may not", func(t *testing.T) {
		bob, _ := e.store.UserByEmail(ctx, "bob@example.com")
		_, err := e.svc.UpdateUser(ctx, bob, bob.ID, keel.UpdateUserInput{IsSuperuser: keel.Some(true)})
		wantErr(t, err, keel.ErrNotSuperuser)
	})
}

func TestDeleteUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	root := e.superuser(t, "root@example.com")
	ada := e.signUp(t, "ada@example.com")
	bob := e.signUp(t, "bob@example.com")
	item, err := e.svc.CreateItem(ctx, ada, keel.CreateItemInput{Title: "ada's"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a superuser may not delete itself", func(t *testing.T) {
		wantErr(t, e.svc.DeleteUser(ctx, root, root.ID), keel.ErrDeleteSelf)
	})
	t.Run("a user may not delete another", func(t *testing.T) {
		wantErr(t, e.svc.DeleteUser(ctx, bob, ada.ID), keel.ErrNotSuperuser)
	})
	t.Run("a user deletes itself and its items go with it", func(t *testing.T) {
		if err := e.svc.DeleteUser(ctx, ada, ada.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Item(ctx, item.ID); keel.ErrorCode(err) != keel.NotFound {
			t.Fatalf("item survived: %v", err)
		}
	})
	t.Run("a superuser deletes another user", func(t *testing.T) {
		if err := e.svc.DeleteUser(ctx, root, bob.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, e.svc.DeleteUser(ctx, root, bob.ID), keel.ErrUserNotFound)
	})
}

func TestCheckPassword(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name     string
		password string
		ok       bool
	}{
		{"a long unusual password passes", goodPassword, true},
		{"the README's password passes", "analytical engine", true},
		{"a long passphrase passes", "the quick brown fox jumps over the lazy dog near the river bank", true},
		{"the template's placeholder fails", "changethis", false},
		{"a short password fails", "abc", false},
		{"a 129-character password fails", strings.Repeat("p", 129), false},
		// Near the top of every breach corpus, and past the old list.
		{"a breached password with digits fails", "iloveyou123", false},
		{"a breached password in l33t fails", "P@ssw0rd123", false},
		{"a word and a year fails", "sunshine2020", false},
		{"a capitalised word, a year and a symbol fails", "Password2024!", false},
		{"a keyboard run with digits fails", "qwertyuiop123", false},
		{"a name and digits fails", "jennifer1987", false},
		{"a repeated character fails", "aaaaaaaaaaaa", false},
		{"a long password that starts with a guessable run fails", strings.Repeat("ab", 20) + "Xq7$kP2!vR9#", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := e.svc.CheckPassword(tt.password)
			if tt.ok != (err == nil) {
				t.Fatalf("CheckPassword = %v", err)
			}
			if err != nil {
				wantCode(t, err, keel.Invalid)
			}
		})
	}
}

func TestUpdateMeDoesNotUndoAConcurrentChange(t *testing.T) {
	ctx := context.Background()
	hs := &hookStore{Store: memstore.New()}
	c := newClock()
	svc, err := keel.New(hs, keel.Config{Argon2: cheap, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := svc.Bootstrap(ctx, keel.SignUpInput{Email: "root@example.com", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	ada, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	const newPassword = "a brand new passphrase"
	// While ada renames herself, a superuser deactivates her and sets her
	// password: the rename must not write the old flag and hash back.
	// The change runs between UpdateMe's read and write when that read is
	// outside a transaction (the hook does not fire inside one); otherwise
	// right after UpdateMe. Either way it must stick.
	var once sync.Once
	change := func() {
		once.Do(func() {
			_, err := svc.UpdateUser(ctx, admin, ada.ID, keel.UpdateUserInput{IsActive: keel.Some(false), Password: keel.Some(newPassword)})
			if err != nil {
				t.Errorf("concurrent update: %v", err)
			}
		})
	}
	hs.afterUser = func(id uuid.UUID) {
		if id == ada.ID {
			change()
		}
	}
	if _, err := svc.UpdateMe(ctx, ada, keel.UpdateMeInput{FullName: keel.Some(ptr("Ada L"))}); err != nil {
		t.Fatal(err)
	}
	hs.afterUser = nil
	change()
	u, err := hs.User(ctx, ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.FullName == nil || *u.FullName != "Ada L" {
		t.Errorf("the rename was lost: %v", u.FullName)
	}
	if u.IsActive {
		t.Error("the rename reactivated a user deactivated meanwhile")
	}
	if _, err := svc.Login(ctx, keel.LoginInput{Email: "ada@example.com", Password: goodPassword}); !errors.Is(err, keel.ErrIncorrectLogin) {
		t.Errorf("the old password works again after the rename: %v", err)
	}
}

func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	t.Run("it creates an active superuser who can log in", func(t *testing.T) {
		e := newEnv(t)
		u, err := e.svc.Bootstrap(ctx, keel.SignUpInput{Email: " Root@Example.com ", Password: goodPassword, FullName: ptr("Root")})
		if err != nil {
			t.Fatal(err)
		}
		if !u.IsSuperuser || !u.IsActive || u.Email != "root@example.com" || u.FullName == nil || *u.FullName != "Root" {
			t.Fatalf("user = %+v", u)
		}
		if sess := e.login(t, "root@example.com", goodPassword); !sess.User.IsSuperuser {
			t.Fatal("the session's user is not a superuser")
		}
	})
	t.Run("an existing user with the email is left as it is, never promoted", func(t *testing.T) {
		e := newEnv(t)
		ada := e.signUp(t, "ada@example.com")
		_, err := e.svc.Bootstrap(ctx, keel.SignUpInput{Email: "ADA@example.com", Password: "another long password"})
		wantErr(t, err, keel.ErrEmailTaken)
		got, err := e.store.User(ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.IsSuperuser || got.PasswordHash != ada.PasswordHash {
			t.Fatalf("the existing user changed: %+v", got)
		}
	})
	t.Run("its input is checked like a sign-up's", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.svc.Bootstrap(ctx, keel.SignUpInput{Email: "root@example.com", Password: "password1"})
		wantCode(t, err, keel.Invalid)
	})
	t.Run("of concurrent bootstraps with one email exactly one creates the user", func(t *testing.T) {
		e := newEnv(t)
		var created, taken atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, err := e.svc.Bootstrap(ctx, keel.SignUpInput{Email: "root@example.com", Password: goodPassword})
				switch {
				case err == nil:
					created.Add(1)
				case errors.Is(err, keel.ErrEmailTaken):
					taken.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if created.Load() != 1 || taken.Load() != 7 {
			t.Fatalf("%d created, %d refused", created.Load(), taken.Load())
		}
	})
}
