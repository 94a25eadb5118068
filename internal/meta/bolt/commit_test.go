package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

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
