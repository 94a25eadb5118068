package audit

import (
	"context"
	"sync"
)

// Ring keeps the last refusals (access denials and authentication
// failures) in memory, for the operator console: the audit file may be
// off, elsewhere, or too long to read on every page view.
type Ring struct {
	mu     sync.Mutex
	events []Event // circular once full
	next   int
	full   bool
}

// NewRing returns a Ring holding the last n refusals (n < 1: 1).
func NewRing(n int) *Ring {
	return &Ring{events: make([]Event, max(n, 1))}
}

// Audit implements Logger, keeping refusals and ignoring the rest.
func (r *Ring) Audit(_ context.Context, e Event) {
	if e.Type != TypeDenied && e.Type != TypeAuthFailure {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events[r.next] = e
	r.next++
	if r.next == len(r.events) {
		r.next, r.full = 0, true
	}
}

// Recent returns the refusals kept, newest first.
func (r *Ring) Recent() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.events)
	}
	out := make([]Event, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, r.events[(r.next-i+len(r.events))%len(r.events)])
	}
	return out
}

// Tee returns a Logger sending every event to each non-nil logger given
// (nil when there is none).
func Tee(ls ...Logger) Logger {
	var t tee
	for _, l := range ls {
		if l != nil {
			t = append(t, l)
		}
	}
	switch len(t) {
	case 0:
		return nil
	case 1:
		return t[0]
	}
	return t
}

type tee []Logger

func (t tee) Audit(ctx context.Context, e Event) {
	for _, l := range t {
		l.Audit(ctx, e)
	}
}
