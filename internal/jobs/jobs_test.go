package jobs

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// counter is a task whose pass visits items 0..n-1, batch at a time; its
// cursor is the next item. It records every item it visits, and can be told
// to fail at an item once.
type counter struct {
	mu      sync.Mutex
	n       int
	batch   int
	failAt  int // -1: never
	visited []int
	starts  int // passes begun (cursor nil)
}

func (c *counter) Step(_ context.Context, _ time.Time, cursor []byte, counts Counts) (Step, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := 0
	if cursor == nil {
		c.starts++
	} else {
		next, _ = strconv.Atoi(string(cursor))
	}
	end := min(next+c.batch, c.n)
	for i := next; i < end; i++ {
		if i == c.failAt {
			c.failAt = -1
			return Step{}, errors.New("injected failure")
		}
		c.visited = append(c.visited, i)
		counts.Add("visited", 1)
	}
	return Step{Next: []byte(strconv.Itoa(end)), Done: end == c.n, Items: end - next}, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openStore(t *testing.T) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newEngine(st meta.Jobs, node string, clk *clock, task Task) *Engine {
	e := New(Options{Store: st, Node: node, Now: clk.Now, Lease: time.Minute})
	e.Register(Spec{Name: "count", Task: task, Every: time.Hour})
	return e
}

func TestPassRunsToCompletion(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	task := &counter{n: 10, batch: 3, failAt: -1}
	e := newEngine(st, "a", clk, task)

	j, err := e.RunPass(ctx, "count")
	if err != nil {
		t.Fatal(err)
	}
	if len(task.visited) != 10 || j.Pass["visited"] != 10 || j.Total["visited"] != 10 || j.Passes != 1 {
		t.Fatalf("visited %v, job %+v", task.visited, j)
	}
	if j.Cursor != nil || !j.PassStarted.IsZero() || j.Holder != "" {
		t.Fatalf("pass not closed: %+v", j)
	}
	if want := clk.Now().Add(time.Hour); !j.NextRun.Equal(want) {
		t.Fatalf("next run %v, want %v", j.NextRun, want)
	}

	// Not due yet: RunDue does nothing; an hour later it runs a new pass.
	e.RunDue(ctx)
	if task.starts != 1 {
		t.Fatalf("RunDue ran a pass before it was due (%d starts)", task.starts)
	}
	clk.Add(time.Hour)
	e.RunDue(ctx)
	j, _ = st.GetJob(ctx, "count")
	if task.starts != 2 || j.Passes != 2 || j.Pass["visited"] != 10 || j.Total["visited"] != 20 {
		t.Fatalf("second pass: starts %d, job %+v", task.starts, j)
	}
}

func TestFailedStepResumesFromItsCursorWithBackoff(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	task := &counter{n: 10, batch: 3, failAt: 7}
	e := newEngine(st, "a", clk, task)

	if _, err := e.RunPass(ctx, "count"); err == nil {
		t.Fatal("pass with a failing step succeeded")
	}
	j, _ := st.GetJob(ctx, "count")
	if j.Failures != 1 || j.LastError == "" || string(j.Cursor) != "6" || j.Holder != "" {
		t.Fatalf("after failure: %+v", j)
	}
	if want := clk.Now().Add(MinBackoff); !j.NextRun.Equal(want) {
		t.Fatalf("retry at %v, want %v", j.NextRun, want)
	}
	// Before the backoff passes nothing runs; after it the pass resumes at
	// item 6, so no item is visited twice and none is skipped.
	e.RunDue(ctx)
	if task.starts != 1 || len(task.visited) != 7 {
		t.Fatalf("retried before the backoff: %v", task.visited)
	}
	clk.Add(MinBackoff)
	e.RunDue(ctx)
	j, _ = st.GetJob(ctx, "count")
	if task.starts != 1 || j.Passes != 1 || j.Failures != 0 {
		t.Fatalf("after retry: starts %d, job %+v", task.starts, j)
	}
	seen := map[int]int{}
	for _, i := range task.visited {
		seen[i]++
	}
	for i := 0; i < 10; i++ {
		// Item 6 was visited by the failed step (before item 7 failed) and
		// again by the retry: a step is the unit of idempotence.
		want := 1
		if i == 6 {
			want = 2
		}
		if seen[i] != want {
			t.Fatalf("item %d visited %d times, want %d (%v)", i, seen[i], want, task.visited)
		}
	}
}

func TestLeaseExcludesOtherNodesUntilItExpires(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	taskA := &counter{n: 10, batch: 3, failAt: -1}
	a := newEngine(st, "a", clk, taskA)

	// Node a dies mid-pass: its context ends after the first step.
	cctx, cancel := context.WithCancel(ctx)
	taskA.failAt = -1
	a.Register(Spec{Name: "count", Task: stepThenCancel{taskA, cancel}, Every: time.Hour})
	if _, err := a.RunPass(cctx, "count"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want the cancellation, got %v", err)
	}
	// Simulate a crash rather than a clean stop: the lease is still held.
	if _, err := st.UpdateJob(ctx, "count", func(j *meta.Job) error {
		j.Holder, j.LeaseUntil = "a", clk.Now().Add(time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	taskB := &counter{n: 10, batch: 3, failAt: -1}
	b := newEngine(st, "b", clk, taskB)
	if _, err := b.RunPass(ctx, "count"); !errors.Is(err, ErrLeased) {
		t.Fatalf("node b ran while a held the lease: %v", err)
	}
	clk.Add(time.Minute)
	j, err := b.RunPass(ctx, "count")
	if err != nil {
		t.Fatal(err)
	}
	if taskB.starts != 0 || taskB.visited[0] != 3 || j.Pass["visited"] != 10 {
		t.Fatalf("b did not resume a's pass: starts %d visited %v job %+v", taskB.starts, taskB.visited, j)
	}
}

// stepThenCancel cancels the pass's context after its first step.
type stepThenCancel struct {
	*counter
	cancel context.CancelFunc
}

func (s stepThenCancel) Step(ctx context.Context, now time.Time, cursor []byte, c Counts) (Step, error) {
	st, err := s.counter.Step(ctx, now, cursor, c)
	s.cancel()
	return st, err
}

func TestPacingBoundsTheRate(t *testing.T) {
	st := openStore(t)
	clk := &clock{t: time.Now()}
	e := New(Options{Store: st, Node: "a", Now: clk.Now})
	e.Register(Spec{Name: "paced", Task: &counter{n: 400, batch: 100, failAt: -1}, Rate: 2000})
	start := time.Now()
	if _, err := e.RunPass(context.Background(), "paced"); err != nil {
		t.Fatal(err)
	}
	// Four steps of 100 items at 2000 items/s: the first three wait out
	// 50 ms each (the last step ends the pass without a wait).
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Fatalf("400 items at 2000/s took %v", d)
	}
}

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		n    int
		want time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {5, 16 * time.Second}, {20, MaxBackoff}, {100, MaxBackoff}} {
		if got := Backoff(c.n); got != c.want {
			t.Errorf("Backoff(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

func TestUnknownJob(t *testing.T) {
	e := New(Options{Store: openStore(t), Node: "a"})
	if _, err := e.RunPass(context.Background(), "nope"); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("got %v", err)
	}
}

// TestInterruptedPassResumesAtOnce: a pass cut short by a crash (its lease
// and cursor left in the store, no failure recorded) is resumed by the next
// RunDue even though the next regular pass is not due yet.
func TestInterruptedPassResumesAtOnce(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	task := &counter{n: 9, batch: 3, failAt: -1}
	e := newEngine(st, "a", clk, task)
	if _, err := e.RunPass(ctx, "count"); err != nil { // NextRun: in an hour
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	e.Register(Spec{Name: "count", Task: stepThenCancel{task, cancel}, Every: time.Hour})
	if _, err := e.RunPass(cctx, "count"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want the cancellation, got %v", err)
	}
	// The restarted node (same holder) runs what is due.
	restarted := newEngine(st, "a", clk, task)
	restarted.RunDue(ctx)
	j, _ := st.GetJob(ctx, "count")
	if j.Passes != 2 || !j.PassStarted.IsZero() || task.starts != 2 {
		t.Fatalf("interrupted pass not resumed: passes %d, starts %d, job %+v", j.Passes, task.starts, j)
	}
}

// failingStore fails the nth UpdateJob once.
type failingStore struct {
	meta.Jobs
	n, calls int
}

func (f *failingStore) UpdateJob(ctx context.Context, name string, fn func(*meta.Job) error) (*meta.Job, error) {
	f.calls++
	if f.calls == f.n {
		return nil, errors.New("store unavailable")
	}
	return f.Jobs.UpdateJob(ctx, name, fn)
}

// TestStoreFailureAfterStepReleasesLease: a step whose record fails to
// store is a failed step: the lease is released and the retry scheduled,
// so the job is not held for a lease's time with no error shown.
func TestStoreFailureAfterStepReleasesLease(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	task := &counter{n: 9, batch: 3, failAt: -1}
	e := newEngine(&failingStore{Jobs: st, n: 2}, "a", clk, task) // 1: acquire, 2: first advance
	if _, err := e.RunPass(ctx, "count"); err == nil {
		t.Fatal("a pass whose progress could not be stored succeeded")
	}
	j, err := st.GetJob(ctx, "count")
	if err != nil {
		t.Fatal(err)
	}
	if j.Holder != "" || j.Failures != 1 || j.LastError == "" || !j.NextRun.Equal(clk.Now().Add(MinBackoff)) {
		t.Fatalf("after the store failure: %+v", j)
	}
}
