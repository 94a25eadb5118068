package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// BenchmarkFreelistSync weighs writing bbolt's free list in every commit
// (NoFreelistSync false) against leaving it out and rebuilding it at an
// Open after a crash: 4 KiB-inline PUTs from 8 writers on a store of
// FREELIST_N objects (default 100,000), the two settings in alternating
// phases, then the Open after a crash with each.
//
//	FREELIST_N=1000000 go test -run '^$' -bench FreelistSync -benchtime 1x ./internal/meta/bolt/
func BenchmarkFreelistSync(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("FREELIST_N")); err == nil {
		n = v
	}
	path := filepath.Join(b.TempDir(), "meta.db")
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	mustBucket(b, s, "b")
	fillInline(b, s, "b", n)
	mk := func(i int) *meta.Object { return inlineObject("b", i, n) }
	var next atomic.Int64
	next.Store(int64(n))
	phase := func(syncList bool) float64 {
		s.db.Update(func(tx *bbolt.Tx) error { tx.DB().NoFreelistSync = !syncList; return nil })
		const writers, d = 8, 3 * time.Second
		var done atomic.Int64
		var wg sync.WaitGroup
		t0 := time.Now()
		for range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Since(t0) < d {
					if _, err := s.PutObject(ctx, mk(int(next.Add(1))), nil); err != nil {
						b.Error(err)
						return
					}
					done.Add(1)
				}
			}()
		}
		wg.Wait()
		return float64(done.Load()) / time.Since(t0).Seconds()
	}
	var rates [2]float64
	for range 3 {
		rates[0] += phase(false)
		rates[1] += phase(true)
	}
	b.ReportMetric(rates[0]/3, "put/s-nosync")
	b.ReportMetric(rates[1]/3, "put/s-sync")
	b.ReportMetric(float64(s.db.Stats().FreePageN+s.db.Stats().PendingPageN), "free-pages")
	st, _ := os.Stat(path)
	b.ReportMetric(float64(st.Size()), "db-bytes")
	// An Open after a crash: the last commit with each setting, then the
	// file closed without Store.Close's free-list write.
	for _, syncList := range []bool{false, true} {
		s.db.Update(func(tx *bbolt.Tx) error { tx.DB().NoFreelistSync = !syncList; return nil })
		if err := s.db.Close(); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if s, err = Open(path); err != nil {
			b.Fatal(err)
		}
		name := "crash-open-s-nosync"
		if syncList {
			name = "crash-open-s-sync"
		}
		b.ReportMetric(time.Since(t0).Seconds(), name)
	}
	s.Close()
}

// inlineObject is object i of n: 1 KiB inline, keyed in a scattered order
// (i >= n: a new key after them).
func inlineObject(bucket string, i, n int) *meta.Object {
	j := i
	if i < n {
		j = (i * 7919) % n
	}
	return &meta.Object{Bucket: bucket, Key: fmt.Sprintf("d%06d/o%010d", j/1000, j), Size: 1024, ETag: "0123456789abcdef0123456789abcdef",
		LastModified: time.Now(), Parts: []meta.Part{{Size: 1024, StoredSize: 1024, Inline: make([]byte, 1024)}}}
}

// fillInline puts n inline objects into bucket in transactions of 5000.
func fillInline(tb testing.TB, s *Store, bucket string, n int) {
	tb.Helper()
	for i := 0; i < n; i += 5000 {
		err := s.db.Update(func(tx *bbolt.Tx) error {
			d, err := data(tx, bucket)
			if err != nil {
				return err
			}
			for j := i; j < min(i+5000, n); j++ {
				if _, err := installIn(tx, d, inlineObject(bucket, j, n), nil, &s.buckets); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}
