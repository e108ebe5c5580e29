package keel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
)

// Hooks are the functions a program gives keel to react to account
// events (see EventKind). Every hook sees every event and picks the kinds
// it cares about; there are two kinds of hook, with different guarantees.
//
// Before hooks run inside the transaction of the operation, after its
// writes and before its commit, in the order given, on the caller's
// goroutine. The Tx they receive is that transaction: what a hook writes
// through it (or, on bunstore, through bunstore.TxDB) commits with the
// operation or not at all, and the context they receive makes keel calls
// made with it join the transaction too. A before hook that returns an
// error vetoes the operation: the transaction rolls back, and the caller
// gets the error itself when it is an *Error (Reject("email", e.Email,
// "only @example.com addresses may sign up") reaches an HTTP client as a
// 422 on the field, Refuse(PermissionDenied, "sign-ups are closed") as a
// 403 with that message), or an Internal error wrapping it otherwise
// (Unavailable for an ended context), so that a driver's message never
// reaches a client. A before hook that panics vetoes the same way, with
// an Internal error. The events that report a refusal or change nothing
// (EventLoginFailed, EventRateLimited, EventPasswordResetRequested
// without a token) run their before hooks in a transaction of their own,
// so that what they write (an audit row) commits, and an error they
// return replaces the refusal. Keep before hooks short: the transaction
// (on SQLite, the database's one writer) is held while they run.
//
// After hooks run once the operation has committed, never for one that
// rolled back, and cannot undo or fail it. Each after hook has its own
// queue of Queue events and its own goroutine, which delivers them in the
// order they committed: a slow hook delays only itself, and a panicking
// one is recovered and logged. When a hook's queue is full, the event is
// dropped for that hook and the drop logged, so that a hook that hangs
// cannot hold requests or memory. Service.Close stops taking events and
// waits, until its context ends, for the queues to drain. The context an
// after hook receives carries the values of the operation's context (the
// Client, a request id, a trace) but is never cancelled.
type Hooks struct {
	Before []BeforeHook
	After  []AfterHook
	// Queue is how many events may wait for each after hook. Default 1024.
	Queue int
}

// BeforeHook runs inside an operation's transaction and may veto it; see
// Hooks.
type BeforeHook func(ctx context.Context, tx Tx, e Event) error

// AfterHook runs once an operation has committed; see Hooks.
type AfterHook func(ctx context.Context, e Event)

// DefaultEventQueue is the default of Hooks.Queue.
const DefaultEventQueue = 1024

// afterHooks delivers committed events to the after hooks: a queue and a
// goroutine per hook.
type afterHooks struct {
	log    *slog.Logger
	mu     sync.RWMutex // guards closed against sends on closed queues
	closed bool
	queues []chan delivery
	done   sync.WaitGroup
}

// delivery is an event on its way to a hook, with the context it goes
// with.
type delivery struct {
	ctx context.Context
	e   Event
}

func newAfterHooks(hooks []AfterHook, queue int, log *slog.Logger) *afterHooks {
	a := &afterHooks{log: log}
	for i, h := range hooks {
		q := make(chan delivery, queue)
		a.queues = append(a.queues, q)
		a.done.Add(1)
		go func() {
			defer a.done.Done()
			for d := range q {
				a.call(i, h, d)
			}
		}()
	}
	return a
}

// call runs one hook on one event; a panic is logged, not spread.
func (a *afterHooks) call(i int, h AfterHook, d delivery) {
	defer func() {
		if r := recover(); r != nil {
			a.log.ErrorContext(d.ctx, "keel: an after hook panicked", "hook", i, "event", string(d.e.Kind),
				"user_id", d.e.UserID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	h(d.ctx, d.e)
}

// deliver queues committed events for every after hook, without waiting:
// a hook whose queue is full misses them (logged).
func (a *afterHooks) deliver(ctx context.Context, events []Event) {
	if len(a.queues) == 0 || len(events) == 0 {
		return
	}
	ctx = afterContext(ctx)
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, e := range events {
		for i, q := range a.queues {
			if a.closed {
				a.log.WarnContext(ctx, "keel: an event came after Close; not delivered", "event", string(e.Kind), "user_id", e.UserID)
				return
			}
			select {
			case q <- delivery{ctx: ctx, e: e}:
			default:
				a.log.WarnContext(ctx, "keel: an after hook's queue is full; event dropped for it", "hook", i, "event", string(e.Kind), "user_id", e.UserID)
			}
		}
	}
}

// close stops taking events and waits until the queues are drained or ctx
// ends.
func (a *afterHooks) close(ctx context.Context) error {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		for _, q := range a.queues {
			close(q)
		}
	}
	a.mu.Unlock()
	done := make(chan struct{})
	go func() { a.done.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("keel: after hooks still running: %w", ctx.Err())
	}
}

// afterContext is the context after hooks get: the operation's values,
// no cancellation, and no transaction (it has ended).
func afterContext(ctx context.Context) context.Context {
	return context.WithValue(context.WithoutCancel(ctx), ambientKey{}, (*ambient)(nil))
}

// runBefore runs the before hooks on e inside tx. The first error (or
// panic) vetoes the operation.
func runBefore(ctx context.Context, hooks []BeforeHook, tx Tx, e Event, log *slog.Logger) error {
	for i, h := range hooks {
		if err := callBefore(ctx, i, h, tx, e, log); err != nil {
			return err
		}
	}
	return nil
}

func callBefore(ctx context.Context, i int, h BeforeHook, tx Tx, e Event, log *slog.Logger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			log.ErrorContext(ctx, "keel: a before hook panicked", "hook", i, "event", string(e.Kind),
				"user_id", e.UserID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = &vetoError{&Error{Code: Internal, Err: fmt.Errorf("keel: before hook %d panicked on %s: %v", i, e.Kind, r)}}
		}
	}()
	err = h(ctx, tx, e)
	if err == nil {
		return nil
	}
	if _, ok := vetoed(err); ok {
		return err // a keel call inside the hook was vetoed; pass it on as it is
	}
	var ke *Error
	if !errors.As(err, &ke) {
		// Not one of keel's: its text is the program's (a driver's
		// message, say), for logs and never for a client (Unavailable for
		// a context that ended, Internal otherwise).
		err = &Error{Code: ErrorCode(err), Err: fmt.Errorf("keel: before hook %d refused %s: %w", i, e.Kind, err)}
	}
	return &vetoError{err}
}
