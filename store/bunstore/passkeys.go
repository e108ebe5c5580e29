package bunstore

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/keel-dev/keel"
)

const (
	msgPasskeyNotFound    = "Passkey not found"
	msgPasskeyExists      = "The passkey is registered already"
	msgUserHandleNotFound = "User handle not found"
	msgUserHandleExists   = "The user has a user handle already"
	msgCounterNotAfter    = "The passkey's signature counter did not move on"
)

// CreateUserHandle inserts the user's handle: the primary key on user_id
// and the unique index on handle make both taken cases Conflict.
func (h *handle) CreateUserHandle(ctx context.Context, userID uuid.UUID, userHandle []byte) error {
	_, err := h.writer.NewInsert().Model(&userHandleRow{UserID: userID, Handle: nonNil(userHandle)}).Exec(ctx)
	return storeError("create user handle", err, msgUserNotFound, msgUserHandleExists)
}

// UserHandle returns the user's handle.
func (h *handle) UserHandle(ctx context.Context, userID uuid.UUID) ([]byte, error) {
	var row userHandleRow
	if err := h.reader.NewSelect().Model(&row).Where("wuh.user_id = ?", userID).Scan(ctx); err != nil {
		return nil, storeError("user handle", err, msgUserHandleNotFound, "")
	}
	return row.Handle, nil
}

// UserByHandle returns the user with the handle, in one query that joins
// the handles to the users.
func (h *handle) UserByHandle(ctx context.Context, userHandle []byte) (*keel.User, error) {
	var row userRow
	err := h.reader.NewSelect().Model(&row).
		Join("JOIN webauthn_user_handles AS wuh ON wuh.user_id = u.id").
		Where("wuh.handle = ?", nonNil(userHandle)).
		Scan(ctx)
	if err != nil {
		return nil, storeError("user by handle", err, msgUserNotFound, "")
	}
	return row.user(), nil
}

// CreatePasskey inserts p; the unique index on credential_id keeps a
// credential registered once, by one user.
func (h *handle) CreatePasskey(ctx context.Context, p *keel.Passkey) error {
	_, err := h.writer.NewInsert().Model(toPasskeyRow(p)).Exec(ctx)
	return storeError("create passkey", err, msgUserNotFound, msgPasskeyExists)
}

// Passkey returns the passkey with the credential id.
func (h *handle) Passkey(ctx context.Context, credentialID []byte) (*keel.Passkey, error) {
	var row passkeyRow
	if err := h.reader.NewSelect().Model(&row).Where("pk.credential_id = ?", nonNil(credentialID)).Scan(ctx); err != nil {
		return nil, storeError("passkey", err, msgPasskeyNotFound, "")
	}
	return row.passkey(), nil
}

// ListPasskeys returns the user's passkeys, newest first.
func (h *handle) ListPasskeys(ctx context.Context, userID uuid.UUID) ([]*keel.Passkey, error) {
	var rows []passkeyRow
	err := h.reader.NewSelect().Model(&rows).
		Where("pk.user_id = ?", userID).
		OrderExpr("pk.created_at DESC, pk.id DESC").
		Scan(ctx)
	if err != nil {
		return nil, storeError("list passkeys", err, "", "")
	}
	out := make([]*keel.Passkey, len(rows))
	for i := range rows {
		out[i] = rows[i].passkey()
	}
	return out, nil
}

// UsePasskey records a use with one conditional UPDATE, so that the
// counter check and the write are one atomic step; when it matches no row,
// a second query tells a missing passkey from a counter that did not move
// on.
func (h *handle) UsePasskey(ctx context.Context, credentialID []byte, signCount uint32, flags keel.PasskeyFlags, at time.Time) error {
	credentialID = nonNil(credentialID)
	err := h.atomically(ctx, func(db bun.IDB) error {
		res, err := db.NewUpdate().Model((*passkeyRow)(nil)).
			Set("sign_count = ?", int64(signCount)).
			Set("user_present = ?", flags.UserPresent).
			Set("user_verified = ?", flags.UserVerified).
			Set("backup_eligible = ?", flags.BackupEligible).
			Set("backup_state = ?", flags.BackupState).
			Set("last_used_at = ?", at).
			Where("credential_id = ?", credentialID).
			Where("(sign_count < ? OR (sign_count = 0 AND ? = 0))", int64(signCount), int64(signCount)).
			Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		exists, err := db.NewSelect().Model((*passkeyRow)(nil)).Where("credential_id = ?", credentialID).Exists(ctx)
		if err != nil {
			return err
		}
		if !exists {
			return notFound("use passkey", msgPasskeyNotFound)
		}
		return keel.Errorf(keel.Conflict, msgCounterNotAfter)
	})
	return storeError("use passkey", err, msgPasskeyNotFound, "")
}

// DeletePasskey deletes the user's passkey with the id.
func (h *handle) DeletePasskey(ctx context.Context, userID, id uuid.UUID) error {
	res, err := h.writer.NewDelete().Model((*passkeyRow)(nil)).
		Where("id = ?", id).
		Where("user_id = ?", userID).
		Exec(ctx)
	if err != nil {
		return storeError("delete passkey", err, "", "")
	}
	return requireRow("delete passkey", res, msgPasskeyNotFound)
}
