package bench

import (
	"fmt"
	"io"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// startProfile starts a CPU profile into w (nil: none) and returns its stop.
func startProfile(w io.Writer) (func(), error) {
	if w == nil {
		return func() {}, nil
	}
	if err := pprof.StartCPUProfile(w); err != nil {
		return nil, err
	}
	return pprof.StopCPUProfile, nil
}

// commitStatsOf returns the group committer's counts of a bbolt store
// (zero for other stores).
func commitStatsOf(s meta.Store) func() bolt.CommitStats {
	if b, ok := s.(interface{ CommitStats() bolt.CommitStats }); ok {
		return b.CommitStats
	}
	return func() bolt.CommitStats { return bolt.CommitStats{} }
}

// commitSplit describes the commits between two readings: calls per
// commit and each commit's milliseconds, split into applying the
// functions, bbolt's spill (with rebalance), its page and meta writes
// with their fsyncs, and the rest (free list, locking, growing the file).
func commitSplit(a, b bolt.CommitStats) string {
	n := b.Commits - a.Commits
	if n == 0 {
		return "no commits"
	}
	per := func(d time.Duration) float64 { return ms(d) / float64(n) }
	busy, apply, spill, write := b.Busy-a.Busy, b.Apply-a.Apply, b.Spill-a.Spill+b.Rebalance-a.Rebalance, b.Write-a.Write
	return fmt.Sprintf("%.1f calls/commit, %.1f ms/commit = apply %.1f + spill %.1f + write %.1f + other %.1f, %.0f writes/commit, free list %d free %d pending %d KiB",
		float64(b.Calls-a.Calls)/float64(n), per(busy), per(apply), per(spill), per(write), per(busy-apply-spill-write),
		float64(b.Writes-a.Writes)/float64(n), b.FreePages, b.PendingPages, b.FreelistBytes>>10)
}

// RateSample is the load rate over one stretch of the load: the objects
// loaded when it ended, the seconds since the load began, and the
// objects per second within the stretch.
type RateSample struct {
	Objects int64   `json:"objects"`
	Seconds float64 `json:"s"`
	Rate    float64 `json:"objects_per_s"`
}

// rateCurve records when each tenth of the objects was loaded.
type rateCurve struct {
	step  int64
	start time.Time
	mu    sync.Mutex
	marks []RateSample
}

func newRateCurve(n int64, start time.Time) *rateCurve {
	return &rateCurve{step: max(n/10, 1), start: start}
}

// add notes that done objects are loaded.
func (c *rateCurve) add(done int64) {
	if done%c.step != 0 {
		return
	}
	el := time.Since(c.start).Seconds()
	c.mu.Lock()
	defer c.mu.Unlock()
	prevN, prevS := int64(0), 0.0
	if k := len(c.marks); k > 0 {
		prevN, prevS = c.marks[k-1].Objects, c.marks[k-1].Seconds
	}
	rate := 0.0
	if el > prevS {
		rate = float64(done-prevN) / (el - prevS)
	}
	c.marks = append(c.marks, RateSample{Objects: done, Seconds: el, Rate: rate})
}

func (c *rateCurve) samples() []RateSample {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.marks)
}
