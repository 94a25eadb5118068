package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// The pending-blob journal (meta.PendingBlobs) replaces the start-up walk
// of every blob: each blob the service writes is journaled before it can
// exist, the metadata transaction that references it drops the entry, and
// the one that drops its last reference adds it back (both in the store).
// The start-up sweep then deletes the blobs of the entries left, which are
// only what a crash interrupted, so start-up time does not grow with the
// object count. The full walk stays for `strongroom fsck`.
//
// Crash windows, with a store that names blobs up front (blob.Namer and
// blob.NamedLinker, the fs store):
//
//   - before AddPending commits: no blob exists yet; nothing to find;
//   - between AddPending and the blob's commit: the entry names a blob that
//     never became visible; the sweep's Delete finds nothing and drops it;
//   - between the blob's commit and the metadata commit: the entry finds
//     the orphan, and the sweep deletes it;
//   - after the metadata commit: the entry is gone in that transaction and
//     the blob is referenced;
//   - between a metadata commit that drops a blob and its deletion (the
//     reclaimer may hold it for running reads): the transaction journaled
//     it, so the sweep deletes it.
//
// A store that only learns a blob's ID at Commit (or at Link) is journaled
// right after, before the metadata transaction: a crash between the blob
// store's commit and the journal's leaves an orphan that only fsck finds.
//
// While a node runs nothing else is swept: a failed write deletes its own
// blob, and a deletion that fails keeps its entry for the next start.
type journal struct {
	pending meta.PendingBlobs
	now     func() time.Time
	log     *slog.Logger

	mu       sync.Mutex
	done     []string // deleted or never committed blobs to unjournal
	flushing bool
	idle     sync.WaitGroup // a flush is running
}

// journaled returns b with every blob it creates journaled in m, or b as is
// when m keeps no journal.
func journaled(b blob.Store, m meta.Store, now func() time.Time, log *slog.Logger) (blob.Store, *journal) {
	p, ok := m.(meta.PendingBlobs)
	if !ok {
		return b, nil
	}
	j := &journal{pending: p, now: now, log: log}
	js := &journaledStore{Store: b, j: j}
	if _, ok := b.(blob.Linker); ok {
		return &journaledLinker{js}, j
	}
	return js, j
}

// forget unjournals ids once their blobs are gone. Entries are removed in
// batches, after the fact: one left behind by a crash is only a Delete of a
// missing blob at the next start.
func (j *journal) forget(ids ...string) {
	if j == nil || len(ids) == 0 {
		return
	}
	j.mu.Lock()
	j.done = append(j.done, ids...)
	if j.flushing {
		j.mu.Unlock()
		return
	}
	j.flushing = true
	j.idle.Add(1)
	j.mu.Unlock()
	go j.flush()
}

func (j *journal) flush() {
	defer j.idle.Done()
	for {
		j.mu.Lock()
		ids := j.done
		j.done = nil
		if len(ids) == 0 {
			j.flushing = false
			j.mu.Unlock()
			return
		}
		j.mu.Unlock()
		if err := j.pending.RemovePending(context.Background(), ids...); err != nil {
			j.log.Debug("unjournaling deleted blobs", "count", len(ids), "err", err)
		}
	}
}

// wait returns once no flush is running (tests).
func (j *journal) wait() {
	if j != nil {
		j.idle.Wait()
	}
}

// add journals a blob about to be created (or just created).
func (j *journal) add(ctx context.Context, id string) error {
	if err := j.pending.AddPending(ctx, j.now(), id); err != nil {
		return fmt.Errorf("journaling blob: %w", err)
	}
	return nil
}

// journaledStore is a blob.Store whose new blobs are journaled.
type journaledStore struct {
	blob.Store
	j *journal
}

