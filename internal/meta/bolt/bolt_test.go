package bolt

import (
	"context"
	"errors"
	"fmt"
	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

var ctx = context.Background()

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestOpenLockedFailsFast(t *testing.T) {
	s, path := openTemp(t)
	_ = s
	start := time.Now()
	s2, err := Open(path)
	if err == nil {
		s2.Close()
		t.Fatal("second Open succeeded")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("second Open took %v", d)
	}
	// After Close the lock is released.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s3, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s3.Close()
}

func TestCompletedRetention(t *testing.T) {
	s, _ := openTemp(t)
	metatest.CompletedRetention(t, s, metatest.Retention{
		Period: CompletedRetention,
		SetNow: func(now func() time.Time) { s.now = now },
		SetMax: func(n int) { s.maxCompleted = n },
		Records: func(bucket string) (n int) {
			s.db.View(func(tx *bbolt.Tx) error {
				n = tx.Bucket(bkData).Bucket([]byte(bucket)).Bucket(subDoneTimes).Stats().KeyN
				return nil
			})
			return n
		},
	})
}

func TestCommitterSoloRetry(t *testing.T) {
	// A batched function that fails is re-run alone and reports its own
	// error; the others in its batch still commit.
	s, _ := openTemp(t)
	mustBucket(t, s, "b")
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Go(func() {
			bucket := "b"
			if i%3 == 0 {
				bucket = "nob"
			}
			_, errs[i] = s.PutObject(ctx, obj(bucket, fmt.Sprint(i)), nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i%3 == 0 {
			if !errors.Is(err, meta.ErrNoSuchBucket) {
				t.Errorf("%d: %v", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%d: %v", i, err)
		} else if _, err := s.GetObject(ctx, "b", fmt.Sprint(i)); err != nil {
			t.Errorf("%d not stored: %v", i, err)
		}
	}
}

// TestCompletedCountFromOlderDatabase: a bucket whose completed records
// were written before their count was kept is counted once, so the cap
// still holds.
func TestCompletedCountFromOlderDatabase(t *testing.T) {
	s, _ := openTemp(t)
	mustBucket(t, s, "b")
	s.maxCompleted = 3
	complete := func(id string) {
		t.Helper()
		if err := s.CreateUpload(ctx, &meta.Upload{ID: id, Bucket: "b", Key: id}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CompleteUpload(ctx, "b", id, obj("b", id), nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		complete(fmt.Sprint("c", i))
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bkData).Bucket([]byte("b")).Delete(keyCompletedCount)
	}); err != nil {
		t.Fatal(err)
	}
	complete("c3")
	if _, err := s.GetCompletedUpload(ctx, "b", "c0"); !errors.Is(err, meta.ErrNoSuchUpload) {
		t.Fatalf("oldest record kept past the cap: %v", err)
	}
	for _, id := range []string{"c1", "c2", "c3"} {
		if _, err := s.GetCompletedUpload(ctx, "b", id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
}
