package bunstore

import (
	"context"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
)

const (
	msgTOTPNotFound         = "TOTP not found"
	msgTOTPStepUsed         = "TOTP step already used"
	msgRecoveryCodeNotFound = "Recovery code not found"
)

// PutTOTP inserts t or replaces the user's TOTP, with one
// INSERT ... ON CONFLICT DO UPDATE.
func (h *handle) PutTOTP(ctx context.Context, t *keel.TOTP) error {
	_, err := h.writer.NewInsert().Model(toTOTPRow(t)).
		On("CONFLICT (user_id) DO UPDATE").
		Set("secret = EXCLUDED.secret").
		Set("confirmed_at = EXCLUDED.confirmed_at").
		Set("last_step = EXCLUDED.last_step").
		Set("created_at = EXCLUDED.created_at").
		Exec(ctx)
	return storeError("put TOTP", err, msgUserNotFound, "")
}

// TOTP returns the user's TOTP.
func (h *handle) TOTP(ctx context.Context, userID uuid.UUID) (*keel.TOTP, error) {
	var row totpRow
	if err := h.reader.NewSelect().Model(&row).Where("tp.user_id = ?", userID).Scan(ctx); err != nil {
		return nil, storeError("TOTP", err, msgTOTPNotFound, "")
	}
	return row.totp(), nil
}

// AdvanceTOTPStep moves last_step forward with one conditional UPDATE:
// the database settles concurrent calls (PostgreSQL re-checks the WHERE
// of a row that another transaction updated meanwhile).
func (h *handle) AdvanceTOTPStep(ctx context.Context, userID uuid.UUID, step int64) error {
	res, err := h.writer.NewUpdate().Model((*totpRow)(nil)).
		Set("last_step = ?", step).
		Where("user_id = ?", userID).
		Where("last_step < ?", step).
		Exec(ctx)
	if err != nil {
		return storeError("advance TOTP step", err, "", "")
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return storeError("advance TOTP step", err, "", "")
	}
	// Nothing changed: tell a used step from a missing TOTP.
	exists, err := h.writer.NewSelect().Model((*totpRow)(nil)).Where("user_id = ?", userID).Exists(ctx)
	if err != nil {
		return storeError("advance TOTP step", err, "", "")
	}
	if !exists {
		return notFound("advance TOTP step", msgTOTPNotFound)
	}
	return keel.Errorf(keel.Conflict, msgTOTPStepUsed)
}

// DeleteTOTP deletes the user's TOTP and recovery codes in one transaction.
func (h *handle) DeleteTOTP(ctx context.Context, userID uuid.UUID) error {
	var deleted int64
	err := h.atomically(ctx, func(db bun.IDB) error {
		if _, err := db.NewDelete().Model((*recoveryCodeRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return err
		}
		res, err := db.NewDelete().Model((*totpRow)(nil)).Where("user_id = ?", userID).Exec(ctx)
		if err != nil {
			return err
		}
		deleted, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return storeError("delete TOTP", err, "", "")
	}
	if deleted == 0 {
		return notFound("delete TOTP", msgTOTPNotFound)
	}
	return nil
}

// ReplaceRecoveryCodes replaces the user's recovery codes in one
// transaction.
func (h *handle) ReplaceRecoveryCodes(ctx context.Context, userID uuid.UUID, hashes []string) error {
	rows := make([]recoveryCodeRow, 0, len(hashes))
	seen := make(map[string]bool, len(hashes))
	for _, hash := range hashes {
		if !seen[hash] {
			seen[hash] = true
			rows = append(rows, recoveryCodeRow{UserID: userID, CodeHash: hash})
		}
	}
	err := h.atomically(ctx, func(db bun.IDB) error {
		if _, err := db.NewDelete().Model((*recoveryCodeRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return err
		}
		if len(rows) == 0 {
			// The user must exist even when there is nothing to insert.
			exists, err := db.NewSelect().Model((*userRow)(nil)).Where("id = ?", userID).Exists(ctx)
			if err == nil && !exists {
				return notFound("replace recovery codes", msgUserNotFound)
			}
			return err
		}
		_, err := db.NewInsert().Model(&rows).Exec(ctx)
		return err
	})
	return storeError("replace recovery codes", err, msgUserNotFound, "")
}

// ConsumeRecoveryCode deletes the code with one DELETE: of concurrent
// calls, only one deletes the row.
func (h *handle) ConsumeRecoveryCode(ctx context.Context, userID uuid.UUID, hash string) error {
	res, err := h.writer.NewDelete().Model((*recoveryCodeRow)(nil)).
		Where("user_id = ?", userID).
		Where("code_hash = ?", hash).
		Exec(ctx)
	if err != nil {
		return storeError("consume recovery code", err, "", "")
	}
	return requireRow("consume recovery code", res, msgRecoveryCodeNotFound)
}

// CountRecoveryCodes returns how many recovery codes the user has left.
func (h *handle) CountRecoveryCodes(ctx context.Context, userID uuid.UUID) (int, error) {
	n, err := h.reader.NewSelect().Model((*recoveryCodeRow)(nil)).Where("user_id = ?", userID).Count(ctx)
	if err != nil {
		return 0, storeError("count recovery codes", err, "", "")
	}
	return int(n), nil
}
