package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keel-dev/keel"
)

func testCounters(t *testing.T, newStore newStoreFunc) {
	t.Run("IncrementCounter follows the fixed window", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		const w = time.Minute
		key := "login:" + NewID().String()
		for _, step := range []struct {
			name        string
			now         time.Time
			wantCount   int64
			wantResetAt time.Time
		}{
			{"a fresh key starts at 1 with ResetAt now plus the window", now, 1, now.Add(w)},
			{"inside the window it counts up and keeps ResetAt", now.Add(time.Second), 2, now.Add(w)},
			{"a microsecond before the window ends it still counts up", now.Add(w - time.Microsecond), 3, now.Add(w)},
			{"when the window ends it starts again at 1", now.Add(w), 1, now.Add(2 * w)},
			{"inside the new window it counts up", now.Add(w + time.Second), 2, now.Add(2 * w)},
			{"long after the window it starts again at 1", now.Add(time.Hour), 1, now.Add(time.Hour + w)},
		} {
			t.Run(step.name, func(t *testing.T) {
				c, err := s.IncrementCounter(t.Context(), key, w, step.now)
				wantNoError(t, "IncrementCounter", err)
				checkCounter(t, "IncrementCounter", c, step.wantCount, step.wantResetAt)
				c, err = s.Counter(t.Context(), key, step.now)
				wantNoError(t, "Counter", err)
				checkCounter(t, "Counter", c, step.wantCount, step.wantResetAt)
			})
		}
	})

	t.Run("counters with different keys count separately", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		a, b := "a:"+NewID().String(), "b:"+NewID().String()
		for range 3 {
			_, err := s.IncrementCounter(t.Context(), a, time.Minute, now)
			wantNoError(t, "IncrementCounter", err)
		}
		c, err := s.IncrementCounter(t.Context(), b, time.Hour, now)
		wantNoError(t, "IncrementCounter", err)
		checkCounter(t, "the other key", c, 1, now.Add(time.Hour))
		c, err = s.Counter(t.Context(), a, now)
		wantNoError(t, "Counter", err)
		checkCounter(t, "the first key", c, 3, now.Add(time.Minute))
	})

	t.Run("Counter of a missing or ended counter is the zero Counter", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		key := "login:" + NewID().String()
		_, err := s.IncrementCounter(t.Context(), key, time.Minute, now)
		wantNoError(t, "IncrementCounter", err)
		for _, tc := range []struct {
			name string
			key  string
			now  time.Time
		}{
			{"a key never incremented", "missing:" + NewID().String(), now},
			{"a counter whose window ends now", key, now.Add(time.Minute)},
			{"a counter whose window ended long ago", key, now.Add(24 * time.Hour)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, err := s.Counter(t.Context(), tc.key, tc.now)
				wantNoError(t, "Counter", err)
				checkCounter(t, "Counter", c, 0, time.Time{})
			})
		}
	})

	t.Run("DeleteCounter deletes the counter and a missing one is no error", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		key, other := "login:"+NewID().String(), "login:"+NewID().String()
		for _, k := range []string{key, key, other} {
			_, err := s.IncrementCounter(t.Context(), k, time.Minute, now)
			wantNoError(t, "IncrementCounter", err)
		}
		wantNoError(t, "DeleteCounter", s.DeleteCounter(t.Context(), key))
		c, err := s.Counter(t.Context(), key, now)
		wantNoError(t, "Counter", err)
		checkCounter(t, "Counter after DeleteCounter", c, 0, time.Time{})
		c, err = s.IncrementCounter(t.Context(), key, time.Minute, now.Add(time.Second))
		wantNoError(t, "IncrementCounter after DeleteCounter", err)
		checkCounter(t, "IncrementCounter after DeleteCounter", c, 1, now.Add(time.Second+time.Minute))
		c, err = s.Counter(t.Context(), other, now)
		wantNoError(t, "Counter of the other key", err)
		checkCounter(t, "the other key", c, 1, now.Add(time.Minute))

		wantNoError(t, "DeleteCounter of a missing key", s.DeleteCounter(t.Context(), "missing:"+NewID().String()))
	})

	t.Run("50 concurrent increments of a fresh key return the counts 1 to 50", func(t *testing.T) {
		s := newStore(t)
		now := Now()
		key := "login:" + NewID().String()
		const n = 50
		counts := make([]int64, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				c, err := s.IncrementCounter(t.Context(), key, time.Minute, now)
				if err != nil {
					t.Errorf("IncrementCounter: %v", err)
					return
				}
				if !c.ResetAt.Equal(now.Add(time.Minute)) {
					t.Errorf("IncrementCounter: ResetAt = %v, want %v", c.ResetAt, now.Add(time.Minute))
				}
				counts[i] = c.Count
			})
		}
		close(start)
		wg.Wait()
		slices.Sort(counts)
		for i, c := range counts {
			if c != int64(i+1) {
				t.Fatalf("sorted counts = %v, want 1 to %d each once", counts, n)
			}
		}
		c, err := s.Counter(t.Context(), key, now)
		wantNoError(t, "Counter", err)
		checkCounter(t, "Counter", c, n, now.Add(time.Minute))
	})
}

