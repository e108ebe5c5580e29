package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/keel-dev/keel"
	"github.com/keel-dev/keel/internal/keeltest"
)

// TestConcurrentPasswordChanges sends twenty password changes at once,
// each from its own session and each with the right current password. One
// may win: the others find the password changed (400 "Incorrect
// password") or their session ended (401), the winner's session goes on
// working, and only the winner's password logs in.
func TestConcurrentPasswordChanges(t *testing.T) {
	const callers = 20
	keeltest.EachStore(t, func(t *testing.T, st keel.Store) {
		e := newEnvOn(t, st, withKeel(func(c *keel.Config) { c.RateLimits.Disabled = true }))
		e.account("ada@example.com", false)
		tokens := make([]string, callers)
		for i := range tokens {
			tokens[i] = e.login("ada@example.com")
		}
		statuses := make([]int, callers)
		details := make([]string, callers)
		var wg sync.WaitGroup
		for i, tok := range tokens {
			wg.Go(func() {
				res := e.do(req{method: "PATCH", path: "/users/me/password", bearer: tok,
					json: map[string]string{"current_password": password, "new_password": newPasswordOf(i)}})
				statuses[i] = res.StatusCode
				if res.StatusCode != http.StatusOK {
					details[i], _ = res.json(t)["detail"].(string)
				}
			})
		}
		wg.Wait()
		winner := -1
		for i, status := range statuses {
			switch {
			case status == http.StatusOK:
				if winner >= 0 {
					t.Errorf("callers %d and %d both changed the password", winner, i)
				}
				winner = i
			case status == http.StatusBadRequest && details[i] == "Incorrect password",
				status == http.StatusUnauthorized:
			default:
				t.Errorf("caller %d: %d %q", i, status, details[i])
			}
		}
		if winner < 0 {
			t.Fatalf("no change went through: %v", statuses)
		}
		for i, tok := range tokens {
			res := e.do(req{method: "GET", path: "/users/me", bearer: tok})
			if want := map[bool]int{true: 200, false: 401}[i == winner]; res.StatusCode != want {
				t.Errorf("caller %d's session (winner %d) answers %d, want %d", i, winner, res.StatusCode, want)
			}
		}
		for i := range callers {
			res := e.do(req{method: "POST", path: "/login/access-token",
				form: url.Values{"username": {"ada@example.com"}, "password": {newPasswordOf(i)}}})
			if want := map[bool]int{true: 200, false: 400}[i == winner]; res.StatusCode != want {
				t.Errorf("logging in with caller %d's password (winner %d): %d, want %d", i, winner, res.StatusCode, want)
			}
		}
	})
}

func newPasswordOf(caller int) string { return fmt.Sprintf("the new password of caller %d", caller) }
