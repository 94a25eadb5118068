package bolt

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// maxBatch bounds the number of mutations that share one transaction.
const maxBatch = 1000

// committer is a leader-based group commit, in the manner of LevelDB's
// writer queue. A mutation that finds no commit in progress runs at once in
// its own transaction; mutations that arrive while a commit is in progress
// queue up, and when it finishes the first of them leads a transaction that
// applies all of them with one fsync.
//
// Unlike bbolt's DB.Batch there is no timer: a lone writer pays no added
// latency (DB.Batch waits up to MaxBatchDelay, 10ms by default, before
// committing), and under load the batch size follows the concurrency.
//
// A function that fails before it writes anything says so by returning its
// error through unwritten: the batch goes on in the same transaction, the
// function gets its error and nothing is re-run. A function that fails
// otherwise may have written, so, as with DB.Batch, the transaction is
// rolled back, the failed function is re-run alone in its own transaction
// (its error from that run is returned) and the rest of the batch is
// re-run without it. A function may therefore run more than once: it must
// be idempotent and must reset its outputs on entry.
type committer struct {
	db *bbolt.DB

	mu      sync.Mutex
	queue   []*call
	leading bool // a goroutine is running a batch or handing off leadership

	// The linger (see linger): active estimates the writers in play (the
	// last batch's callers, who will be back, plus those queued at its
	// end); lastEnd and lastDur are when the last batch ended and how long
	// it took; arrived, while a leader lingers, is closed once the queue
	// holds want calls.
	active  int
	lastEnd time.Time
	lastDur time.Duration
	arrived chan struct{}
	want    int

	// commits and calls count the batches committed and the functions
	// they carried (CommitStats).
	commits, calls atomic.Uint64
	busy, apply    atomic.Int64 // nanoseconds spent in batches, in their functions
}

// maxLinger bounds how long a leader waits for writers it expects back.
const maxLinger = 5 * time.Millisecond

type call struct {
	fn   func(*bbolt.Tx) error
	done chan error // buffered(1): errLead, errSolo or the batch result
}

var (
	errLead = errors.New("bolt: lead the next batch")
	errSolo = errors.New("bolt: re-run alone")
)

func (c *committer) do(fn func(*bbolt.Tx) error) error {
	me := &call{fn: fn, done: make(chan error, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, me)
	if c.arrived != nil && len(c.queue) >= c.want {
		close(c.arrived)
		c.arrived = nil
	}
	if c.leading {
		c.mu.Unlock()
		err := <-me.done
		if err != errLead {
			return c.finish(me, err)
		}
		c.mu.Lock()
		// We were handed the lead: we are c.queue[0].
	} else {
		c.leading = true
	}
	c.linger()
	n := min(len(c.queue), maxBatch)
	batch := c.queue[:n:n]
	c.queue = slices.Clone(c.queue[n:])
	c.mu.Unlock()

	t0 := time.Now()
	c.run(batch)
	end := time.Now()

	c.mu.Lock()
	c.lastEnd, c.lastDur = end, end.Sub(t0)
	c.busy.Add(int64(c.lastDur))
	c.active = len(batch) + len(c.queue)
	if len(c.queue) > 0 {
		c.queue[0].done <- errLead
	} else {
		c.leading = false
	}
	c.mu.Unlock()
	return c.finish(me, <-me.done)
}

// linger, called by a new leader with c.mu held, waits (unlocking c.mu)
// for the writers the last batch suggests are in play, so that they share
// this commit. Without it, n concurrent writers settle into two alternating
// batches of about n/2: the callers of one batch are back, with their next
// mutation, just after the other batch has begun. The wait is bounded by
// half the last commit's duration (it pays off only when a commit, that
// is its fsyncs, takes longer than a caller's round trip) and by
// maxLinger; a lone writer, or one arriving after the committer has been
// idle longer than a commit, does not wait at all.
func (c *committer) linger() {
	want := min(c.active, maxBatch)
	if len(c.queue) >= want || c.lastDur == 0 || time.Since(c.lastEnd) > c.lastDur {
		return
	}
	ch := make(chan struct{})
	c.arrived, c.want = ch, want
	t := time.NewTimer(min(c.lastDur/2, maxLinger))
	c.mu.Unlock()
	select {
	case <-ch:
	case <-t.C:
	}
	t.Stop()
	c.mu.Lock()
	if c.arrived == ch {
		c.arrived = nil
	}
}

func (c *committer) finish(me *call, err error) error {
	if err == errSolo {
		return c.db.Update(me.fn)
	}
	return err
}

// run applies calls in one transaction and delivers the outcome to each.
func (c *committer) run(calls []*call) {
	for len(calls) > 0 {
		failed := -1
		own := make([]error, len(calls)) // errors of functions that wrote nothing
		err := c.db.Update(func(tx *bbolt.Tx) error {
			t0 := time.Now()
			defer func() { c.apply.Add(int64(time.Since(t0))) }()
			for i, cl := range calls {
				if err := safeCall(cl.fn, tx); err != nil {
					// Only a top-level mark counts (as in written): a
					// mark wrapped by a later step may follow writes.
					if _, ok := err.(*unwrittenErr); ok {
						own[i] = err
						continue
					}
					failed = i
					return err
				}
			}
			return nil
		})
		c.commits.Add(1)
		c.calls.Add(uint64(len(calls)))
		if failed >= 0 {
			calls[failed].done <- errSolo
			calls = slices.Delete(calls, failed, failed+1)
			continue
		}
		for i, cl := range calls {
			if own[i] != nil {
				cl.done <- own[i]
			} else {
				cl.done <- err
			}
		}
		return
	}
}

func safeCall(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bolt: panic in batched transaction: %v", p)
		}
	}()
	return fn(tx)
}

// unwrittenErr marks the error of a batched function that failed before
// writing anything in its transaction (committer).
type unwrittenErr struct{ err error }

func (e *unwrittenErr) Error() string { return e.err.Error() }
func (e *unwrittenErr) Unwrap() error { return e.err }

// unwritten marks err (nil stays nil) as returned before any write.
func unwritten(err error) error {
	if err == nil {
		return nil
	}
	return &unwrittenErr{err}
}

// written drops the mark from err: returned by a function that wrote
// before it failed.
func written(err error) error {
	if u, ok := err.(*unwrittenErr); ok {
		return u.err
	}
	return err
}
