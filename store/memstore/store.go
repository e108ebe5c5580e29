package memstore

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

// Store is an in-memory keel.Store. Make one with New; the zero value is
// not usable.
type Store struct {
	handle
}

var _ keel.Store = (*Store)(nil)

// handle has the data methods (keel.Tx). A Store's handle works on the
// data directly; InTx hands fn a handle bound to its transaction.
type handle struct {
	db *db
	tx *txn // nil outside InTx
}

var _ keel.Tx = (*handle)(nil)

// db is the data every Store of one New shares.
type db struct {
	mu     sync.RWMutex
	closed bool

	users  map[uuid.UUID]*keel.User
	emails map[string]uuid.UUID // lower-cased email → user id

	items        map[uuid.UUID]*keel.Item
	itemsByOwner index[uuid.UUID, uuid.UUID]

	sessions       map[string]*keel.SessionRecord
	sessionsByUser index[uuid.UUID, string]
	sessionIDs     map[uuid.UUID]string // session ID → token hash

	resetTokens       map[string]*keel.ResetToken
	resetTokensByUser index[uuid.UUID, string]

	apiTokens       map[uuid.UUID]*keel.APIToken
	apiTokenHashes  map[string]uuid.UUID // token hash → token ID
	apiTokensByUser index[uuid.UUID, uuid.UUID]

	counters map[string]keel.Counter
	secrets  map[string][]byte

	identities       map[uuid.UUID]*keel.Identity
	identityKeys     map[identityKey]uuid.UUID // (provider, subject) → identity id
	identitiesByUser index[uuid.UUID, uuid.UUID]

	passkeys       map[string]*keel.Passkey // by string(CredentialID)
	passkeyIDs     map[uuid.UUID]string     // passkey id → string(CredentialID)
	passkeysByUser index[uuid.UUID, string]
	userHandles    map[uuid.UUID]string // user id → string(handle)
	handleUsers    map[string]uuid.UUID // string(handle) → user id

	authFlows       map[string]*keel.AuthFlow // by key hash
	authFlowsByUser index[uuid.UUID, string]

	audit    []*keel.AuditEvent // oldest first: CreatedAt, then ID, ascending
	auditIDs map[uuid.UUID]struct{}

	oneTimeTokens       map[string]*keel.OneTimeToken // by hash
	oneTimeTokensByUser index[uuid.UUID, string]

	totps         map[uuid.UUID]*keel.TOTP
	recoveryCodes map[uuid.UUID]map[string]struct{} // user → code hashes
}

// New returns an empty store.
func New() *Store {
	return &Store{handle{db: &db{
		users:             make(map[uuid.UUID]*keel.User),
		emails:            make(map[string]uuid.UUID),
		items:             make(map[uuid.UUID]*keel.Item),
		itemsByOwner:      make(index[uuid.UUID, uuid.UUID]),
		sessions:          make(map[string]*keel.SessionRecord),
		sessionsByUser:    make(index[uuid.UUID, string]),
		sessionIDs:        make(map[uuid.UUID]string),
		resetTokens:       make(map[string]*keel.ResetToken),
		resetTokensByUser: make(index[uuid.UUID, string]),
		apiTokens:         make(map[uuid.UUID]*keel.APIToken),
		apiTokenHashes:    make(map[string]uuid.UUID),
		apiTokensByUser:   make(index[uuid.UUID, uuid.UUID]),
		counters:          make(map[string]keel.Counter),
		secrets:           make(map[string][]byte),
		identities:        make(map[uuid.UUID]*keel.Identity),
		identityKeys:      make(map[identityKey]uuid.UUID),
		identitiesByUser:  make(index[uuid.UUID, uuid.UUID]),
		passkeys:          make(map[string]*keel.Passkey),
		passkeyIDs:        make(map[uuid.UUID]string),
		passkeysByUser:    make(index[uuid.UUID, string]),
		userHandles:       make(map[uuid.UUID]string),
		handleUsers:       make(map[string]uuid.UUID),
		authFlows:         make(map[string]*keel.AuthFlow),
		authFlowsByUser:   make(index[uuid.UUID, string]),
		auditIDs:          make(map[uuid.UUID]struct{}),

		oneTimeTokens:       make(map[string]*keel.OneTimeToken),
		oneTimeTokensByUser: make(index[uuid.UUID, string]),
		totps:               make(map[uuid.UUID]*keel.TOTP),
		recoveryCodes:       make(map[uuid.UUID]map[string]struct{}),
	}}}
}

