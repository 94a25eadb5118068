// Package jobs runs strongroom's durable background work: lifecycle today,
// replication, inventory and key rewrap next. Work is split into passes, and
// a pass into bounded steps. After each step the job's cursor, counters and
// lease go to the metadata store (meta.Jobs), so:
//
//   - a restart resumes a pass where its last step ended;
//   - nodes sharing a store run each job on one node at a time (the lease);
//   - a failing step is retried with exponential backoff, from the same
//     cursor;
//   - the load is bounded: a job's steps are paced to its Rate.
//
// A step is not atomic with its cursor: a crash after a step's effects and
// before its cursor is stored re-runs the step. Tasks are therefore written to
// be idempotent: they act on what the store holds when they look, never on a
// decision remembered from before (an object already expired is gone, so it
// is not expired twice).
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Task is one kind of background work.
type Task interface {
	// Step does a bounded batch of the pass whose progress is cursor (nil:
	// the pass begins), adding what it did to counts. It returns the cursor
	// to go on from, or done at the end of the pass.
	Step(ctx context.Context, now time.Time, cursor []byte, counts Counts) (Step, error)
}

// Backlogger is implemented by tasks that can tell how many items wait
// for them (a replication queue's length); metrics export it per job.
type Backlogger interface {
	Backlog(ctx context.Context) (int64, error)
}

// Step is what one step of a Task did.
type Step struct {
	Next  []byte // where the pass goes on
	Done  bool   // the pass is complete
	Items int    // items looked at, for pacing
}

// Counts are named counters of a pass ("expired", "aborted", ...).
type Counts map[string]int64

// Add adds n to counter name.
func (c Counts) Add(name string, n int64) { c[name] += n }

// Spec registers a task with the engine.
type Spec struct {
	Name string
	Task Task
	// Every is the time from the end of one pass to the start of the next.
	Every time.Duration
	// Rate caps the items handled per second (0: no cap).
	Rate float64
}

// Errors.
var (
	ErrUnknownJob = errors.New("jobs: no such job")
	// ErrLeased is returned when another node holds the job's lease.
	ErrLeased = errors.New("jobs: job is running on another node")
)

// Backoff bounds: a failed step is retried after 1 s, 2 s, 4 s, ... at most
// MaxBackoff.
const (
	MinBackoff = time.Second
	MaxBackoff = 10 * time.Minute
)

// Options configure an Engine.
type Options struct {
	Store meta.Jobs
	// Node names this process as a lease holder; it must differ between
	// nodes sharing a store.
	Node string
	// Now is the engine's clock (tests inject one); default time.Now.
	Now func() time.Time
	// Lease is how long a lease lasts without renewal (default 1 minute);
	// every step renews it.
	Lease time.Duration
	// Tick is how often Run looks for due passes (default 10 s).
	Tick   time.Duration
	Logger *slog.Logger
}

// Engine runs registered jobs.
type Engine struct {
	o     Options
	mu    sync.Mutex
	specs map[string]Spec
	// running serializes passes of one job inside this process (the lease
	// does it between processes).
	running map[string]*sync.Mutex
}

// New returns an engine with no jobs.
func New(o Options) *Engine {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Tick <= 0 {
		o.Tick = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{o: o, specs: make(map[string]Spec), running: make(map[string]*sync.Mutex)}
}

// Register adds a job. Registering a name twice replaces the first.
func (e *Engine) Register(s Spec) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.specs[s.Name] = s
	if e.running[s.Name] == nil {
		e.running[s.Name] = new(sync.Mutex)
	}
}

// Names lists the registered jobs in name order.
func (e *Engine) Names() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.specs))
	for n := range e.specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (e *Engine) spec(name string) (Spec, *sync.Mutex, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.specs[name]
	if !ok {
		return Spec{}, nil, fmt.Errorf("%w: %q", ErrUnknownJob, name)
	}
	return s, e.running[name], nil
}

