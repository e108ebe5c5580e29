package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/plural"
)

// sessionPublic is a session as its user sees it: never its token.
type sessionPublic struct {
	ID         uuid.UUID `json:"id" required:"true" format:"uuid" description:"Names the session; not its token."`
	CreatedAt  time.Time `json:"created_at" required:"true"`
	LastUsedAt time.Time `json:"last_used_at" required:"true" description:"When the session last authenticated a request, to within a minute."`
	ExpiresAt  time.Time `json:"expires_at" required:"true"`
	ClientAddr string    `json:"client_addr" required:"true" description:"The client address of the login, as far as the server could tell."`
	UserAgent  string    `json:"user_agent" required:"true" description:"The User-Agent of the login, as the client sent it (cut to 256 bytes)."`
	Current    bool      `json:"current" required:"true" description:"Whether this is the session of the request."`
}

// sessionsPublic is a user's live sessions, newest first.
type sessionsPublic struct {
	Data  []sessionPublic `json:"data" required:"true" nullable:"false"`
	Count int             `json:"count" required:"true" minimum:"0"`
}

// sessionPath is the path parameters of a session of a user.
type sessionPath struct {
	UserID    uuid.UUID `path:"user_id" format:"uuid"`
	SessionID uuid.UUID `path:"session_id" format:"uuid"`
}

// mySessionPath is the path parameter of a session of the caller's.
type mySessionPath struct {
	SessionID uuid.UUID `path:"session_id" format:"uuid"`
}

// readMySessions serves GET /users/me/sessions.
func readMySessions(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	return a.writeSessions(w, r, sess, sess.User.ID)
}

// readUserSessions serves GET /users/{user_id}/sessions.
func readUserSessions(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "user_id")
	if err != nil {
		return err
	}
	return a.writeSessions(w, r, sess, id)
}

func (a *api) writeSessions(w http.ResponseWriter, r *http.Request, sess *keel.Session, userID uuid.UUID) error {
	list, err := a.svc.Sessions(r.Context(), sess, userID)
	if err != nil {
		return err
	}
	out := sessionsPublic{Data: make([]sessionPublic, len(list)), Count: len(list)}
	for i, s := range list {
		out.Data[i] = sessionPublic{ID: s.ID, CreatedAt: s.CreatedAt.UTC(), LastUsedAt: s.LastUsedAt.UTC(), ExpiresAt: s.Expiry.UTC(),
			ClientAddr: s.ClientAddr, UserAgent: s.UserAgent, Current: s.Current}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// endMySession serves DELETE /users/me/sessions/{session_id}. Ending the
// session of the request clears its cookie too.
func endMySession(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	id, err := pathUUID(r, "session_id")
	if err != nil {
		return err
	}
	if err := a.svc.EndSession(r.Context(), sess.User, sess.User.ID, id); err != nil {
		return err
	}
	if id == sess.ID {
		a.auth.clearCookie(w)
	}
	writeJSON(w, http.StatusOK, message{msgSessionEnded})
	return nil
}

// endUserSession serves DELETE /users/{user_id}/sessions/{session_id}.
func endUserSession(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	userID, err := pathUUID(r, "user_id")
	if err != nil {
		return err
	}
	id, err := pathUUID(r, "session_id")
	if err != nil {
		return err
	}
	if err := a.svc.EndSession(r.Context(), sess.User, userID, id); err != nil {
		return err
	}
	if id == sess.ID {
		a.auth.clearCookie(w)
	}
	writeJSON(w, http.StatusOK, message{msgSessionEnded})
	return nil
}

// endOtherSessions serves DELETE /users/me/sessions: every session of the
// caller's but the request's ends.
func endOtherSessions(a *api, w http.ResponseWriter, r *http.Request, sess *keel.Session) error {
	n, err := a.svc.EndOtherSessions(r.Context(), sess)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{"Ended " + plural.Count(int(n), "other session")})
	return nil
}

const msgSessionEnded = "Session ended"
