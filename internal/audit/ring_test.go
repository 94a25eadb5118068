package audit

import (
	"context"
	"testing"
)

func TestRing(t *testing.T) {
	ctx := context.Background()
	r := NewRing(3)
	r.Audit(ctx, Event{Type: TypeKey, Action: "create"}) // not a refusal: not kept
	for _, a := range []string{"a", "b", "c", "d"} {
		r.Audit(ctx, Event{Type: TypeDenied, Action: a})
	}
	r.Audit(ctx, Event{Type: TypeAuthFailure, Action: "e"})
	var got []string
	for _, e := range r.Recent() {
		got = append(got, e.Action)
	}
	if want := []string{"e", "d", "c"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("recent %v, want %v (newest first, the last 3)", got, want)
	}
}

// TestTee: every logger gets each event; nil loggers are left out.
func TestTee(t *testing.T) {
	if Tee(nil, nil) != nil {
		t.Fatal("a tee of nothing is not nil")
	}
	a, b := NewRing(5), NewRing(5)
	Record(context.Background(), Tee(a, nil, b), Event{Type: TypeDenied, Action: "x"})
	if len(a.Recent()) != 1 || len(b.Recent()) != 1 {
		t.Fatalf("a got %d, b %d events; want 1 each", len(a.Recent()), len(b.Recent()))
	}
}