// Run runs due passes until ctx ends. A pass that fails is retried with
// backoff; Run itself only returns ctx's error.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.o.Tick)
	defer t.Stop()
	for {
		e.RunDue(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// RunDue runs, one after another, every job whose pass is due or was left
// unfinished (by a restart or a failure whose backoff has passed).
func (e *Engine) RunDue(ctx context.Context) {
	for _, name := range e.Names() {
		j, err := e.state(ctx, name)
		if err != nil {
			e.o.Logger.Warn("jobs: reading job state", "job", name, "err", err)
			continue
		}
		// A pass a crash interrupted resumes at once; a failed one waits
		// out its backoff; the next one waits for its time.
		interrupted := !j.PassStarted.IsZero() && j.Failures == 0
		if !interrupted && e.o.Now().Before(j.NextRun) {
			continue
		}
		if _, err := e.RunPass(ctx, name); err != nil && !errors.Is(err, ErrLeased) && ctx.Err() == nil {
			e.o.Logger.Warn("jobs: pass failed", "job", name, "err", err)
		}
	}
}

// RunPass runs job name's pass to its end now, resuming an unfinished one,
// and returns the job's state after it. It fails with ErrLeased while
// another node holds the lease, and with the step's error (after recording
// it and scheduling a retry) when a step fails.
func (e *Engine) RunPass(ctx context.Context, name string) (*meta.Job, error) {
	spec, running, err := e.spec(name)
	if err != nil {
		return nil, err
	}
	running.Lock()
	defer running.Unlock()

	j, err := e.acquire(ctx, name)
	if err != nil {
		return nil, err
	}
	cursor := j.Cursor
	for {
		if err := ctx.Err(); err != nil {
			e.release(name)
			return nil, err
		}
		wall := time.Now() // pacing is about real load, whatever the clock says
		counts := Counts{}
		st, stepErr := spec.Task.Step(ctx, e.o.Now(), cursor, counts)
		if stepErr != nil {
			return e.fail(ctx, name, counts, stepErr)
		}
		// The step's effects are done: record them even if ctx ended.
		j, err = e.advance(context.WithoutCancel(ctx), spec, st, counts)
		if errors.Is(err, ErrLeased) {
			return nil, err
		}
		if err != nil {
			// Not recorded (a store error): release the lease and retry
			// the step later rather than hold the job for a lease's time.
			return e.fail(ctx, name, counts, err)
		}
		if st.Done {
			e.o.Logger.Info("jobs: pass complete", "job", name, "counts", j.Pass)
			return j, nil
		}
		cursor = st.Next
		if err := e.pace(ctx, spec, st.Items, wall); err != nil {
			e.release(name)
			return nil, err
		}
	}
}

// Status returns the state of every registered job (a job that never ran
// has a zero state).
func (e *Engine) Status(ctx context.Context) ([]*meta.Job, error) {
	var out []*meta.Job
	for _, name := range e.Names() {
		j, err := e.state(ctx, name)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// Backlog returns the items waiting for job name's task; ok is false when
// the task keeps no backlog (it is not a Backlogger).
func (e *Engine) Backlog(ctx context.Context, name string) (n int64, ok bool, err error) {
	spec, _, err := e.spec(name)
	if err != nil {
		return 0, false, err
	}
	b, ok := spec.Task.(Backlogger)
	if !ok {
		return 0, false, nil
	}
	n, err = b.Backlog(ctx)
	return n, true, err
}

// state is a job's stored state, or a zero one if it never ran.
func (e *Engine) state(ctx context.Context, name string) (*meta.Job, error) {
	j, err := e.o.Store.GetJob(ctx, name)
	if errors.Is(err, meta.ErrNoSuchJob) {
		return &meta.Job{Name: name}, nil
	}
	return j, err
}

// acquire takes the job's lease and starts a pass unless one is unfinished.
func (e *Engine) acquire(ctx context.Context, name string) (*meta.Job, error) {
	return e.o.Store.UpdateJob(ctx, name, func(j *meta.Job) error {
		now := e.o.Now()
		if j.Holder != "" && j.Holder != e.o.Node && now.Before(j.LeaseUntil) {
			return fmt.Errorf("%w: %q holds %q until %s", ErrLeased, j.Holder, name, j.LeaseUntil.Format(time.RFC3339))
		}
		j.Holder, j.LeaseUntil = e.o.Node, now.Add(e.o.Lease)
		if j.PassStarted.IsZero() {
			j.PassStarted, j.Cursor, j.Pass = now, nil, nil
		}
		return nil
	})
}

// advance records a successful step: the cursor, the counts and a renewed
// lease, or the end of the pass.
func (e *Engine) advance(ctx context.Context, spec Spec, st Step, counts Counts) (*meta.Job, error) {
	return e.o.Store.UpdateJob(ctx, spec.Name, func(j *meta.Job) error {
		if j.Holder != e.o.Node {
			return fmt.Errorf("%w: lost the lease of %q to %q", ErrLeased, spec.Name, j.Holder)
		}
		now := e.o.Now()
		addCounts(&j.Pass, counts)
		addCounts(&j.Total, counts)
		j.Failures, j.LastError = 0, ""
		if !st.Done {
			j.Cursor, j.LeaseUntil = st.Next, now.Add(e.o.Lease)
			return nil
		}
		j.Cursor, j.PassStarted, j.Holder, j.LeaseUntil = nil, time.Time{}, "", time.Time{}
		j.LastPass, j.NextRun = now, now.Add(spec.Every)
		j.Passes++
		return nil
	})
}

// fail records a failed step, schedules its retry and releases the lease;
// the cursor stays where the last good step left it.
func (e *Engine) fail(ctx context.Context, name string, counts Counts, stepErr error) (*meta.Job, error) {
	j, err := e.o.Store.UpdateJob(context.WithoutCancel(ctx), name, func(j *meta.Job) error {
		addCounts(&j.Pass, counts)
		addCounts(&j.Total, counts)
		j.Failures++
		j.LastError = stepErr.Error()
		j.NextRun = e.o.Now().Add(Backoff(j.Failures))
		if j.Holder == e.o.Node {
			j.Holder, j.LeaseUntil = "", time.Time{}
		}
		return nil
	})
	if err != nil {
		return nil, errors.Join(stepErr, err)
	}
	return j, fmt.Errorf("jobs: %s: %w", name, stepErr)
}

// release gives the lease up (on cancellation), keeping the cursor.
func (e *Engine) release(name string) {
	_, err := e.o.Store.UpdateJob(context.Background(), name, func(j *meta.Job) error {
		if j.Holder == e.o.Node {
			j.Holder, j.LeaseUntil = "", time.Time{}
		}
		return nil
	})
	if err != nil {
		e.o.Logger.Warn("jobs: releasing lease", "job", name, "err", err)
	}
}

// pace waits so that the job handles no more than spec.Rate items per
// second of wall time.
func (e *Engine) pace(ctx context.Context, spec Spec, items int, start time.Time) error {
	if spec.Rate <= 0 || items == 0 {
		return nil
	}
	want := time.Duration(float64(items) / spec.Rate * float64(time.Second))
	wait := want - time.Since(start)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff is the wait before retrying after n consecutive failures.
func Backoff(n int) time.Duration {
	d := MinBackoff
	for i := 1; i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

func addCounts(dst *map[string]int64, c Counts) {
	if len(c) == 0 {
		return
	}
	if *dst == nil {
		*dst = make(map[string]int64, len(c))
	}
	for k, v := range c {
		(*dst)[k] += v
	}
}
