package session

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// rows is a Store in a map. Its payload is the number of the Find that
// read the session, so a test can tell the payload came from the Store.
type rows struct {
	mu    sync.Mutex
	data  map[string]row
	finds int
}

type row struct {
	owner  uuid.UUID
	data   []byte
	expiry time.Time
}

var errGone = errors.New("no such session")

func newRows() *rows { return &rows{data: map[string]row{}} }

func (r *rows) Find(_ context.Context, hash string) ([]byte, int, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finds++
	w, ok := r.data[hash]
	if !ok || !w.expiry.After(time.Now()) {
		return nil, 0, false, nil
	}
	return w.data, r.finds, true, nil
}

func (r *rows) Create(_ context.Context, hash string, owner uuid.UUID, data []byte, expiry time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.data[hash]; ok {
		return errors.New("taken")
	}
	r.data[hash] = row{owner, data, expiry}
	return nil
}

func (r *rows) Update(_ context.Context, hash string, data []byte, expiry time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.data[hash]
	if !ok {
		return errGone
	}
	w.data, w.expiry = data, expiry
	r.data[hash] = w
	return nil
}

func (r *rows) Delete(_ context.Context, hash string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.data, hash)
	return nil
}

func (r *rows) get(hash string) (row, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.data[hash]
	return w, ok
}

func TestManager(t *testing.T) {
	ctx := context.Background()
	owner := uuid.Must(uuid.NewV7())

	t.Run("a started session is created for its owner under the token's hash, never the token", func(t *testing.T) {
		st := newRows()
		m := New[int](st, time.Hour, 0)
		token, hash, expiry, err := m.Start(ctx, owner)
		if err != nil {
			t.Fatal(err)
		}
		if len(token) < 43 || hash == "" || hash == token || !expiry.After(time.Now()) {
			t.Fatalf("token %q, hash %q, expiry %v", token, hash, expiry)
		}
		w, ok := st.get(hash)
		if !ok || w.owner != owner || !w.expiry.Equal(expiry) {
			t.Fatalf("stored %+v (%v)", w, ok)
		}
		if _, ok := st.get(token); ok {
			t.Fatal("the token itself is a key of the store")
		}
	})

	t.Run("every start issues a new token", func(t *testing.T) {
		m := New[int](newRows(), time.Hour, 0)
		a, _, _, _ := m.Start(ctx, owner)
		b, _, _, _ := m.Start(ctx, owner)
		if a == b {
			t.Fatal("two sessions share a token")
		}
	})

	t.Run("a loaded session names its owner, its hash and the Store's payload", func(t *testing.T) {
		st := newRows()
		m := New[int](st, time.Hour, 0)
		token, hash, _, _ := m.Start(ctx, owner)
		s, found, err := m.Load(ctx, token)
		if err != nil || !found {
			t.Fatalf("found %v, err %v", found, err)
		}
		if s.Owner != owner || s.Hash != hash || s.Payload != st.finds {
			t.Fatalf("session %+v, want owner %v, hash %q, payload %d", s, owner, hash, st.finds)
		}
	})

	t.Run("an unknown, empty or ended token is not found", func(t *testing.T) {
		m := New[int](newRows(), time.Hour, 0)
		token, _, _, _ := m.Start(ctx, owner)
		s, _, _ := m.Load(ctx, token)
		if err := m.End(s); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{"made-up", "", token} {
			if _, found, err := m.Load(ctx, tok); found || err != nil {
				t.Errorf("Load(%q): found %v, err %v", tok, found, err)
			}
		}
	})

	t.Run("ending a session that is gone meanwhile is not an error", func(t *testing.T) {
		m := New[int](newRows(), time.Hour, 0)
		token, _, _, _ := m.Start(ctx, owner)
		s, _, _ := m.Load(ctx, token)
		if err := m.End(s); err != nil {
			t.Fatal(err)
		}
		if err := m.End(s); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("touching moves the expiry on by the idle timeout", func(t *testing.T) {
		st := newRows()
		m := New[int](st, time.Hour, time.Minute)
		token, hash, expiry, _ := m.Start(ctx, owner)
		if !expiry.Before(time.Now().Add(2 * time.Minute)) {
			t.Fatalf("expiry %v is not the idle timeout away", expiry)
		}
		s, _, _ := m.Load(ctx, token)
		got, err := m.Touch(s)
		if err != nil {
			t.Fatal(err)
		}
		if w, _ := st.get(hash); !w.expiry.Equal(got) || got.Before(expiry) {
			t.Fatalf("touched expiry %v, stored %v, was %v", got, w.expiry, expiry)
		}
	})

	t.Run("touching a session ended since it was loaded never brings it back", func(t *testing.T) {
		st := newRows()
		m := New[int](st, time.Hour, time.Minute)
		token, hash, _, _ := m.Start(ctx, owner)
		s, _, _ := m.Load(ctx, token)
		ended, _, _ := m.Load(ctx, token)
		if err := m.End(ended); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Touch(s); !errors.Is(err, errGone) {
			t.Fatalf("Touch = %v, want the Store's error", err)
		}
		if _, ok := st.get(hash); ok {
			t.Fatal("the ended session is back")
		}
	})

	t.Run("data the Codec cannot read is an error, not a session", func(t *testing.T) {
		st := newRows()
		m := New[int](st, time.Hour, 0)
		token, hash, _, _ := m.Start(ctx, owner)
		w, _ := st.get(hash)
		w.data = []byte("garbage")
		st.data[hash] = w
		if _, found, err := m.Load(ctx, token); found || err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Fatalf("found %v, err %v", found, err)
		}
	})
}
