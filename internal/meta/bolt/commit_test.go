package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// TestCommitterFailedFnOnly: in a batch where one function fails, only
// that function is re-run (alone) when it may have written; when it
// failed before writing (unwritten) nothing is re-run; the others run
// once and commit either way.
func TestCommitterFailedFnOnly(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tt := range []struct {
		name     string
		fail     func(tx *bbolt.Tx) error
		wantRuns int // runs of the failing function
		wantA    int // runs of the one before it (b, after it, runs once)
	}{
		{"unwritten", func(*bbolt.Tx) error { return unwritten(errBoom) }, 1, 1},
		{"after a write", func(tx *bbolt.Tx) error {
			if err := tx.Bucket(bkMeta).Put([]byte("partial"), []byte("x")); err != nil {
				return err
			}
			return errBoom
		}, 2, 2}, // rolled back: a ran again, fail once more alone
		// A mark wrapped after a write is no promise that nothing was
		// written: treated as a plain failure, not committed.
		{"wrapped mark after a write", func(tx *bbolt.Tx) error {
			if err := tx.Bucket(bkMeta).Put([]byte("partial"), []byte("x")); err != nil {
				return err
			}
			return fmt.Errorf("later step: %w", unwritten(errBoom))
		}, 2, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := recStore(t, filepath.Join(t.TempDir(), "meta.db"))
			c := &s.gc
			var mu sync.Mutex
			runs := map[string]int{}
			counted := func(name string, fn func(*bbolt.Tx) error) *call {
				return &call{done: make(chan error, 1), fn: func(tx *bbolt.Tx) error {
					mu.Lock()
					runs[name]++
					mu.Unlock()
					return fn(tx)
				}}
			}
			put := func(k string) func(*bbolt.Tx) error {
				return func(tx *bbolt.Tx) error { return tx.Bucket(bkMeta).Put([]byte(k), []byte("v")) }
			}
			calls := []*call{counted("a", put("a")), counted("fail", tt.fail), counted("b", put("b"))}
			c.run(slices.Clone(calls)) // run drops failed calls from its slice
			for i, cl := range calls {
				err := c.finish(cl, <-cl.done)
				if i == 1 {
					if !errors.Is(err, errBoom) {
						t.Errorf("failing fn: %v", err)
					}
				} else if err != nil {
					t.Errorf("fn %d: %v", i, err)
				}
			}
			if runs["fail"] != tt.wantRuns || runs["a"] != tt.wantA || runs["b"] != 1 {
				t.Errorf("runs %v: want fail %d, a %d, b 1", runs, tt.wantRuns, tt.wantA)
			}
			s.db.View(func(tx *bbolt.Tx) error {
				mb := tx.Bucket(bkMeta)
				if mb.Get([]byte("a")) == nil || mb.Get([]byte("b")) == nil {
					t.Error("the other functions' writes were not committed")
				}
				if mb.Get([]byte("partial")) != nil {
					t.Error("the failed function's write was committed")
				}
				return nil
			})
		})
	}
}

// TestBatchErrorsUnmarked: a precondition's error comes back as the
// precondition returned it, not wrapped by the batch's mark.
func TestBatchErrorsUnmarked(t *testing.T) {
	s := recStore(t, filepath.Join(t.TempDir(), "meta.db"))
	if err := s.CreateBucket(bg, &meta.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	errCond := fmt.Errorf("precondition failed")
	_, err := s.PutObject(bg, inlineObj("b", "k", "x"), func(*meta.Object) error { return errCond })
	if err != errCond {
		t.Fatalf("got %#v, want the precondition's error itself", err)
	}
	if _, err := s.PutObject(bg, inlineObj("nob", "k", "x"), nil); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("missing bucket: %v", err)
	}
	if _, ok := err.(*unwrittenErr); ok {
		t.Fatal("error still marked")
	}
}

// TestCommitterLingers: writers that each wait for their commit and come
// straight back with the next mutation share one commit, instead of
// settling into two alternating half-size batches; a lone writer never
// waits for anyone.
func TestCommitterLingers(t *testing.T) {
	s := recStore(t, filepath.Join(t.TempDir(), "meta.db"))
	c := &s.gc
	// Each transaction's first function stands in for a slow commit (the
	// fsyncs), so the test does not depend on the disk.
	var mu sync.Mutex
	seen := map[*bbolt.Tx]bool{}
	put := func(k string) func(*bbolt.Tx) error {
		return func(tx *bbolt.Tx) error {
			mu.Lock()
			first := !seen[tx]
			seen[tx] = true
			mu.Unlock()
			if first {
				time.Sleep(6 * time.Millisecond)
			}
			return tx.Bucket(bkMeta).Put([]byte(k), []byte("v"))
		}
	}
	const writers, each = 8, 30
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := c.do(put(fmt.Sprintf("w%d/%d", w, i))); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(100 * time.Microsecond) // the caller's round trip
			}
		}()
	}
	wg.Wait()
	perCommit := float64(c.calls.Load()) / float64(c.commits.Load())
	t.Logf("%d calls in %d commits: %.1f per commit", c.calls.Load(), c.commits.Load(), perCommit)
	if perCommit < 0.75*writers {
		t.Errorf("%.1f calls per commit with %d writers; want at least %.0f", perCommit, writers, 0.75*writers)
	}

	// A lone writer, even right after the burst: never waits.
	for i := range 5 {
		if err := c.do(put(fmt.Sprintf("lone/%d", i))); err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		active := c.active
		c.mu.Unlock()
		if i > 0 && active != 1 {
			t.Errorf("lone writer: active %d after its commit, want 1", active)
		}
	}
}