// Create implements blob.Store.
func (s *journaledStore) Create(ctx context.Context) (blob.Writer, error) {
	if n, ok := s.Store.(blob.Namer); ok {
		id, err := n.NewID()
		if err != nil {
			return nil, err
		}
		if err := s.j.add(ctx, id); err != nil {
			return nil, err
		}
		w, err := n.CreateAs(ctx, id)
		if err != nil {
			s.j.forget(id)
			return nil, err
		}
		return &namedWriter{Writer: w, j: s.j, id: id}, nil
	}
	w, err := s.Store.Create(ctx)
	if err != nil {
		return nil, err
	}
	return &lateWriter{Writer: w, s: s}, nil
}

// namedWriter writes a blob journaled under its ID before it was created.
type namedWriter struct {
	blob.Writer
	j         *journal
	id        string
	committed bool
}

func (w *namedWriter) Commit(ctx context.Context) (string, error) {
	id, err := w.Writer.Commit(ctx)
	if err == nil {
		w.committed = true
	}
	return id, err
}

// Abort implements blob.Writer: a blob never committed leaves the journal.
func (w *namedWriter) Abort() error {
	err := w.Writer.Abort()
	if !w.committed {
		w.committed = true // once
		w.j.forget(w.id)
	}
	return err
}

// lateWriter journals its blob at Commit, for stores that name blobs only
// then.
type lateWriter struct {
	blob.Writer
	s *journaledStore
}

func (w *lateWriter) Commit(ctx context.Context) (string, error) {
	id, err := w.Writer.Commit(ctx)
	if err != nil {
		return "", err
	}
	if err := w.s.j.add(ctx, id); err != nil {
		w.s.drop(id)
		return "", err
	}
	return id, nil
}

// drop deletes a blob that could not be journaled.
func (s *journaledStore) drop(id string) {
	if err := s.Store.Delete(context.Background(), id); err != nil && !errors.Is(err, blob.ErrNotFound) {
		s.j.log.Warn("deleting unjournaled blob", "blob", id, "err", err)
	}
}

// journaledLinker is journaledStore over a store that links blobs.
type journaledLinker struct{ *journaledStore }

// Link implements blob.Linker.
func (s *journaledLinker) Link(ctx context.Context, id string) (string, error) {
	n, named := s.Store.(blob.Namer)
	nl, linksAs := s.Store.(blob.NamedLinker)
	if named && linksAs {
		newID, err := n.NewID()
		if err != nil {
			return "", err
		}
		if err := s.j.add(ctx, newID); err != nil {
			return "", err
		}
		if err := nl.LinkAs(ctx, id, newID); err != nil {
			s.j.forget(newID)
			return "", err
		}
		return newID, nil
	}
	newID, err := s.Store.(blob.Linker).Link(ctx, id)
	if err != nil {
		return "", err
	}
	if err := s.j.add(ctx, newID); err != nil {
		s.drop(newID)
		return "", err
	}
	return newID, nil
}

// SweepPending deletes the blobs the journal holds: at start, before the
// node serves, every entry is a write a crash interrupted or a deletion it
// cut short. It returns the number of blobs deleted. A store without a
// journal is swept by the full walk (SweepOrphans).
func (s *Service) SweepPending(ctx context.Context) (int, error) {
	if s.journal == nil {
		return s.sweepOrphans(ctx, s.now().Add(-orphanGrace))
	}
	deleted := 0
	var gone []string
	flush := func() error {
		err := s.journal.pending.RemovePending(ctx, gone...)
		gone = gone[:0]
		return err
	}
	err := s.journal.pending.ListPending(ctx, time.Unix(0, math.MaxInt64), func(id string, _ time.Time) error {
		switch err := s.rawBlobs.Delete(ctx, id); {
		case err == nil:
			deleted++
		case !errors.Is(err, blob.ErrNotFound):
			s.log.Warn("sweeping journaled blob", "blob", id, "err", err)
			return nil // kept for the next sweep
		}
		if gone = append(gone, id); len(gone) == 1000 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return deleted, err
	}
	return deleted, flush()
}
