package keel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
)

// InTx runs fn in one transaction of the store, together with the keel
// calls fn makes with the context it receives: a program's own writes
// (through tx, or on bunstore through bunstore.TxDB(tx)) and keel's
// operations commit together when fn returns nil, and all roll back when
// it returns an error (which InTx returns) or panics.
//
//	err := svc.InTx(ctx, func(ctx context.Context, tx keel.Tx) error {
//		u, err := svc.SignUp(ctx, in) // joins the transaction
//		if err != nil {
//			return err
//		}
//		db, _ := bunstore.TxDB(tx)
//		_, err = db.NewInsert().Model(&Profile{UserID: u.ID}).Exec(ctx)
//		return err
//	})
//
// The rules that keep it safe, on every store (SQLite has one writer):
//
//   - Inside fn, call keel and the database only with the ctx fn receives,
//     one call at a time. A call made with another context does not join
//     the transaction; on SQLite and memstore it waits for the transaction
//     to end, which waits for fn: a deadlock.
//   - When a keel call inside fn fails, the transaction can no longer
//     commit: InTx returns that call's error even if fn returns nil, since
//     the failed call may have written part of its work.
//   - The account events of the calls inside fn reach the before hooks at
//     once, in the transaction, and the after hooks only once InTx has
//     committed.
//   - Login, ChangePassword and RequestPasswordReset refuse to run inside
//     InTx (Internal): their rate-limit counters must count even when the
//     transaction rolls back.
//   - The transaction holds the store's writer (on SQLite, the database's
//     one writer; on PostgreSQL, a connection and the rows it locked)
//     until fn returns, password hashing included: keep fn short.
//
// InTx called with a context from inside fn, or from a before hook, joins
// the transaction it is already in.
func (s *Service) InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	return s.inTx(ctx, fn)
}

// ambientKey is the context key of the transaction keel calls join.
type ambientKey struct{}

// ambient is a transaction that keel calls made with its context join: the
// one Service.InTx opens for a program, and the one each operation opens
// for itself (so that its before hooks' keel calls join it too).
type ambient struct {
	svc *Service // only this Service's calls join
	tx  Tx
	// ended is set once the transaction has committed or rolled back; a
	// call with the context after that runs on its own.
	ended atomic.Bool

	mu       sync.Mutex
	events   []Event  // for the after hooks, once the transaction commits
	onCommit []func() // to run once the transaction commits (emails to send)
	failed   error    // a keel call inside failed: the transaction must roll back
}

// joined returns the transaction of ctx that calls of s join, or nil.
func (s *Service) joined(ctx context.Context) *ambient {
	a, _ := ctx.Value(ambientKey{}).(*ambient)
	if a == nil || a.svc != s || a.ended.Load() {
		return nil
	}
	return a
}

// db is where a call with ctx reads and writes: the transaction it joins,
// or the store.
func (s *Service) db(ctx context.Context) Tx {
	if a := s.joined(ctx); a != nil {
		return a.tx
	}
	return s.store
}

// inTx runs fn in the transaction of ctx, or in a new one whose context
// carries it. In a new one it delivers the events fn emitted to the after
// hooks once it has committed. In a joined one, fn's failure dooms the
// transaction (see InTx).
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	if a := s.joined(ctx); a != nil {
		err := fn(ctx, a.tx)
		if err != nil {
			a.fail(err)
		}
		return err
	}
	a := &ambient{svc: s}
	err := s.store.InTx(ctx, func(tx Tx) error {
		a.tx = tx
		if err := fn(context.WithValue(ctx, ambientKey{}, a), tx); err != nil {
			return err
		}
		return a.err()
	})
	a.ended.Store(true)
	if err != nil {
		return err
	}
	s.committed(ctx, a.events)
	for _, fn := range a.onCommit {
		fn()
	}
	return nil
}

