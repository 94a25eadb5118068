package bolt

import (
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// TestBucketCache: a cached bucket costs no transaction, and every bucket
// change is seen at once, by GetBucket and by the versioning state writes
// read.
func TestBucketCache(t *testing.T) {
	s := recStore(t, filepath.Join(t.TempDir(), "meta.db"))
	if err := s.CreateBucket(bg, &meta.Bucket{Name: "b", Owner: "alice", Config: map[string][]byte{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBucket(bg, "b"); err != nil {
		t.Fatal(err)
	}
	txs := s.db.Stats().TxN
	b, err := s.GetBucket(bg, "b")
	if err != nil {
		t.Fatal(err)
	}
	if n := s.db.Stats().TxN - txs; n != 0 {
		t.Fatalf("a cached GetBucket opened %d transactions", n)
	}
	b.Owner = "mallory" // the caller's copy
	if b2, _ := s.GetBucket(bg, "b"); b2.Owner != "alice" {
		t.Fatalf("a caller's change reached the cache: owner %q", b2.Owner)
	}

	// A write reads the versioning state from the cache, and sees the
	// change at once.
	if _, err := s.PutObject(bg, inlineObj("b", "k", "one"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateBucket(bg, "b", func(b *meta.Bucket) error {
		b.Versioning = meta.VersioningEnabled
		b.Config["policy"] = []byte("{}")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if b, err := s.GetBucket(bg, "b"); err != nil || b.Versioning != meta.VersioningEnabled || string(b.Config["policy"]) != "{}" {
		t.Fatalf("after UpdateBucket: %+v, %v", b, err)
	}
	if _, err := s.PutObject(bg, inlineObj("b", "k", "two"), nil); err != nil {
		t.Fatal(err)
	}
	n := 0
	s.ListObjectVersions(bg, "b", "", "", "", func(*meta.Object, bool) error { n++; return nil })
	if n != 2 {
		t.Fatalf("%d versions after enabling versioning, want 2", n)
	}

	// Deleted and created again.
	s.DeleteObjectVersion(bg, "b", "k", meta.NullVersion, nil)
	o, _ := s.GetObject(bg, "b", "k")
	s.DeleteObjectVersion(bg, "b", "k", o.VersionID, nil)
	if _, err := s.DeleteBucket(bg, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBucket(bg, "b"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("deleted bucket: %v", err)
	}
	if err := s.CreateBucket(bg, &meta.Bucket{Name: "b", Owner: "bob"}); err != nil {
		t.Fatal(err)
	}
	if b, err := s.GetBucket(bg, "b"); err != nil || b.Owner != "bob" || b.Versioning != "" {
		t.Fatalf("created again: %+v, %v", b, err)
	}
}

// TestBucketCacheConcurrentReaders: readers that race bucket changes
// never leave a stale entry behind: once the changes are done, GetBucket
// returns the last one.
func TestBucketCacheConcurrentReaders(t *testing.T) {
	s := recStore(t, filepath.Join(t.TempDir(), "meta.db"))
	if err := s.CreateBucket(bg, &meta.Bucket{Name: "b", Config: map[string][]byte{}}); err != nil {
		t.Fatal(err)
	}
	const changes = 100
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					s.GetBucket(bg, "b")
				}
			}
		})
	}
	for i := 1; i <= changes; i++ {
		if err := s.UpdateBucket(bg, "b", func(b *meta.Bucket) error {
			b.Config["n"] = []byte(strconv.Itoa(i))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	b, err := s.GetBucket(bg, "b")
	if err != nil || string(b.Config["n"]) != strconv.Itoa(changes) {
		t.Fatalf("after the changes: %q, %v", b.Config["n"], err)
	}
}
