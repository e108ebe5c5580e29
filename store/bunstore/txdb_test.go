package bunstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/keel-dev/keel"
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