// afterCommit runs fn once the transaction of ctx has committed, and
// never when it rolls back (an email whose token was rolled back would
// carry a dead link); outside a transaction it runs fn at once.
func (s *Service) afterCommit(ctx context.Context, fn func()) {
	if a := s.joined(ctx); a != nil {
		a.mu.Lock()
		a.onCommit = append(a.onCommit, fn)
		a.mu.Unlock()
		return
	}
	fn()
}

// committed hands events that have committed to the consumers that wait
// for the commit: the audit log's lines and the after hooks.
func (s *Service) committed(ctx context.Context, events []Event) {
	s.audit.logCommitted(ctx, events)
	s.after.deliver(ctx, events)
}

func (a *ambient) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failed == nil {
		a.failed = err
	}
}

func (a *ambient) err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.failed
}

func (a *ambient) queue(e Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

// notInTx refuses an operation whose writes must outlive any transaction
// of the caller's (rate-limit counters).
func (s *Service) notInTx(ctx context.Context, op string) error {
	if s.joined(ctx) == nil {
		return nil
	}
	return &Error{Code: Internal, Err: fmt.Errorf("keel: %s cannot run inside Service.InTx or a before hook: its rate-limit counters must count even if the transaction rolls back", op)}
}

// newEvent is an event of the kind, now, by the actor, on u (nil when no
// account is concerned), from the client of ctx.
func (s *Service) newEvent(ctx context.Context, kind EventKind, actorID uuid.UUID, u *User) Event {
	e := Event{Kind: kind, At: s.now(), ActorID: actorID, Client: ClientFrom(ctx)}
	if u != nil {
		e.UserID, e.Email, e.User = u.ID, u.Email, publicCopy(u)
	}
	return e
}

// emit is the one dispatch point of the account events, inside the
// transaction tx of an operation: the before hooks run on e there (and
// may veto), its audit row is written there, and then e waits for the
// commit to reach the consumers that wait for it (see committed).
func (s *Service) emit(ctx context.Context, tx Tx, e Event) error {
	if err := runBefore(ctx, s.cfg.Hooks.Before, tx, e, s.log); err != nil {
		return err
	}
	if err := s.writeAudit(ctx, tx, e); err != nil {
		return err
	}
	if a := s.joined(ctx); a != nil {
		a.queue(e)
		return nil
	}
	// Only a bug calls emit outside inTx; deliver rather than lose it.
	s.committed(ctx, []Event{e})
	return nil
}

// report emits a refusal, which changed nothing: in a transaction of its
// own when there are before hooks (so what they write commits), and
// otherwise with its audit row written on its own, a single insert, and
// straight to the consumers that wait for a commit. An error means the
// report failed; the caller returns it instead of the refusal.
func (s *Service) report(ctx context.Context, e Event) error {
	e.unrecorded = !s.audit.record(e)
	if len(s.cfg.Hooks.Before) == 0 {
		if a := s.joined(ctx); a != nil {
			if err := s.writeAudit(ctx, a.tx, e); err != nil {
				return err
			}
			a.queue(e)
			return nil
		}
		if err := s.writeAudit(ctx, s.store, e); err != nil {
			return classify(err, Unavailable)
		}
		s.committed(ctx, []Event{e})
		return nil
	}
	return s.inTx(ctx, func(ctx context.Context, tx Tx) error { return s.emit(ctx, tx, e) })
}

// refusal returns the refusal err, or the error of reporting it.
func (s *Service) refusal(ctx context.Context, e Event, err error) error {
	if rerr := s.report(ctx, e); rerr != nil {
		return rerr
	}
	return err
}

// vetoError is a before hook's veto on its way out of the operation, so
// that the operation's own mapping of store errors (a NotFound becoming
// ErrUserNotFound) leaves it as the hook made it.
type vetoError struct{ err error }

func (v *vetoError) Error() string { return v.err.Error() }
func (v *vetoError) Unwrap() error { return v.err }

// vetoed returns the hook's error in err's chain, if a hook vetoed.
func vetoed(err error) (error, bool) {
	var v *vetoError
	if errors.As(err, &v) {
		return v.err, true
	}
	return nil, false
}
