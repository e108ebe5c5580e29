package memstore

import (
	"bytes"
	"context"

	"github.com/google/uuid"

	"github.com/keel-dev/keel"
)

var errTOTPNotFound = keel.Errorf(keel.NotFound, "memstore: TOTP not found")

// cloneTOTP returns a deep copy of t with its times in UTC.
func cloneTOTP(t *keel.TOTP) *keel.TOTP {
	c := *t
	c.Secret = bytes.Clone(t.Secret)
	if c.Secret == nil {
		c.Secret = []byte{}
	}
	c.ConfirmedAt = t.ConfirmedAt.UTC()
	c.CreatedAt = t.CreatedAt.UTC()
	return &c
}

// PutTOTP inserts or replaces the user's TOTP. NotFound when the user does
// not exist.
func (h *handle) PutTOTP(ctx context.Context, t *keel.TOTP) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, ok := d.users[t.UserID]; !ok {
			return keel.Errorf(keel.NotFound, "memstore: the TOTP's user does not exist")
		}
		set(log, d.totps, t.UserID, cloneTOTP(t))
		return nil
	})
}

// TOTP returns the user's TOTP. NotFound when there is none.
func (h *handle) TOTP(ctx context.Context, userID uuid.UUID) (*keel.TOTP, error) {
	var out *keel.TOTP
	err := h.read(ctx, func(d *db) error {
		t, ok := d.totps[userID]
		if !ok {
			return errTOTPNotFound
		}
		out = cloneTOTP(t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AdvanceTOTPStep moves LastStep forward to step. Conflict when step is
// not after it, NotFound when there is no TOTP.
func (h *handle) AdvanceTOTPStep(ctx context.Context, userID uuid.UUID, step int64) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		t, ok := d.totps[userID]
		if !ok {
			return errTOTPNotFound
		}
		if step <= t.LastStep {
			return keel.Errorf(keel.Conflict, "memstore: the TOTP step was already used")
		}
		upd := cloneTOTP(t)
		upd.LastStep = step
		set(log, d.totps, userID, upd)
		return nil
	})
}

// DeleteTOTP deletes the user's TOTP and recovery codes. NotFound when
// there is no TOTP.
func (h *handle) DeleteTOTP(ctx context.Context, userID uuid.UUID) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		del(log, d.recoveryCodes, userID)
		if !del(log, d.totps, userID) {
			return errTOTPNotFound
		}
		return nil
	})
}

// ReplaceRecoveryCodes replaces the user's recovery codes with the hashes.
// NotFound when the user does not exist.
func (h *handle) ReplaceRecoveryCodes(ctx context.Context, userID uuid.UUID, hashes []string) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if _, ok := d.users[userID]; !ok {
			return keel.Errorf(keel.NotFound, "memstore: the recovery codes' user does not exist")
		}
		codes := make(map[string]struct{}, len(hashes))
		for _, hash := range hashes {
			codes[hash] = struct{}{}
		}
		set(log, d.recoveryCodes, userID, codes)
		return nil
	})
}

// ConsumeRecoveryCode deletes one of the user's recovery codes. NotFound
// when the user has no code with the hash.
func (h *handle) ConsumeRecoveryCode(ctx context.Context, userID uuid.UUID, hash string) error {
	return h.write(ctx, func(d *db, log *undoLog) error {
		if !del(log, d.recoveryCodes[userID], hash) {
			return keel.Errorf(keel.NotFound, "memstore: recovery code not found")
		}
		return nil
	})
}

// CountRecoveryCodes returns how many recovery codes the user has left.
func (h *handle) CountRecoveryCodes(ctx context.Context, userID uuid.UUID) (int, error) {
	var n int
	err := h.read(ctx, func(d *db) error {
		n = len(d.recoveryCodes[userID])
		return nil
	})
	return n, err
}
