package service

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// TestSweepPendingFindsCrashOrphans: the start-up sweep reads only the
// journal, and still finds the blobs a crash left between a blob's commit
// and its metadata commit, and between a version's removal and its blob's
// deletion; referenced blobs stay.
func TestSweepPendingFindsCrashOrphans(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	big := random(100 << 10) // above InlineMax: a blob
	f.put(t, "kept", big, nil)
	f.put(t, "replaced", big, nil)

	// Crash 1: a blob committed, its metadata never installed.
	w, err := f.svc.blobs.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(big)
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// Crash 2: a version replaced while a read holds its blob; the process
	// dies before the reclaimer deletes it.
	f.svc.HoldBlobs()
	f.put(t, "replaced", random(100<<10), nil)
	f.svc.journal.wait()
	if n := f.blobFiles(t); n != 4 {
		t.Fatalf("%d blob files before the restart, want 4", n)
	}

	restarted := New(f.meta, f.svc.rawBlobs, Options{Sealer: f.svc.sealer})
	n, err := restarted.SweepPending(ctx)
	if err != nil || n != 2 {
		t.Fatalf("swept %d (%v), want 2", n, err)
	}
	if n := f.blobFiles(t); n != 2 {
		t.Fatalf("%d blob files after the sweep, want 2", n)
	}
	f.svc = restarted
	if got, err := f.get("kept", nil); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("kept object after the sweep: %v", err)
	}
	if _, err := f.get("replaced", nil); err != nil {
		t.Fatalf("replaced object after the sweep: %v", err)
	}
	left := 0
	f.meta.ListPending(ctx, time.Now().Add(time.Hour), func(string, time.Time) error { left++; return nil })
	if left != 0 {
		t.Fatalf("%d journal entries left after the sweep", left)
	}
}

// TestJournalSettles: after ordinary writes, overwrites and deletes the
// journal is empty again (so it stays small whatever the object count).
func TestJournalSettles(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := range 3 {
		f.put(t, "a", random(64<<10), nil)
		f.put(t, "b", random(40<<10+i), nil)
	}
	if err := f.svc.DeleteObject(ctx, f.p, "bkt", "b"); err != nil {
		t.Fatal(err)
	}
	f.svc.journal.wait()
	var left []string
	f.meta.ListPending(ctx, time.Now().Add(time.Hour), func(id string, _ time.Time) error { left = append(left, id); return nil })
	if len(left) != 0 {
		t.Fatalf("journal holds %q after settled writes", left)
	}
	if n := f.blobFiles(t); n != 1 {
		t.Fatalf("%d blob files, want 1", n)
	}
}

// TestSweepWithoutJournalKeepsYoungOrphans: a metadata store without a
// pending-blob journal (a wrapper hides it here) sweeps by walking the blobs, and
// then leaves an unreferenced blob younger than orphanGrace alone: on a
// shared tier it may be another node's write about to be installed.
func TestSweepWithoutJournalKeepsYoungOrphans(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	w, err := f.svc.rawBlobs.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(random(100 << 10))
	if _, err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	noJournal := struct{ meta.Store }{f.meta} // hides meta.PendingBlobs
	for _, c := range []struct {
		now  time.Time
		want int
	}{{time.Now(), 0}, {time.Now().Add(orphanGrace + time.Minute), 1}} {
		svc := New(noJournal, f.svc.rawBlobs, Options{Sealer: f.svc.sealer, Now: func() time.Time { return c.now }})
		if svc.journal != nil {
			t.Fatal("the wrapped store still has a journal")
		}
		if n, err := svc.SweepPending(ctx); err != nil || n != c.want {
			t.Fatalf("at %v: swept %d (%v), want %d", c.now, n, err, c.want)
		}
	}
}
