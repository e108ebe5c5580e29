package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
)

// userPublic is a user as the API shows it: never a password hash or any
// other secret.
type userPublic struct {
	ID          uuid.UUID `json:"id" required:"true" format:"uuid"`
	Email       string    `json:"email" required:"true" format:"email" maxLength:"255"`
	FullName    *string   `json:"full_name" required:"true" maxLength:"255"`
	IsActive    bool      `json:"is_active" required:"true"`
	IsSuperuser bool      `json:"is_superuser" required:"true"`
	CreatedAt   time.Time `json:"created_at" required:"true"`
	// IsVerified is shown only while keel verifies addresses, so that the
	// template's shape is unchanged with verification off.
	IsVerified *bool `json:"is_verified,omitempty" description:"Whether the address is verified; present only while email verification is on (keel)."`
}

// usersPublic is a page of users with the total count.
type usersPublic struct {
	Data  []userPublic `json:"data" required:"true" nullable:"false"`
	Count int          `json:"count" required:"true" minimum:"0"`
}

// userPublic is u as the API shows it.
func (a *api) userPublic(u *keel.User) userPublic {
	out := userPublic{ID: u.ID, Email: u.Email, FullName: u.FullName, IsActive: u.IsActive, IsSuperuser: u.IsSuperuser, CreatedAt: u.CreatedAt.UTC()}
	if a.verifying {
		v := u.IsVerified
		out.IsVerified = &v
	}
	return out
}

// privateUserCreate is the body of the development-only POST /private/users/.
type privateUserCreate struct {
	Email      string `json:"email" required:"true" format:"email" maxLength:"255"`
	Password   string `json:"password" required:"true" validate:"password"` // checked by keel; the tag documents the rule
	FullName   string `json:"full_name" required:"true" maxLength:"255"`
	IsVerified bool   `json:"is_verified" default:"false"`
}

// userIDPath is the path parameter of the /users/{user_id} routes.
type userIDPath struct {
	UserID uuid.UUID `path:"user_id" format:"uuid"`
}

// emailToQuery is the query of POST /utils/test-email/.
type emailToQuery struct {
	EmailTo string `query:"email_to" required:"true" format:"email"`
}

func signUp(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	var in keel.SignUpInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := a.svc.SignUp(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.userPublic(u))
	return nil
}

func readUserMe(a *api, w http.ResponseWriter, _ *http.Request, sess *keel.Session) error {
	writeJSON(w, http.StatusOK, a.userPublic(sess.User))
	return nil
}

func updateUserMe(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	var in keel.UpdateMeInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := a.svc.UpdateMe(r.Context(), sess.User, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.userPublic(u))
	return nil
}

func updatePasswordMe(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	var in keel.ChangePasswordInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	if err := a.svc.ChangePassword(r.Context(), sess, in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{"Password updated successfully"})
	return nil
}

func deleteUserMe(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	if err := a.svc.DeleteUser(r.Context(), sess.User, sess.User.ID); err != nil {
		return err
	}
	a.auth.clearCookie(w)
	writeJSON(w, http.StatusOK, message{"User deleted successfully"})
	return nil
}

func readUsers(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	opts, err := parsePage(r.URL.Query(), a.svc)
	if err != nil {
		return err
	}
	users, n, err := a.svc.Users(r.Context(), sess.User, opts)
	if err != nil {
		return err
	}
	out := usersPublic{Data: make([]userPublic, len(users)), Count: n}
	for i, u := range users {
		out.Data[i] = a.userPublic(u)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func createUser(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	var in keel.CreateUserInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := a.svc.CreateUser(r.Context(), sess.User, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.userPublic(u))
	return nil
}

func readUserByID(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "user_id")
	if err != nil {
		return err
	}
	u, err := a.svc.User(r.Context(), sess.User, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.userPublic(u))
	return nil
}

func updateUser(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "user_id")
	if err != nil {
		return err
	}
	var in keel.UpdateUserInput
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	u, err := a.svc.UpdateUser(r.Context(), sess.User, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.userPublic(u))
	return nil
}

func deleteUser(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "user_id")
	if err != nil {
		return err
	}
	if err := a.svc.DeleteUser(r.Context(), sess.User, id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{"User deleted successfully"})
	return nil
}

// createPrivateUser serves the development-only POST /private/users/: an
// ordinary account, opened as signing up opens one, from the template's
// request shape.
func createPrivateUser(a *api, w http.ResponseWriter, r *http.Request, _ *keel.Session) error {
	var in privateUserCreate
	if err := a.decodeJSON(w, r, &in); err != nil {
		return err
	}
	name := in.FullName
	u, err := a.svc.SignUp(r.Context(), keel.SignUpInput{Email: in.Email, Password: in.Password, FullName: &name})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.userPublic(u))
	return nil
}
