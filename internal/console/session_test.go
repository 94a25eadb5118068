package console

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSessionExpiry: a session ends on the server after idleTimeout
// without use, or maxAge after login however busy; the cookie plays no
// part.
func TestSessionExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newSessions(func() time.Time { return now })
	tests := []struct {
		name  string
		steps []time.Duration // advance the clock, then use the session
		live  bool
	}{
		{"fresh", nil, true},
		{"used within the idle timeout", []time.Duration{idleTimeout - time.Second}, true},
		{"idle too long", []time.Duration{idleTimeout + time.Second}, false},
		{"kept busy past the maximum age", repeat(idleTimeout/2, int(maxAge/(idleTimeout/2))+1), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ss := s.create("root", "AK")
			live := true
			for _, d := range tc.steps {
				now = now.Add(d)
				live = s.get(ss.id) != nil
			}
			if live != tc.live {
				t.Fatalf("live %v, want %v", live, tc.live)
			}
			if !tc.live && s.get(ss.id) != nil {
				t.Fatal("an expired session came back")
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// TestSessionLimit: past maxSessions the oldest session is dropped, so
// logins cannot grow the table without bound.
func TestSessionLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newSessions(func() time.Time { return now })
	first := s.create("root", "AK")
	for range maxSessions {
		now = now.Add(time.Millisecond)
		s.create("root", "AK")
	}
	if len(s.m) != maxSessions {
		t.Fatalf("%d sessions, want %d", len(s.m), maxSessions)
	}
	if s.get(first.id) != nil {
		t.Fatal("the oldest session survived")
	}
}

// TestThrottleWindow: every attempt counts until it succeeds; failures are
// per address and forgotten once the window has passed.
func TestThrottleWindow(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newSessions(func() time.Time { return now })
	for i := range maxFailures {
		if !s.attempt("192.0.2.1") {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if s.attempt("192.0.2.1") || !s.attempt("192.0.2.2") {
		t.Fatal("throttling is not per address")
	}
	s.succeeded("192.0.2.2")
	now = now.Add(failureWindow + time.Second)
	if !s.attempt("192.0.2.1") {
		t.Fatal("still throttled after the window")
	}
}

// TestThrottleConcurrent: guesses sent at once are counted as they are
// let through, so no more than maxFailures pass in a window however many
// arrive together.
func TestThrottleConcurrent(t *testing.T) {
	s := newSessions(time.Now)
	var passed atomic.Int32
	var wg sync.WaitGroup
	for range 10 * maxFailures {
		wg.Go(func() {
			if s.attempt("192.0.2.9") {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := passed.Load(); n != maxFailures {
		t.Fatalf("%d concurrent attempts let through, want %d", n, maxFailures)
	}
}
