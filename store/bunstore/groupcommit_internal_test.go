package bunstore

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/store/storetest"
)

// The behaviour every store has (concurrent creates each get their own
// result) is in the conformance suite; these tests check how an SQLite
// file's Store gets there: rounds, cancellation and Close.

// queryPaths are the two ways CreateItem reaches the committer.
var queryPaths = []struct {
	name string
	opts []Option
}{
	{"with prepared statements", nil},
	{"without prepared statements", []Option{withoutPreparedStatements()}},
}

// rounds records what the committer's rounds did.
type rounds struct {
	mu     sync.Mutex
	writes []int
}

func (r *rounds) observe(s *Store) {
	s.committer.onRound = func(writes int, err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if err == nil {
			r.writes = append(r.writes, writes)
		}
	}
}

func (r *rounds) committed() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.writes...)
}

// holdWriter takes the writer connection in a transaction until the
// returned function is called, so that writes queue meanwhile.
// heldWriterStore opens a store on an SQLite file with one user, owner,
// whose first item prepared the insert, and holds its writer connection
// (holdWriter) until release; waits is the pool's wait count before any
// write queues behind it.
func heldWriterStore(t *testing.T) (s *Store, owner *keel.User, release func(), waits int64) {
	t.Helper()
	s = openInternal(t, sqliteFile(t))
	owner = storetest.NewUser()
	must(t, s.CreateUser(t.Context(), owner))
	must(t, s.CreateItem(t.Context(), storetest.NewItem(owner.ID))) // prepares the statement
	release = holdWriter(t, s)
	return s, owner, release, s.writeDB.DB.Stats().WaitCount
}

func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	held, done := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		err := s.InTx(context.Background(), func(keel.Tx) error {
			close(held)
			<-done
			return nil
		})
		if err != nil {
			t.Errorf("InTx holding the writer: %v", err)
		}
	})
	<-held
	var once sync.Once
	release = func() {
		once.Do(func() { close(done); wg.Wait() })
	}
	t.Cleanup(release)
	return release
}

// eventually polls cond until it holds, and fails the test after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// queueBehindWriter runs write(0), ..., write(n-1) in goroutines while a
// transaction holds the writer: the committer takes write 0 and waits for
// the writer, and the others queue behind it. It returns when every write
// has returned.
func queueBehindWriter(t *testing.T, s *Store, n int, write func(i int)) {
	t.Helper()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // after release, should the test fail before it
	release := holdWriter(t, s)
	waits := s.writeDB.DB.Stats().WaitCount
	wg.Go(func() { write(0) })
	eventually(t, "the committer waits for the writer", waitingForWriter(s, waits+1))
	for i := 1; i < n; i++ {
		wg.Go(func() { write(i) })
	}
	eventually(t, "the writes queue", func() bool { return s.committer.queued() == n-1 })
	release()
	wg.Wait()
}

func (g *groupCommitter) queued() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// waitingForWriter reports whether the committer (or anything else) has
// started waiting for the writer connection n times.
func waitingForWriter(s *Store, n int64) func() bool {
	return func() bool { return s.writeDB.DB.Stats().WaitCount >= n }
}

func sqliteFile(t *testing.T) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "keel.db")
}

func TestGroupCommitRounds(t *testing.T) {
	for _, p := range queryPaths {
		t.Run(p.name+", writes queued behind a transaction commit together, each with its own result", func(t *testing.T) {
			s := openInternal(t, sqliteFile(t), p.opts...)
			owner := storetest.NewUser()
			must(t, s.CreateUser(t.Context(), owner))
			must(t, s.CreateItem(t.Context(), storetest.NewItem(owner.ID))) // prepares the statement
			var r rounds
			r.observe(s)

			const n = 40
			items := make([]*keel.Item, n)
			errs := make([]error, n)
			queueBehindWriter(t, s, n, func(i int) {
				items[i] = storetest.NewItem(owner.ID)
				if i%2 == 1 {
					items[i].OwnerID = uuid.New() // a missing owner: NotFound
				}
				errs[i] = s.CreateItem(t.Context(), items[i])
			})

			good := 0
			for i, it := range items {
				want := keel.Code(0)
				if it.OwnerID != owner.ID {
					want = keel.NotFound
				} else {
					good++
				}
				if got := keel.ErrorCode(errs[i]); errs[i] != nil && got != want || errs[i] == nil && want != 0 {
					t.Errorf("CreateItem %d: err = %v, want code %v", i, errs[i], want)
				}
			}
			_, total, err := s.ListItems(t.Context(), keel.ItemFilter{OwnerID: owner.ID}, keel.Page{Limit: 1})
			must(t, err)
			if total != good+1 {
				t.Errorf("ListItems count = %d, want %d", total, good+1)
			}
			got := r.committed()
			sum, biggest := 0, 0
			for _, w := range got {
				sum += w
				biggest = max(biggest, w)
			}
			if sum != n || biggest < n-1 {
				t.Errorf("rounds of %v writes, want every one of the %d writes committed, %d of them in one round", got, n, n-1)
			}
		})
	}

	t.Run("a round holds at most maxGroupWrites writes", func(t *testing.T) {
		s := openInternal(t, sqliteFile(t))
		owner := storetest.NewUser()
		must(t, s.CreateUser(t.Context(), owner))
		must(t, s.CreateItem(t.Context(), storetest.NewItem(owner.ID))) // prepares the statement
		var r rounds
		r.observe(s)
		n := maxGroupWrites*2 + 1
		queueBehindWriter(t, s, n, func(int) {
			if err := s.CreateItem(t.Context(), storetest.NewItem(owner.ID)); err != nil {
				t.Error(err)
			}
		})
		sum := 0
		for _, w := range r.committed() {
			if w > maxGroupWrites {
				t.Errorf("a round of %d writes, want at most %d", w, maxGroupWrites)
			}
			sum += w
		}
		if sum != n {
			t.Errorf("%d writes committed, want %d", sum, n)
		}
	})
}

