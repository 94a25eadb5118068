package service

import (
	"sync"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// reclaimer defers deleting the blobs of replaced and deleted versions
// until no read that may have resolved them is in flight, so a GET racing
// an overwrite gets the old version whole, never a missing blob.
//
// A read registers before it looks the object up (begin) and, once it has
// the version, turns that registration into pins on the version's blob IDs
// (readHold.keep), held until its body is closed. A retired blob is deleted
// when it is not pinned and no read that began before it was retired is
// still looking up: such a read may have resolved the old version without
// having pinned it yet. A read that begins after the retirement resolves the
// new version, because the metadata commit precedes the retirement.
//
// Nothing here is durable: blobs still waiting when the process dies are
// unreferenced and the start-up orphan sweep removes them.
type reclaimer struct {
	del func(ids []string) // deletes blobs; called without mu held

	mu      sync.Mutex
	epoch   uint64            // bumped by every retire
	looking map[uint64]int    // reads between begin and keep, by the epoch they began in
	pins    map[string]int    // blob ID -> reads holding it
	waiting map[string]uint64 // retired blob ID -> epoch it was retired in
}

func newReclaimer(del func(ids []string)) *reclaimer {
	return &reclaimer{del: del, looking: map[uint64]int{}, pins: map[string]int{}, waiting: map[string]uint64{}}
}

// readHold keeps the blobs a read resolved alive until release.
type readHold struct {
	r       *reclaimer
	epoch   uint64
	ids     []string
	looking bool // registered in r.looking, not yet kept
}

// begin registers a read about to look an object up.
func (r *reclaimer) begin() *readHold {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.looking[r.epoch]++
	return &readHold{r: r, epoch: r.epoch, looking: true}
}

// keep pins the blobs of the version the read resolved and ends its lookup.
func (h *readHold) keep(parts []meta.Part) {
	r := h.r
	r.mu.Lock()
	for _, p := range parts {
		if p.BlobID != "" {
			r.pins[p.BlobID]++
			h.ids = append(h.ids, p.BlobID)
		}
	}
	due := h.endLookup()
	r.mu.Unlock()
	r.delete(due)
}

// release drops the read's pins (or its lookup); it is safe to call twice.
func (h *readHold) release() {
	if h == nil {
		return
	}
	r := h.r
	r.mu.Lock()
	due := h.endLookup()
	for _, id := range h.ids {
		if r.pins[id]--; r.pins[id] == 0 {
			delete(r.pins, id)
		}
	}
	h.ids = nil
	due = append(due, r.dueLocked()...)
	r.mu.Unlock()
	r.delete(due)
}

// endLookup ends the lookup registration, returning blobs now deletable.
// r.mu must be held.
func (h *readHold) endLookup() []string {
	if !h.looking {
		return nil
	}
	h.looking = false
	r := h.r
	if r.looking[h.epoch]--; r.looking[h.epoch] == 0 {
		delete(r.looking, h.epoch)
	}
	return r.dueLocked()
}

// retire deletes the blobs of a version no longer referenced by metadata,
// now or once the reads that may be using them are done.
func (r *reclaimer) retire(parts []meta.Part) {
	r.mu.Lock()
	r.epoch++
	n := 0
	for _, p := range parts {
		if p.BlobID != "" {
			r.waiting[p.BlobID] = r.epoch
			n++
		}
	}
	var due []string
	if n > 0 {
		due = r.dueLocked()
	}
	r.mu.Unlock()
	r.delete(due)
}

// dueLocked removes and returns the waiting blobs that may be deleted.
func (r *reclaimer) dueLocked() []string {
	if len(r.waiting) == 0 {
		return nil
	}
	oldest, looking := uint64(0), false
	for e := range r.looking {
		if !looking || e < oldest {
			oldest, looking = e, true
		}
	}
	var due []string
	for id, e := range r.waiting {
		// A read that began in epoch b looked up before every retire
		// numbered above b.
		if r.pins[id] > 0 || (looking && oldest < e) {
			continue
		}
		delete(r.waiting, id)
		due = append(due, id)
	}
	return due
}

func (r *reclaimer) delete(ids []string) {
	if len(ids) > 0 {
		r.del(ids)
	}
}

// pending reports how many retired blobs wait for reads (for tests).
func (r *reclaimer) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.waiting)
}

// HoldBlobs keeps every blob from being deleted until release is called:
// what is retired meanwhile waits (a backup copies the blobs of a metadata
// snapshot taken after the hold, so none of them may go while it runs).
func (s *Service) HoldBlobs() (release func()) {
	return s.reclaim.begin().release
}
