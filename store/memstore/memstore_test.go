package memstore_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/memstore"
	"github.com/keel-dev/keel/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) keel.Store {
		s := memstore.New()
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}

func TestEmailsAreUniqueWhateverTheirCase(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	u := storetest.NewUser()
	u.Email = "ada@example.com"
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByEmail(ctx, "Ada@Example.COM")
	if err != nil || got.ID != u.ID {
		t.Errorf("UserByEmail in another case = %v, %v; want the user", got, err)
	}
	dup := storetest.NewUser()
	dup.Email = "ADA@example.com"
	if err := s.CreateUser(ctx, dup); keel.ErrorCode(err) != keel.Conflict {
		t.Errorf("CreateUser with the email in another case = %v, want Conflict", err)
	}
	other := storetest.NewUser()
	if err := s.CreateUser(ctx, other); err != nil {
		t.Fatal(err)
	}
	other.Email = "ADA@EXAMPLE.COM"
	if err := s.UpdateUser(ctx, other); keel.ErrorCode(err) != keel.Conflict {
		t.Errorf("UpdateUser to the email in another case = %v, want Conflict", err)
	}
}

func TestACallThatFailsChangesNothing(t *testing.T) {
	// CreateResetToken deletes the user's earlier tokens before it finds
	// the new hash taken: those deletions must be undone, in and out of a
	// transaction.
	for _, inTx := range []bool{false, true} {
		name := "outside a transaction"
		if inTx {
			name = "inside a transaction that goes on and commits"
		}
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			s := memstore.New()
			now := storetest.Now()
			alice, bob := storetest.NewUser(), storetest.NewUser()
			for _, u := range []*keel.User{alice, bob} {
				if err := s.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
			}
			kept := storetest.NewResetToken(alice.ID, now, now.Add(time.Hour))
			bobs := storetest.NewResetToken(bob.ID, now, now.Add(time.Hour))
			for _, tok := range []*keel.ResetToken{kept, bobs} {
				if err := s.CreateResetToken(ctx, tok); err != nil {
					t.Fatal(err)
				}
			}
			clash := storetest.NewResetToken(alice.ID, now, now.Add(time.Hour))
			clash.TokenHash = bobs.TokenHash
			create := func(st keel.Tx) error {
				if err := st.CreateResetToken(ctx, clash); keel.ErrorCode(err) != keel.Conflict {
					t.Errorf("CreateResetToken with a taken hash = %v, want Conflict", err)
				}
				return nil
			}
			if inTx {
				if err := s.InTx(ctx, create); err != nil {
					t.Fatal(err)
				}
			} else {
				_ = create(s)
			}
			if _, err := s.ConsumeResetToken(ctx, kept.TokenHash); err != nil {
				t.Errorf("the failed CreateResetToken deleted the user's earlier token: %v", err)
			}
		})
	}
}

func TestInTxRollsBackWhenFnCallsGoexit(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	u := storetest.NewUser()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.InTx(ctx, func(tx keel.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				t.Error(err)
			}
			runtime.Goexit() // what t.FailNow does
			return nil
		})
	}()
	<-done
	if _, err := s.User(ctx, u.ID); keel.ErrorCode(err) != keel.NotFound {
		t.Errorf("User = %v, want NotFound", err)
	}
	// The lock was released.
	if err := s.CreateUser(ctx, storetest.NewUser()); err != nil {
		t.Errorf("CreateUser after the transaction: %v", err)
	}
}

func TestReadersNeverSeeHalfATransaction(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	const txs = 50
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, total, err := s.ListUsers(ctx, keel.Page{Limit: 1})
				if err != nil {
					t.Error(err)
					return
				}
				if total%2 != 0 {
					t.Errorf("ListUsers saw %d users: half a transaction", total)
					return
				}
			}
		})
	}
	for range txs {
		err := s.InTx(ctx, func(tx keel.Tx) error {
			for range 2 {
				if err := tx.CreateUser(ctx, storetest.NewUser()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if _, total, _ := s.ListUsers(ctx, keel.Page{Limit: 1}); total != 2*txs {
		t.Errorf("ListUsers count = %d, want %d", total, 2*txs)
	}
}

func TestAClosedStoreIsUnavailable(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	u := storetest.NewUser()
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"User", func() error { _, err := s.User(ctx, u.ID); return err }},
		{"CreateUser", func() error { return s.CreateUser(ctx, storetest.NewUser()) }},
		{"InTx", func() error { return s.InTx(ctx, func(keel.Tx) error { return nil }) }},
	} {
		if err := tc.call(); keel.ErrorCode(err) != keel.Unavailable {
			t.Errorf("%s on a closed store = %v, want Unavailable", tc.name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("a second Close = %v, want nil", err)
	}
}

func TestIDsAreUnique(t *testing.T) {
	ctx := t.Context()
	s := memstore.New()
	u := storetest.NewUser()
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	dup := storetest.NewUser()
	dup.ID = u.ID
	if err := s.CreateUser(ctx, dup); keel.ErrorCode(err) != keel.Conflict {
		t.Errorf("CreateUser with a taken id = %v, want Conflict", err)
	}
	if _, err := s.UserByEmail(ctx, dup.Email); keel.ErrorCode(err) != keel.NotFound {
		t.Errorf("UserByEmail of the rejected user = %v, want NotFound", err)
	}
	it := storetest.NewItem(u.ID)
	if err := s.CreateItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateItem(ctx, it); keel.ErrorCode(err) != keel.Conflict {
		t.Errorf("CreateItem with a taken id = %v, want Conflict", err)
	}
}
