package bolt

import (
	"fmt"
	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
	bbolt "go.etcd.io/bbolt"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// BenchmarkListDelimitedPage lists one page of 1000 common prefixes from
// deep inside a bucket of 1M keys under 100k prefixes (10 keys each), by
// skipping (the store) and by walking (every key read and rolled up). The
// skipping page reads 1000 seeks; the walking one 10,000 records.
//
//	go test -run '^$' -bench ListDelimitedPage -benchtime 20x ./internal/meta/bolt/
func BenchmarkListDelimitedPage(b *testing.B) {
	s, _ := openTemp(b)
	mustBucket(b, s, "b")
	const prefixes, per = 100_000, 10
	s.db.NoSync = true
	for start := 0; start < prefixes; start += 5000 {
		err := s.db.Update(func(tx *bbolt.Tx) error {
			d, err := data(tx, "b")
			if err != nil {
				return err
			}
			for p := start; p < start+5000; p++ {
				for k := range per {
					if _, err := install(tx, d, obj("b", fmt.Sprintf("p%06d/k%02d", p, k)), nil); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	s.db.NoSync = false
	marker := "p050000/"
	b.Run("skip", func(b *testing.B) {
		for b.Loop() {
			n := 0
			err := s.ListObjectsDelimited(ctx, "b", "", "/", marker, func(o *meta.Object, cp string) error {
				if n++; n > 1000 {
					return meta.ErrStop
				}
				return nil
			})
			if err != nil || n != 1001 {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("walk", func(b *testing.B) {
		for b.Loop() {
			n, last := 0, ""
			err := s.ListObjects(ctx, "b", "", marker, func(o *meta.Object) error {
				if _, dup := metatest.WalkRollUp(o.Key, "", "/", marker, &last); dup {
					return nil
				}
				if n++; n > 1000 {
					return meta.ErrStop
				}
				return nil
			})
			if err != nil || n != 1001 {
				b.Fatal(n, err)
			}
		}
	})
}
