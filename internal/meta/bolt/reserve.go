package bolt

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// DefaultReserve is how much disk space past the end of the database file
// is kept allocated to it, so that deletes can commit on a full disk.
const DefaultReserve = 8 << 20

// reserve keeps space allocated to the database file beyond what it uses.
//
// bbolt writes every commit to fresh pages (copy on write), so even a delete
// needs a few pages, and when the free list has none, pages past the end of
// the file: on a full disk, the delete that would free space fails. So the
// file is preallocated (fallocate, FALLOC_FL_KEEP_SIZE: blocks without a
// size change, invisible to bbolt) Reserve bytes past its end. Mutations
// that add records call room first, which tops the reserve up and refuses
// them (meta.ErrNoSpace) when the disk cannot give it; deletes never call
// it, so they always find the reserve. A failed commit rolls back without
// using any of it, and the blobs a delete frees let room succeed again;
// so do records deleted from the database itself, whose pages bbolt reuses.
//
// On a filesystem without fallocate the reserve is off: deletes then work
// only while the disk has a few pages free.
type reserve struct {
	size int64 // bytes to keep allocated past the end of the file

	// inside returns the bytes of free pages inside the database, which a
	// mutation reuses before it grows the file.
	inside func() int64
	// fallocate is unix.Fallocate; tests replace it.
	fallocate func(fd int, mode uint32, off, n int64) error

	// A check that found the reserve in place stands for the next
	// roomCredit calls within roomFresh, which then take neither the
	// mutex nor a stat: credit counts them down, until is its deadline
	// (UnixNano). The file grows only by commits, a few pages (or one
	// bbolt growth step) each, so a reserve of megabytes is not used up
	// by a few dozen mutations between checks.
	credit atomic.Int64
	until  atomic.Int64

	mu          sync.Mutex
	f           *os.File
	allocatedTo int64 // blocks are allocated up to here (past EOF included)
	off         bool  // fallocate unsupported
}

// open opens the database file at path a second time, for fallocate, and
// puts the reserve in place if the disk has room (if not, growing
// mutations are refused until it has).
func (r *reserve) open(path string, size int64, inside func() int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("meta/bolt: reserve: %w", err)
	}
	r.f, r.size, r.inside, r.fallocate = f, size, inside, unix.Fallocate
	if err := r.room(); err != nil && !errors.Is(err, meta.ErrNoSpace) {
		f.Close()
		return err
	}
	return nil
}

func (r *reserve) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// room makes sure the reserve is in place before a mutation that may grow
// the database, and refuses it with meta.ErrNoSpace when it cannot be.
func (r *reserve) room() error {
	if r.credit.Add(-1) >= 0 && time.Now().UnixNano() < r.until.Load() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.off || r.f == nil || r.size <= 0 {
		return nil
	}
	stands, err := r.check()
	if stands {
		r.until.Store(time.Now().Add(roomFresh).UnixNano())
		r.credit.Store(roomCredit)
	}
	return err
}

// Bounds of a room check's validity (reserve.credit).
const (
	roomCredit = 64
	roomFresh  = 20 * time.Millisecond
)

// check is room's check, under r.mu; stands reports that the reserve is
// in place, so the result may stand for the next calls.
func (r *reserve) check() (stands bool, err error) {
	fi, err := r.f.Stat()
	if err != nil {
		return false, fmt.Errorf("meta/bolt: %w", err)
	}
	want := fi.Size() + r.size
	if want <= r.allocatedTo {
		return true, nil
	}
	// Whole MiB steps, so a growing file calls fallocate now and then.
	want = (want + 1<<20 - 1) &^ (1<<20 - 1)
	// From 0: bbolt grows the file with truncate, which leaves holes.
	err = r.fallocate(int(r.f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, want)
	switch {
	case err == nil:
		r.allocatedTo = want
		return true, nil
	case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOSYS):
		r.off = true
		return true, nil
	case errors.Is(err, unix.ENOSPC), errors.Is(err, unix.EDQUOT):
		if r.inside != nil && r.inside() >= r.size {
			// The database holds a reserve's worth of free pages (records
			// deleted on a full disk): the mutation reuses those rather
			// than growing the file. Checked again next time.
			return false, nil
		}
		return false, fmt.Errorf("%w: cannot keep %d bytes in reserve: %w", meta.ErrNoSpace, r.size, err)
	}
	return false, fmt.Errorf("meta/bolt: reserve: %w", err)
}
