package bolt

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// TestCommitStats: concurrent PUTs are counted as calls of fewer commits,
// and the commits' time splits into parts that do not exceed the whole.
func TestCommitStats(t *testing.T) {
	s := recStore(t, filepath.Join(t.TempDir(), "meta.db"))
	if err := s.CreateBucket(bg, &meta.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	before := s.CommitStats()
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.PutObject(bg, inlineObj("b", fmt.Sprintf("k%d", i), "x"), nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st := s.CommitStats()
	calls, commits := st.Calls-before.Calls, st.Commits-before.Commits
	if calls != n || commits == 0 || commits > n {
		t.Errorf("%d calls in %d commits, want %d in 1..%d", calls, commits, n, n)
	}
	busy, apply := st.Busy-before.Busy, st.Apply-before.Apply
	if apply <= 0 || busy < apply || st.Write <= 0 || st.Writes <= 0 {
		t.Errorf("split: busy %v apply %v write %v (%d writes)", busy, apply, st.Write, st.Writes)
	}
}