func TestGroupCommitCancellation(t *testing.T) {
	t.Run("a write whose context ends while it is queued never runs", func(t *testing.T) {
		s, owner, release, waits := heldWriterStore(t)

		first := storetest.NewItem(owner.ID)
		var firstErr error
		var wg sync.WaitGroup
		wg.Go(func() { firstErr = s.CreateItem(t.Context(), first) })
		eventually(t, "the committer waits for the writer", waitingForWriter(s, waits+1))

		ctx, cancel := context.WithCancel(t.Context())
		queued := storetest.NewItem(owner.ID)
		errc := make(chan error, 1)
		go func() { errc <- s.CreateItem(ctx, queued) }()
		eventually(t, "the write queues", func() bool { return s.committer.queued() == 1 })
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("CreateItem cancelled while queued: err = %v, want context.Canceled", err)
		}
		release()
		wg.Wait()
		must(t, firstErr)
		if _, err := s.Item(t.Context(), queued.ID); keel.ErrorCode(err) != keel.NotFound {
			t.Errorf("Item of the cancelled write: err = %v, want NotFound", err)
		}
		if _, err := s.Item(t.Context(), first.ID); err != nil {
			t.Errorf("Item of the write before it: %v", err)
		}
	})

	t.Run("a write whose context ends while its round waits for the writer never runs", func(t *testing.T) {
		s, owner, release, waits := heldWriterStore(t)

		ctx, cancel := context.WithCancel(t.Context())
		it := storetest.NewItem(owner.ID)
		errc := make(chan error, 1)
		go func() { errc <- s.CreateItem(ctx, it) }()
		eventually(t, "the committer waits for the writer", waitingForWriter(s, waits+1))
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("CreateItem cancelled while its round waits: err = %v, want context.Canceled", err)
		}
		release()
		must(t, s.CreateItem(t.Context(), storetest.NewItem(owner.ID))) // the committer goes on
		if _, err := s.Item(t.Context(), it.ID); keel.ErrorCode(err) != keel.NotFound {
			t.Errorf("Item of the cancelled write: err = %v, want NotFound", err)
		}
	})

	t.Run("a write whose context ends while it runs is kept, and its caller told so", func(t *testing.T) {
		hook := &cancelOnInsert{}
		s := openInternal(t, sqliteFile(t), WithQueryHook(hook))
		owner := storetest.NewUser()
		must(t, s.CreateUser(t.Context(), owner))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		it := storetest.NewItem(owner.ID)
		if err := s.CreateItem(context.WithValue(ctx, cancelKey{}, cancel), it); err != nil {
			t.Errorf("CreateItem: err = %v, want nil (it ran)", err)
		}
		if ctx.Err() == nil {
			t.Fatal("the hook did not cancel the write's context")
		}
		if _, err := s.Item(t.Context(), it.ID); err != nil {
			t.Errorf("Item: %v", err)
		}
	})
}

type cancelKey struct{}

// cancelOnInsert is a query hook that cancels the context of a write that
// carries its cancel function, as the write runs, and gives its caller
// time to notice.
type cancelOnInsert struct{}

func (cancelOnInsert) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	if cancel, ok := ctx.Value(cancelKey{}).(context.CancelFunc); ok {
		cancel()
		time.Sleep(20 * time.Millisecond)
	}
	return ctx
}

func (cancelOnInsert) AfterQuery(context.Context, *bun.QueryEvent) {}

func TestGroupCommitClose(t *testing.T) {
	t.Run("Close runs the queued writes, refuses later ones and leaves no committer behind", func(t *testing.T) {
		file := sqliteFile(t)
		s, err := Open(t.Context(), file)
		must(t, err)
		_, err = s.Migrate(t.Context())
		must(t, err)
		owner := storetest.NewUser()
		must(t, s.CreateUser(t.Context(), owner))

		const n = 200
		items := make([]*keel.Item, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			items[i] = storetest.NewItem(owner.ID)
			wg.Go(func() { errs[i] = s.CreateItem(t.Context(), items[i]) })
		}
		eventually(t, "some writes are in flight", func() bool { return s.committer.queued() > 0 })
		must(t, s.Close())
		wg.Wait()
		select {
		case <-s.committer.stopped:
		default:
			t.Error("the committer still runs after Close")
		}

		s = openInternal(t, file)
		stored := 0
		for i, it := range items {
			_, err := s.Item(t.Context(), it.ID)
			switch {
			case errs[i] == nil && err == nil:
				stored++
			case errs[i] == nil:
				t.Errorf("CreateItem %d answered nil, but Item: %v", i, err)
			case keel.ErrorCode(errs[i]) != keel.Internal:
				t.Errorf("CreateItem %d on a closing Store: err = %v, want nil or Internal", i, errs[i])
			case err == nil:
				t.Errorf("CreateItem %d failed (%v), but its item is stored", i, errs[i])
			}
		}
		_, total, err := s.ListItems(t.Context(), keel.ItemFilter{OwnerID: owner.ID}, keel.Page{Limit: 1})
		must(t, err)
		if total != stored {
			t.Errorf("ListItems count = %d, want the %d writes that answered nil", total, stored)
		}
		t.Logf("%d of %d writes ran before Close", stored, n)
	})
}
