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
// order, several PUTs to a group commit; its leaf pages must end up full
// (three 1 KiB values to a 4 KiB page), not split half full for good
// (two). (One PUT per commit still leaves two: bbolt keeps two keys on
// the right of a split, and a 4 KiB page splits at its fourth value.)
func TestInlinePagesFull(t *testing.T) {
	s := recStore(t, filepath.Join(t.TempDir(), "meta.db"))
	if err := s.CreateBucket(bg, &meta.Bucket{Name: "b", Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	const n = 300
	kib := strings.Repeat("x", 1024)
	const batch = 8 // PUTs per group commit
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
	if max := n * 2 / 5; st.LeafPageN > max { // 2.5 values a page at least
		t.Errorf("%d leaf pages for %d 1 KiB values (%d of %d bytes in use), want at most %d", st.LeafPageN, n, st.LeafInuse, st.LeafAlloc, max)
	}
}
