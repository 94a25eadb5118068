package postgres

import (
	"slices"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
)

// TestPendingPerNode: nodes sharing the database each see their own
// journal entries at once, and another node's only once they are older
// than ForeignPendingGrace: a live node's blob in flight is never offered
// to another node's sweep, a dead node's is, a day later.
func TestPendingPerNode(t *testing.T) {
	a, url := openTest(t)
	b := openURL(t, url)
	a.SetNode("node-a")
	b.SetNode("node-b")
	now := time.Now()
	clock := func() time.Time { return now }
	a.SetClock(clock)
	b.SetClock(clock)
	if err := a.AddPending(ctx, now.Add(-time.Minute), "a1", "a2"); err != nil {
		t.Fatal(err)
	}
	if err := b.AddPending(ctx, now.Add(-ForeignPendingGrace-time.Minute), "b-old"); err != nil {
		t.Fatal(err)
	}
	if err := b.AddPending(ctx, now.Add(-time.Minute), "b-young"); err != nil {
		t.Fatal(err)
	}
	list := func(s *Store) []string {
		t.Helper()
		var ids []string
		if err := s.ListPending(ctx, now.Add(time.Hour), func(id string, _ time.Time) error {
			ids = append(ids, id)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got, want := list(a), []string{"a1", "a2", "b-old"}; !slices.Equal(got, want) {
		t.Errorf("node a lists %q, want %q", got, want)
	}
	if got, want := list(b), []string{"b-old", "b-young"}; !slices.Equal(got, want) {
		t.Errorf("node b lists %q, want %q", got, want)
	}
	now = now.Add(ForeignPendingGrace)
	if got, want := list(b), []string{"a1", "a2", "b-old", "b-young"}; !slices.Equal(got, want) {
		t.Errorf("a day later node b lists %q, want %q", got, want)
	}
	// A transaction referencing a blob clears its entry whichever node
	// journaled it.
	metatest.MustBucket(t, b, "bk")
	metatest.MustPut(t, b, metatest.Obj("bk", "k", "a1"))
	if got, want := list(a), []string{"a2", "b-old", "b-young"}; !slices.Equal(got, want) {
		t.Errorf("after node b's PUT of a1 node a lists %q, want %q", got, want)
	}
}
