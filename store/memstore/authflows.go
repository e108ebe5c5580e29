package memstore

import (
	"bytes"
	"context"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

func cloneAuthFlow(f *keel.AuthFlow) *keel.AuthFlow {
	c := *f
	c.Data = bytes.Clone(f.Data)
	if c.Data == nil {
		c.Data = []byte{}
	}
	c.CreatedAt = f.CreatedAt.UTC()
	c.ExpiresAt = f.ExpiresAt.UTC()
	return &c
}

// CreateAuthFlow inserts a copy of f. Conflict when the key hash exists,
// NotFound when f names a user that does not exist.
func (h *handle) CreateAuthFlow(ctx context.Context, f *keel.AuthFlow) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if f.UserID != uuid.Nil {
			if _, ok := d.users[f.UserID]; !ok {
				return keel.Errorf(keel.NotFound, "memstore: the flow's user does not exist")
			}
		}
		if _, taken := d.authFlows[f.KeyHash]; taken {
			return keel.Errorf(keel.Conflict, "memstore: flow key hash already taken")
		}
		set(log, d.authFlows, f.KeyHash, cloneAuthFlow(f))
		if f.UserID != uuid.Nil {
			d.authFlowsByUser.add(log, f.UserID, f.KeyHash)
		}
		return nil
	})
}

// ConsumeAuthFlow deletes the flow of the kind with the hash and returns
// it: of concurrent calls exactly one gets it.
func (h *handle) ConsumeAuthFlow(ctx context.Context, kind keel.AuthFlowKind, keyHash string) (*keel.AuthFlow, error) {
	var out *keel.AuthFlow
	err := h.write(ctx, func(d *db, log *undoLog) error {
		f, ok := d.authFlows[keyHash]
		if !ok || f.Kind != kind {
			return keel.Errorf(keel.NotFound, "memstore: flow not found")
		}
		d.removeAuthFlow(log, keyHash)
		out = cloneAuthFlow(f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// removeAuthFlow deletes the flow and its index entry.
func (d *db) removeAuthFlow(log *undoLog, keyHash string) {
	f, ok := d.authFlows[keyHash]
	if !ok {
		return
	}
	if f.UserID != uuid.Nil {
		d.authFlowsByUser.remove(log, f.UserID, keyHash)
	}
	del(log, d.authFlows, keyHash)
}
