package bolt

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// TestInlinePagesFull: inline bytes are appended to the n index in key
// order, one PUT or several to a commit; its leaf pages must end up
// full, not split half full for good (bbolt's default FillPercent).
// With 4 KiB pages one PUT per commit could not fill them: bbolt keeps
// two keys right of a split, and such a page splits at its fourth 1 KiB
// value.
func TestInlinePagesFull(t *testing.T) {
	for _, batch := range []int{1, 8} { // PUTs per group commit
		t.Run(fmt.Sprint(batch), func(t *testing.T) { testInlinePagesFull(t, batch) })
	}
}

func testInlinePagesFull(t *testing.T, batch int) {
	s := recStore(t, filepath.Join(t.TempDir(), "meta.db"))
	if err := s.CreateBucket(bg, &meta.Bucket{Name: "b", Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	kib := strings.Repeat("x", 1024)
	for i := 0; i < n; i += batch {
		err := s.db.Update(func(tx *bbolt.Tx) error {
			d, err := data(tx, "b")
			if err != nil {
				return err
			}
			for j := i; j < i+batch && j < n; j++ {
				if _, err := installIn(tx, d, inlineObj("b", fmt.Sprintf("k%05d", j), kib), nil, &s.buckets); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var st bbolt.BucketStats
	s.db.View(func(tx *bbolt.Tx) error {
		st = tx.Bucket(bkData).Bucket([]byte("b")).Bucket(subInline).Stats()
		return nil
	})
	if st.KeyN != n {
		t.Fatalf("%d inline entries, want %d", st.KeyN, n)
	}
	if fill := float64(st.LeafInuse) / float64(st.LeafAlloc); fill < 0.75 {
		t.Errorf("%d leaf pages for %d 1 KiB values: %d of %d bytes in use (%.2f), want 0.75 at least", st.LeafPageN, n, st.LeafInuse, st.LeafAlloc, fill)
	}
}
