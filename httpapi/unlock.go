package httpapi

import (
	"net/http"

	"github.com/keel-dev/keel"
)

// unlockUser serves POST /users/{user_id}/unlock: the account's lockout
// of untrusted clients ends.
func unlockUser(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "user_id")
	if err != nil {
		return err
	}
	if err := a.svc.Unlock(r.Context(), sess.User, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{"Account unlocked"})
	return nil
}
