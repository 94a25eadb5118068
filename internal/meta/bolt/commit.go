package bolt

import (
	"errors"
	"fmt"
	"slices"
	"sync"

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
}

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
	n := min(len(c.queue), maxBatch)
	batch := c.queue[:n:n]
	c.queue = slices.Clone(c.queue[n:])
	c.mu.Unlock()

	c.run(batch)

	c.mu.Lock()
	if len(c.queue) > 0 {
		c.queue[0].done <- errLead
	} else {
		c.leading = false
	}
	c.mu.Unlock()
	return c.finish(me, <-me.done)
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
			for i, cl := range calls {
				if err := safeCall(cl.fn, tx); err != nil {
					var u *unwrittenErr
					if errors.As(err, &u) {
						own[i] = err
						continue
					}
					failed = i
					return err
				}
			}
			return nil
		})
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
