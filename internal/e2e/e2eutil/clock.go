package e2eutil

import (
	"sync"
	"time"
)

// Clock is a node clock (testnode.Options.Now) a test moves relative to
// the wall clock, e.g. to age objects past a lifecycle rule or a
// retention period.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now is the wall clock moved by the offset.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// Set puts the clock d from the wall clock.
func (c *Clock) Set(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = d
}