func testDeleteExpired(t *testing.T, newStore newStoreFunc) {
	t.Run("DeleteExpired removes rows that expired at or before now and keeps live ones", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		now := Now()
		var users []*keel.User
		for range 5 {
			users = append(users, mustCreateUser(t, s, NewUser()))
		}
		expiredSessions := []*keel.SessionRecord{
			mustCreateSession(t, s, NewSession(users[0].ID, now.Add(-time.Hour))),
			mustCreateSession(t, s, NewSession(users[0].ID, now)), // expires exactly now
		}
		liveSessions := []*keel.SessionRecord{
			mustCreateSession(t, s, NewSession(users[0].ID, now.Add(time.Microsecond))),
			mustCreateSession(t, s, NewSession(users[1].ID, now.Add(time.Hour))),
		}
		// A user has one reset token at a time, so each gets its own user.
		expiredTokens := []*keel.ResetToken{
			mustCreateResetToken(t, s, NewResetToken(users[0].ID, now.Add(-2*time.Hour), now.Add(-time.Hour))),
			mustCreateResetToken(t, s, NewResetToken(users[1].ID, now.Add(-time.Hour), now)),
		}
		liveTokens := []*keel.ResetToken{
			mustCreateResetToken(t, s, NewResetToken(users[2].ID, now, now.Add(time.Microsecond))),
			mustCreateResetToken(t, s, NewResetToken(users[3].ID, now, now.Add(time.Hour))),
		}
		expiredAPITokens := []*keel.APIToken{
			mustCreateAPIToken(t, s, NewAPIToken(users[4].ID, now.Add(-2*time.Hour), now.Add(-time.Hour))),
			mustCreateAPIToken(t, s, NewAPIToken(users[4].ID, now.Add(-time.Hour), now)),
		}
		liveAPITokens := []*keel.APIToken{
			mustCreateAPIToken(t, s, NewAPIToken(users[4].ID, now, now.Add(time.Microsecond))),
			mustCreateAPIToken(t, s, NewAPIToken(users[0].ID, now, now.Add(time.Hour))),
		}
		counters := []struct {
			key     string
			window  time.Duration
			start   time.Time
			expired bool
		}{
			{"ended:" + NewID().String(), time.Minute, now.Add(-time.Hour), true},
			{"ends-now:" + NewID().String(), time.Minute, now.Add(-time.Minute), true},
			{"live:" + NewID().String(), time.Minute, now.Add(-time.Minute + time.Microsecond), false},
			{"fresh:" + NewID().String(), time.Hour, now, false},
		}
		for _, c := range counters {
			_, err := s.IncrementCounter(ctx, c.key, c.window, c.start)
			wantNoError(t, "IncrementCounter", err)
		}

		n, err := s.DeleteExpired(ctx, now)
		wantNoError(t, "DeleteExpired", err)
		if n != 8 {
			t.Errorf("DeleteExpired = %d, want 8 (2 sessions, 2 reset tokens, 2 API tokens, 2 counters)", n)
		}

		// Deleted rows are gone even to calls that do not check expiry.
		for _, sess := range expiredSessions {
			wantCode(t, "UpdateSession of an expired session", s.UpdateSession(ctx, sess.TokenHash, nil, now.Add(time.Hour)), keel.NotFound)
		}
		for _, sess := range liveSessions {
			got, _, err := s.FindSession(ctx, sess.TokenHash, now)
			wantNoError(t, "FindSession of a live session", err)
			checkSession(t, "a live session", got, sess)
		}
		for _, tok := range expiredTokens {
			_, err := s.ConsumeResetToken(ctx, tok.TokenHash)
			wantCode(t, "ConsumeResetToken of an expired token", err, keel.NotFound)
		}
		for _, tok := range liveTokens {
			got, err := s.ConsumeResetToken(ctx, tok.TokenHash)
			wantNoError(t, "ConsumeResetToken of a live token", err)
			checkResetToken(t, "a live token", got, tok)
		}
		// Read at an earlier now, where the expired ones would be found had
		// they survived.
		for _, tok := range expiredAPITokens {
			_, _, err := s.FindAPIToken(ctx, tok.TokenHash, now.Add(-3*time.Hour))
			wantCode(t, "FindAPIToken of an expired token", err, keel.NotFound)
		}
		for _, tok := range liveAPITokens {
			got, _, err := s.FindAPIToken(ctx, tok.TokenHash, now)
			wantNoError(t, "FindAPIToken of a live token", err)
			checkAPIToken(t, "a live API token", got, tok)
		}
		for _, c := range counters {
			// Read at the counter's own start, where even an expired one
			// would still be live had it survived.
			got, err := s.Counter(ctx, c.key, c.start)
			wantNoError(t, "Counter", err)
			if c.expired {
				checkCounter(t, "Counter of "+c.key, got, 0, time.Time{})
			} else {
				checkCounter(t, "Counter of "+c.key, got, 1, c.start.Add(c.window))
			}
		}
		checkUser(t, "a user whose session expired", mustUser(t, s, users[0].ID), users[0])

		n, err = s.DeleteExpired(ctx, now)
		wantNoError(t, "DeleteExpired again", err)
		if n != 0 {
			t.Errorf("DeleteExpired again = %d, want 0", n)
		}
	})

	t.Run("DeleteExpired on an empty store deletes nothing", func(t *testing.T) {
		s := newStore(t)
		n, err := s.DeleteExpired(t.Context(), Now())
		wantNoError(t, "DeleteExpired", err)
		if n != 0 {
			t.Errorf("DeleteExpired = %d, want 0", n)
		}
	})
}
