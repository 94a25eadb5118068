package jobs

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgtest"
)

// Jobs across nodes: every engine below is a node with its own connection
// pool to one PostgreSQL database, as scale-out nodes are.

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// pgNodes opens n stores on one fresh database.
func pgNodes(t *testing.T, n int) []*postgres.Store {
	t.Helper()
	url := pgtest.DB(t)
	var out []*postgres.Store
	for range n {
		s, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out
}

// TestJobRunsOnceAcrossNodes: three nodes run RunDue at the same moments,
// over and over; each due time gets exactly one pass, visiting each item
// once. Two of the nodes read the job's state late, so they find it due
// after another node has run the pass: without the due check inside the
// lease transaction each of them started a second pass.
func TestJobRunsOnceAcrossNodes(t *testing.T) {
	ctx := context.Background()
	stores := pgNodes(t, 3)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var tasks []*counter
	var engines []*Engine
	for i, st := range stores {
		task := &counter{n: 2, batch: 2, failAt: -1}
		tasks = append(tasks, task)
		var js meta.Jobs = st
		if i > 0 {
			// Nodes b and c act on what they read late, as a node
			// under load does: by then a has run the pass.
			js = staleReads{st, 50 * time.Millisecond}
		}
		engines = append(engines, newEngine(js, "node"+string(rune('a'+i)), clk, task))
	}
	const rounds = 5
	for round := 1; round <= rounds; round++ {
		var wg sync.WaitGroup
		for _, e := range engines {
			wg.Go(func() { e.RunDue(ctx) })
		}
		wg.Wait()
		starts, visited := 0, 0
		for _, task := range tasks {
			task.mu.Lock()
			starts += task.starts
			visited += len(task.visited)
			task.mu.Unlock()
		}
		if starts != round || visited != 2*round {
			t.Fatalf("round %d: %d passes begun and %d items visited across the nodes, want %d and %d", round, starts, visited, round, 2*round)
		}
		clk.Add(time.Hour) // the next pass is due
	}
	j, err := stores[0].GetJob(ctx, "count")
	if err != nil {
		t.Fatal(err)
	}
	if j.Passes != rounds || j.Total["visited"] != 2*rounds || j.Holder != "" {
		t.Fatalf("job state %+v, want %d passes, %d visited, no holder", j, rounds, 2*rounds)
	}
}

// staleReads is a job store whose GetJob answers late.
type staleReads struct {
	meta.Jobs
	delay time.Duration
}

func (s staleReads) GetJob(ctx context.Context, name string) (*meta.Job, error) {
	j, err := s.Jobs.GetJob(ctx, name)
	time.Sleep(s.delay)
	return j, err
}

// blockAt is a counter whose step at cursor item `at` hangs until release
// closes: a node that stopped answering (killed, frozen, partitioned) in
// the middle of its pass, holding the lease.
type blockAt struct {
	*counter
	at      string
	entered chan struct{}
	release chan struct{}
}

func (b blockAt) Step(ctx context.Context, now time.Time, cursor []byte, c Counts) (Step, error) {
	if string(cursor) == b.at {
		close(b.entered)
		<-b.release
	}
	return b.counter.Step(ctx, now, cursor, c)
}

// TestDeadHolderLosesItsLease: node a takes the job and stops answering
// mid-pass. Node b is refused while a's lease lasts, then takes the job
// over from a's last recorded cursor and finishes the pass. When a comes
// back, the step it was in is not recorded (its lease is gone), so the
// pass counts every item once.
func TestDeadHolderLosesItsLease(t *testing.T) {
	ctx := context.Background()
	stores := pgNodes(t, 2)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ta := blockAt{counter: &counter{n: 6, batch: 2, failAt: -1}, at: "2", entered: make(chan struct{}), release: make(chan struct{})}
	a := newEngine(stores[0], "a", clk, ta)
	tb := &counter{n: 6, batch: 2, failAt: -1}
	b := newEngine(stores[1], "b", clk, tb)

	aDone := make(chan error, 1)
	go func() { _, err := a.RunPass(ctx, "count"); aDone <- err }()
	<-ta.entered // a recorded items 0-1 and hangs in its second step

	b.RunDue(ctx)
	if len(tb.visited) != 0 {
		t.Fatalf("b ran while a held the lease: visited %v", tb.visited)
	}
	clk.Add(time.Minute) // a's lease (one minute) runs out
	b.RunDue(ctx)
	if tb.starts != 0 || len(tb.visited) != 4 || tb.visited[0] != 2 {
		t.Fatalf("b did not resume a's pass at item 2: starts %d, visited %v", tb.starts, tb.visited)
	}
	close(ta.release)
	if err := <-aDone; !errors.Is(err, ErrLeased) {
		t.Fatalf("a after losing its lease: %v, want ErrLeased", err)
	}
	j, err := stores[0].GetJob(ctx, "count")
	if err != nil {
		t.Fatal(err)
	}
	if j.Passes != 1 || j.Pass["visited"] != 6 || j.Holder != "" {
		t.Fatalf("job %+v: want one pass of 6 items, no holder", j)
	}
}
