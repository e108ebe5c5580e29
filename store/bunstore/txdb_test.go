package bunstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/store/bunstore"
	"github.com/keel-dev/keel/store/memstore"
)

// profile is a host program's row, owned by a keel user.
type profile struct {
	bun.BaseModel `bun:"table:profiles"`

	UserID uuid.UUID `bun:"user_id,pk"`
	Bio    string    `bun:"bio"`
}

// createProfiles adds the host's table beside keel's, with a foreign key
// to keel's users that deletes a user's profile with the user.
func createProfiles(t *testing.T, s *bunstore.Store) {
	t.Helper()
	idType := "TEXT"
	if s.Dialect() == dialect.PG {
		idType = "uuid"
	}
	_, err := s.DB().ExecContext(t.Context(), `CREATE TABLE profiles (
		user_id `+idType+` PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
		bio     TEXT NOT NULL CHECK (bio <> ''))`)
	if err != nil {
		t.Fatal(err)
	}
}

func newUser(email string) *keel.User {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return &keel.User{ID: uuid.Must(uuid.NewV7()), Email: email, IsActive: true,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA", PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
}

func TestTxDB(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			d.available(t)
			s := open(t, d.url(t))
			createProfiles(t, s)
			ctx := t.Context()
			profiles := func(id uuid.UUID) int {
				t.Helper()
				n, err := s.DB().NewSelect().Model((*profile)(nil)).Where("user_id = ?", id).Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return int(n)
			}
			// inTx creates u through keel's Tx and its profile through
			// TxDB, in one transaction, then returns fail.
			inTx := func(u *keel.User, bio string, fail error) error {
				return s.InTx(ctx, func(tx keel.Tx) error {
					if err := tx.CreateUser(ctx, u); err != nil {
						return err
					}
					db, ok := bunstore.TxDB(tx)
					if !ok {
						return errors.New("TxDB did not find the transaction")
					}
					if _, err := db.NewInsert().Model(&profile{UserID: u.ID, Bio: bio}).Exec(ctx); err != nil {
						return err
					}
					return fail
				})
			}

			t.Run("the user and the host's row commit together", func(t *testing.T) {
				u := newUser("ada@example.com")
				if err := inTx(u, "engines", nil); err != nil {
					t.Fatal(err)
				}
				if _, err := s.User(ctx, u.ID); err != nil || profiles(u.ID) != 1 {
					t.Fatalf("user %v, %d profiles; want both", err, profiles(u.ID))
				}
				t.Run("and deleting the user deletes its row", func(t *testing.T) {
					if err := s.DeleteUser(ctx, u.ID); err != nil {
						t.Fatal(err)
					}
					if n := profiles(u.ID); n != 0 {
						t.Fatalf("%d profiles left", n)
					}
				})
			})
			t.Run("a failure after both writes leaves neither", func(t *testing.T) {
				u := newUser("bob@example.com")
				veto := errors.New("vetoed")
				if err := inTx(u, "bio", veto); !errors.Is(err, veto) {
					t.Fatalf("InTx = %v, want the veto", err)
				}
				if _, err := s.User(ctx, u.ID); keel.ErrorCode(err) != keel.NotFound || profiles(u.ID) != 0 {
					t.Fatalf("user %v, %d profiles; want neither", err, profiles(u.ID))
				}
			})
			t.Run("a failing write of the host's leaves no user", func(t *testing.T) {
				u := newUser("carol@example.com")
				if err := inTx(u, "", nil); err == nil { // the CHECK refuses an empty bio
					t.Fatal("the host's insert did not fail")
				}
				if _, err := s.User(ctx, u.ID); keel.ErrorCode(err) != keel.NotFound {
					t.Fatalf("User = %v, want NotFound", err)
				}
			})
			t.Run("a Store is no transaction", func(t *testing.T) {
				if _, ok := bunstore.TxDB(s); ok {
					t.Fatal("TxDB accepted the Store itself")
				}
			})
			t.Run("another store's Tx is not bunstore's", func(t *testing.T) {
				err := memstore.New().InTx(ctx, func(tx keel.Tx) error {
					if _, ok := bunstore.TxDB(tx); ok {
						return errors.New("TxDB accepted a memstore Tx")
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestHostRowsInKeelsTransaction runs keel's Service on each database with
// a before hook that writes a profile row of the program's own through
// TxDB, and with Service.InTx.
func TestHostRowsInKeelsTransaction(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			d.available(t)
			s := open(t, d.url(t))
			createProfiles(t, s)
			var svc *keel.Service
			svc, err := keel.New(s, keel.Config{Argon2: keeltest.CheapArgon2, Hooks: keel.Hooks{
				Before: []keel.BeforeHook{func(ctx context.Context, tx keel.Tx, e keel.Event) error {
					if e.Kind != keel.EventSignedUp {
						return nil
					}
					db, ok := bunstore.TxDB(tx)
					if !ok {
						return errors.New("no bun transaction")
					}
					bio := "new here"
					if strings.HasPrefix(e.Email, "nobio") {
						bio = "" // the CHECK constraint refuses it
					}
					if _, err := db.NewInsert().Model(&profile{UserID: e.UserID, Bio: bio}).Exec(ctx); err != nil {
						return err
					}
					// A keel call from the hook joins the transaction: on
					// SQLite, whose one writer the transaction holds, it
					// would otherwise wait forever.
					_, err := svc.CreateItem(ctx, e.User, keel.CreateItemInput{Title: "first note"})
					return err
				}},
			}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { svc.Close(context.Background()) })
			ctx := t.Context()
			profiles := func() int {
				n, err := s.DB().NewSelect().Model((*profile)(nil)).Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return int(n)
			}
			userCount := func() int {
				_, n, err := s.ListUsers(ctx, keel.Page{Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				return n
			}

			t.Run("a sign-up commits the user, the hook's row and its keel call together", func(t *testing.T) {
				u, err := svc.SignUp(ctx, keel.SignUpInput{Email: "ada@example.com", Password: "correct horse battery"})
				if err != nil {
					t.Fatal(err)
				}
				_, items, _ := s.ListItems(ctx, keel.ItemFilter{OwnerID: u.ID}, keel.Page{Limit: 1})
				if profiles() != 1 || items != 1 {
					t.Fatalf("%d profiles, %d items", profiles(), items)
				}
			})
			t.Run("a failing write of the hook's leaves no user behind", func(t *testing.T) {
				_, err := svc.SignUp(ctx, keel.SignUpInput{Email: "nobio@example.com", Password: "correct horse battery"})
				if keel.ErrorCode(err) != keel.Internal {
					t.Fatalf("SignUp = %v, want Internal", err)
				}
				if _, err := s.UserByEmail(ctx, "nobio@example.com"); keel.ErrorCode(err) != keel.NotFound {
					t.Fatalf("the user was left behind: %v", err)
				}
				if profiles() != 1 {
					t.Fatalf("%d profiles", profiles())
				}
			})
			t.Run("concurrent sign-ups neither deadlock nor lose a row", func(t *testing.T) {
				before := userCount()
				var wg sync.WaitGroup
				errs := make(chan error, 8)
				for i := range 8 {
					wg.Go(func() {
						_, err := svc.SignUp(ctx, keel.SignUpInput{Email: fmt.Sprintf("user%d@example.com", i), Password: "correct horse battery"})
						errs <- err
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
				if got := userCount() - before; got != 8 || profiles() != 9 {
					t.Fatalf("%d new users, %d profiles; want 8 and 9", got, profiles())
				}
			})
			t.Run("Service.InTx commits the program's work and keel's calls together, or neither", func(t *testing.T) {
				before := userCount()
				failed := errors.New("the program changed its mind")
				err := svc.InTx(ctx, func(ctx context.Context, tx keel.Tx) error {
					u, err := svc.SignUp(ctx, keel.SignUpInput{Email: "grace@example.com", Password: "correct horse battery"})
					if err != nil {
						return err
					}
					db, _ := bunstore.TxDB(tx)
					if _, err := db.NewUpdate().Model((*profile)(nil)).Set("bio = ?", "compilers").Where("user_id = ?", u.ID).Exec(ctx); err != nil {
						return err
					}
					return failed
				})
				if !errors.Is(err, failed) {
					t.Fatalf("InTx = %v", err)
				}
				if userCount() != before {
					t.Fatal("the rolled-back sign-up left a user")
				}
				err = svc.InTx(ctx, func(ctx context.Context, tx keel.Tx) error {
					_, err := svc.SignUp(ctx, keel.SignUpInput{Email: "grace@example.com", Password: "correct horse battery"})
					return err
				})
				if err != nil || userCount() != before+1 {
					t.Fatalf("InTx = %v, %d users (want %d)", err, userCount(), before+1)
				}
			})
		})
	}
}