var (
	errClosed = keel.Errorf(keel.Unavailable, "memstore: the store is closed")
	errTxDone = keel.Errorf(keel.Internal, "memstore: the transaction has ended")
)

func cancelled(err error) error {
	return keel.Wrap(err, keel.Unavailable, "memstore: the call was cancelled")
}

// read runs f with the data locked against writers. Inside a transaction
// the transaction already holds the write lock.
func (h *handle) read(ctx context.Context, f func(d *db) error) error {
	if err := ctx.Err(); err != nil {
		return cancelled(err)
	}
	if h.tx != nil {
		h.tx.mu.Lock()
		defer h.tx.mu.Unlock()
		if h.tx.done {
			return errTxDone
		}
		return f(h.db)
	}
	h.db.mu.RLock()
	defer h.db.mu.RUnlock()
	if h.db.closed {
		return errClosed
	}
	return f(h.db)
}

// write runs f with the data locked for writing. f records how to undo
// each change in u; when f fails its changes are undone, so every call is
// all or nothing, inside a transaction too.
func (h *handle) write(ctx context.Context, f func(d *db, u *undoLog) error) error {
	if err := ctx.Err(); err != nil {
		return cancelled(err)
	}
	if h.tx != nil {
		h.tx.mu.Lock()
		defer h.tx.mu.Unlock()
		if h.tx.done {
			return errTxDone
		}
		mark := h.tx.undo.mark()
		if err := f(h.db, &h.tx.undo); err != nil {
			h.tx.undo.rollbackTo(mark)
			return err
		}
		return nil
	}
	h.db.mu.Lock()
	defer h.db.mu.Unlock()
	if h.db.closed {
		return errClosed
	}
	var u undoLog
	if err := f(h.db, &u); err != nil {
		u.rollbackTo(0)
		return err
	}
	return nil
}

// DeleteExpired removes the sessions, reset tokens, API tokens, one-time
// tokens, authentication flows and counters that expired at or before now.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(d *db, u *undoLog) error {
		n = 0
		for hash, sess := range d.sessions {
			if !sess.Expiry.After(now) {
				d.removeSession(u, hash)
				n++
			}
		}
		for hash, tok := range d.resetTokens {
			if !tok.ExpiresAt.After(now) {
				d.removeResetToken(u, hash)
				n++
			}
		}
		for id, tok := range d.apiTokens {
			if !tok.ExpiresAt.After(now) {
				d.removeAPIToken(u, id)
				n++
			}
		}
		for hash, tok := range d.oneTimeTokens {
			if !tok.ExpiresAt.After(now) {
				d.removeOneTimeToken(u, hash)
				n++
			}
		}
		for hash, f := range d.authFlows {
			if !f.ExpiresAt.After(now) {
				d.removeAuthFlow(u, hash)
				n++
			}
		}
		for key, c := range d.counters {
			if !c.ResetAt.After(now) {
				del(u, d.counters, key)
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Ping reports nil while the store is open, Unavailable once it is closed.
func (s *Store) Ping(ctx context.Context) error {
	return s.read(ctx, func(*db) error { return nil })
}

// Close closes the store: every later call is Unavailable. It waits for a
// running transaction to end. Closing a closed store is not an error.
func (s *Store) Close() error {
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	s.db.closed = true
	return nil
}

// newestFirst orders rows as every list must: CreatedAt descending, then
// ID descending (byte order, as PostgreSQL orders uuid).
func newestFirst(aCreated time.Time, aID uuid.UUID, bCreated time.Time, bID uuid.UUID) int {
	if c := bCreated.Compare(aCreated); c != 0 {
		return c
	}
	return bytes.Compare(bID[:], aID[:])
}

// page returns the rows of p out of all, copied with clone.
func page[T any](all []T, p keel.Page, clone func(T) T) []T {
	offset := max(p.Offset, 0)
	if offset >= len(all) || p.Limit <= 0 {
		return []T{}
	}
	end := len(all)
	if p.Limit < end-offset {
		end = offset + p.Limit
	}
	out := make([]T, 0, end-offset)
	for _, v := range all[offset:end] {
		out = append(out, clone(v))
	}
	return out
}
