package keel_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
	"github.com/keel-dev/keel/store/memstore"
)

func TestItemPrefetch(t *testing.T) {
	type fixture struct {
		e                   *env
		cs                  *keeltest.CountingStore
		ada, bob, root      *keel.Session
		adas, bobs, missing uuid.UUID
	}
	setup := func(t *testing.T) *fixture {
		cs := &keeltest.CountingStore{Store: memstore.New()}
		f := &fixture{e: newEnvOn(t, cs), cs: cs}
		ctx := context.Background()
		f.e.signUp(t, "ada@example.com")
		f.e.signUp(t, "bob@example.com")
		f.e.superuser(t, "root@example.com")
		f.ada = f.e.login(t, "ada@example.com", goodPassword)
		f.bob = f.e.login(t, "bob@example.com", goodPassword)
		f.root = f.e.login(t, "root@example.com", goodPassword)
		for _, x := range []struct {
			who *keel.Session
			id  *uuid.UUID
		}{{f.ada, &f.adas}, {f.bob, &f.bobs}} {
			it, err := f.e.svc.CreateItem(ctx, x.who.User, keel.CreateItemInput{Title: "of " + x.who.User.Email})
			if err != nil {
				t.Fatal(err)
			}
			*x.id = it.ID
		}
		f.missing = uuid.Must(uuid.NewV7())
		cs.Reset()
		return f
	}
	// authenticate is what httpapi does for GET /items/{id}: the item
	// named before the session is looked up.
	authenticate := func(t *testing.T, f *fixture, sess *keel.Session, id uuid.UUID) (context.Context, *keel.Session) {
		t.Helper()
		ctx := keel.WithItemPrefetch(context.Background(), id)
		got, err := f.e.svc.Authenticate(ctx, sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.cs.Get("FindSessionItem"); n != 1 || f.cs.Get("FindSession") != 0 {
			t.Fatalf("Authenticate ran FindSessionItem %d and FindSession %d times, want 1 and 0", n, f.cs.Get("FindSession"))
		}
		return ctx, got
	}

	for _, tc := range []struct {
		name    string
		who     func(*fixture) *keel.Session
		item    func(*fixture) uuid.UUID
		want    error
		wantOwn func(*fixture) *keel.Session // whose item comes back
	}{
		{"the owner's item comes from the session's round trip",
			func(f *fixture) *keel.Session { return f.ada }, func(f *fixture) uuid.UUID { return f.adas }, nil,
			func(f *fixture) *keel.Session { return f.ada }},
		{"another user's item, read with the session, is still not found",
			func(f *fixture) *keel.Session { return f.bob }, func(f *fixture) uuid.UUID { return f.adas }, keel.ErrItemNotFound, nil},
		{"a superuser gets anyone's item from it",
			func(f *fixture) *keel.Session { return f.root }, func(f *fixture) uuid.UUID { return f.bobs }, nil,
			func(f *fixture) *keel.Session { return f.bob }},
		{"a missing item is not found without a second round trip",
			func(f *fixture) *keel.Session { return f.ada }, func(f *fixture) uuid.UUID { return f.missing }, keel.ErrItemNotFound, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			id := tc.item(f)
			ctx, sess := authenticate(t, f, tc.who(f), id)
			it, err := f.e.svc.Item(ctx, sess.User, id)
			if tc.want != nil {
				wantErr(t, err, tc.want)
			} else if err != nil {
				t.Fatal(err)
			} else if it.ID != id || it.OwnerID != tc.wantOwn(f).User.ID {
				t.Errorf("Item = %+v, want %s of %s", it, id, tc.wantOwn(f).User.Email)
			}
			if n := f.cs.Get("Item"); n != 0 {
				t.Errorf("Item made %d round trips, want 0", n)
			}
		})
	}

	t.Run("only the first Item call answers from it: the next sees a later write", func(t *testing.T) {
		f := setup(t)
		ctx, sess := authenticate(t, f, f.ada, f.adas)
		if _, err := f.e.svc.Item(ctx, sess.User, f.adas); err != nil {
			t.Fatal(err)
		}
		if _, err := f.e.svc.UpdateItem(context.Background(), sess.User, f.adas, keel.UpdateItemInput{Title: keel.Some("renamed")}); err != nil {
			t.Fatal(err)
		}
		f.cs.Reset()
		it, err := f.e.svc.Item(ctx, sess.User, f.adas)
		if err != nil {
			t.Fatal(err)
		}
		if it.Title != "renamed" || f.cs.Get("Item") != 1 {
			t.Errorf("second Item: title %q after %d round trips, want %q after 1", it.Title, f.cs.Get("Item"), "renamed")
		}
	})

	for _, tc := range []struct {
		name string
		read func(f *fixture, ctx context.Context, sess *keel.Session) (*keel.Item, error)
		want error
	}{
		{"an Item call for another id reads the store",
			func(f *fixture, ctx context.Context, sess *keel.Session) (*keel.Item, error) {
				return f.e.svc.Item(ctx, sess.User, f.bobs)
			}, keel.ErrItemNotFound},
		{"an Item call by another user than the session's reads the store",
			func(f *fixture, ctx context.Context, _ *keel.Session) (*keel.Item, error) {
				return f.e.svc.Item(ctx, f.root.User, f.adas)
			}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			ctx, sess := authenticate(t, f, f.ada, f.adas)
			f.cs.Reset()
			_, err := tc.read(f, ctx, sess)
			if tc.want != nil {
				wantErr(t, err, tc.want)
			} else if err != nil {
				t.Fatal(err)
			}
			if n := f.cs.Get("Item"); n != 1 {
				t.Errorf("Item made %d round trips, want 1", n)
			}
		})
	}

	t.Run("an Item call inside a transaction reads the transaction", func(t *testing.T) {
		f := setup(t)
		ctx, sess := authenticate(t, f, f.ada, f.adas)
		err := f.e.svc.InTx(ctx, func(ctx context.Context, _ keel.Tx) error {
			if _, err := f.e.svc.UpdateItem(ctx, sess.User, f.adas, keel.UpdateItemInput{Title: keel.Some("in the transaction")}); err != nil {
				return err
			}
			it, err := f.e.svc.Item(ctx, sess.User, f.adas)
			if err == nil && it.Title != "in the transaction" {
				t.Errorf("Item in the transaction: title %q, want the transaction's own write", it.Title)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a refused token leaves nothing to answer from", func(t *testing.T) {
		f := setup(t)
		ctx := keel.WithItemPrefetch(context.Background(), f.adas)
		if _, err := f.e.svc.Authenticate(ctx, "not-a-token"); err == nil {
			t.Fatal("a made-up token authenticated")
		}
		if _, err := f.e.svc.Item(ctx, f.ada.User, f.adas); err != nil {
			t.Fatal(err)
		}
		if n := f.cs.Get("Item"); n != 1 {
			t.Errorf("Item made %d round trips, want 1", n)
		}
	})

	t.Run("concurrent Item calls on one context get the item once from it and then from the store", func(t *testing.T) {
		f := setup(t)
		ctx, sess := authenticate(t, f, f.ada, f.adas)
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				it, err := f.e.svc.Item(ctx, sess.User, f.adas)
				if err == nil && it.ID != f.adas {
					t.Errorf("Item = %s, want %s", it.ID, f.adas)
				}
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
		if got := f.cs.Get("Item"); got != n-1 {
			t.Errorf("Item made %d round trips, want %d", got, n-1)
		}
	})
}
