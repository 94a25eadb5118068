package service

import (
	"slices"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// TestReclaimer: a retired blob is deleted at once when no read is about,
// waits for a read that began before the retirement (resolving or holding
// it), and never waits for a read that began after it.
func TestReclaimer(t *testing.T) {
	var deleted []string
	r := newReclaimer(func(ids []string) { deleted = append(deleted, ids...) })
	parts := func(ids ...string) []meta.Part {
		var ps []meta.Part
		for _, id := range ids {
			ps = append(ps, meta.Part{BlobID: id})
		}
		return append(ps, meta.Part{Inline: []byte("x")}) // inline: nothing to delete
	}
	expect := func(step string, want ...string) {
		t.Helper()
		slices.Sort(deleted)
		if !slices.Equal(deleted, want) {
			t.Fatalf("%s: deleted %v, want %v", step, deleted, want)
		}
		deleted = nil
	}

	r.retire(parts("a"))
	expect("no reads", "a")

	looking := r.begin() // resolved "b" and "c" but has not pinned them yet
	r.retire(parts("b", "c"))
	expect("a read looking up")
	after := r.begin() // began after the retirement: cannot have seen b or c
	after.keep(parts("d"))
	expect("a later read pins another version")
	looking.keep(parts("b"))
	expect("the earlier read pinned b", "c")
	looking.release()
	expect("the earlier read closed", "b")
	looking.release() // twice is harmless
	r.retire(parts("d"))
	expect("d is held by the later read")
	after.release()
	expect("the later read closed", "d")

	abandoned := r.begin() // a lookup that failed
	r.retire(parts("e"))
	abandoned.release()
	expect("a failed lookup ends", "e")
	if n := r.pending(); n != 0 {
		t.Fatalf("%d still waiting", n)
	}
}
