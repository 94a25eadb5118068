package s3_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/blob"
)

// TestNamedBlobs: a blob created under a chosen ID is stored under it,
// LinkAs copies under another chosen ID, and Delete of an ID whose writer
// died in mid-upload answers ErrNotFound and aborts what the writer left.
func TestNamedBlobs(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s := tg.store(t, nil)
	var n blob.Namer = s
	id, err := n.NewID()
	if err != nil {
		t.Fatal(err)
	}
	w, err := n.CreateAs(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	data := payload(300*KiB, 21)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if got, err := w.Commit(ctx); err != nil || got != id {
		t.Fatalf("Commit = %q, %v; want %q", got, err, id)
	}
	id2, _ := n.NewID()
	if err := s.LinkAs(ctx, id, id2); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, id2); !bytes.Equal(got, data) {
		t.Fatal("the named link's bytes differ")
	}
	if _, err := n.CreateAs(ctx, "../x"); err == nil {
		t.Fatal("CreateAs of an invalid ID succeeded")
	}

	// A writer killed after its first part: the tier holds its upload.
	dead, _ := n.NewID()
	w, err = n.CreateAs(ctx, dead)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(payload(partSize+1, 22)); err != nil {
		t.Fatal(err)
	}
	if len(tg.uploads(t)) != 1 {
		t.Fatalf("uploads %v, want the dead writer's", tg.uploads(t))
	}
	if err := s.Delete(ctx, dead); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Delete of the dead writer's blob = %v, want ErrNotFound", err)
	}
	if got := tg.uploads(t); len(got) != 0 {
		t.Fatalf("uploads left after the sweep's Delete: %v", got)
	}
}
