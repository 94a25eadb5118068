package metatest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
)

// queued returns the whole queue.
func queued(t testing.TB, s meta.Store) []*meta.ReplicationEntry {
	t.Helper()
	es, err := s.NextReplications(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func pending(o *meta.Object, rule string) *meta.Object {
	o.ReplicationStatus, o.ReplicationRule = replication.StatusPending, rule
	return o
}

// TestReplicationQueuedWithTheVersion: every write path queues the version
// it installs, in its own transaction: a write refused by its precondition
// queues nothing, a version not written PENDING is not queued.
func testReplicationQueuedWithTheVersion(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "src")
	setVersioning(t, s, "src", meta.VersioningEnabled)

	a := mustPutV(t, s, pending(obj("src", "a"), "r1"))
	mustPut(t, s, obj("src", "plain")) // no rule matched
	refused := errors.New("refused")
	if _, err := s.PutObject(ctx, pending(obj("src", "b"), "r1"), func(*meta.Object) error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("conditional put: %v", err)
	}
	if err := s.CreateUpload(ctx, &meta.Upload{ID: "u1", Bucket: "src", Key: "mp"}); err != nil {
		t.Fatal(err)
	}
	mp := pending(obj("src", "mp"), "r2")
	if _, _, err := s.CompleteUpload(ctx, "src", "u1", mp, nil); err != nil {
		t.Fatal(err)
	}
	del, err := s.DeleteObjectReplicated(ctx, "src", "a", "r1", nil)
	if err != nil || del.Marker == nil || del.Marker.ReplicationStatus != replication.StatusPending {
		t.Fatalf("delete marker: %+v %v", del, err)
	}
	// A delete that makes no marker (an unversioned bucket) queues nothing.
	mustBucket(t, s, "flat")
	mustPut(t, s, obj("flat", "x"))
	if del, err := s.DeleteObjectReplicated(ctx, "flat", "x", "r1", nil); err != nil || del.Marker != nil {
		t.Fatalf("unversioned delete: %+v %v", del, err)
	}

	want := []meta.ReplicationEntry{
		{Seq: 1, Bucket: "src", Key: "a", VersionID: a.VersionID, Rule: "r1"},
		{Seq: 2, Bucket: "src", Key: "mp", VersionID: mp.VersionID, Rule: "r2"},
		{Seq: 3, Bucket: "src", Key: "a", VersionID: del.Marker.VersionID, Rule: "r1", DeleteMarker: true},
	}
	// Durable: the queue is the same after a reopen.
	s = be.Reopen(t, s)
	got := queued(t, s)
	if len(got) != len(want) {
		t.Fatalf("queue %+v, want %+v", got, want)
	}
	for i, e := range got {
		if e.Enqueued.IsZero() {
			t.Errorf("entry %d has no enqueue time", i)
		}
		e.Enqueued = want[i].Enqueued
		if !reflect.DeepEqual(*e, want[i]) {
			t.Errorf("entry %d = %+v, want %+v", i, *e, want[i])
		}
	}
	v, err := s.GetObjectVersion(ctx, "src", "a", a.VersionID)
	if err != nil || v.ReplicationStatus != replication.StatusPending || v.ReplicationRule != "" {
		t.Fatalf("stored version: %+v %v (status PENDING, rule kept only in the queue)", v, err)
	}
	// Paging from a position.
	if rest, err := s.NextReplications(ctx, 2, 10); err != nil || len(rest) != 1 || rest[0].Seq != 3 {
		t.Fatalf("after 2: %+v %v", rest, err)
	}
}

func mustPutV(t testing.TB, s meta.Store, o *meta.Object) *meta.Object {
	t.Helper()
	mustPut(t, s, o)
	if o.VersionID == "" {
		t.Fatal("no version ID issued")
	}
	return o
}

// TestFinishReplication: the outcome is recorded on the version (a current
// one, a noncurrent one, a delete marker) and the entry removed in one
// transaction; finishing twice, or for a version removed meanwhile, is
// harmless; a retry keeps the entry with its attempt.
func testFinishReplication(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "src")
	setVersioning(t, s, "src", meta.VersioningEnabled)
	old := mustPutV(t, s, pending(obj("src", "k"), "r"))
	cur := mustPutV(t, s, pending(obj("src", "k"), "r"))
	del, err := s.DeleteObjectReplicated(ctx, "src", "m", "r", nil)
	if err != nil {
		t.Fatal(err)
	}
	gone := mustPutV(t, s, pending(obj("src", "gone"), "r"))
	if _, err := s.DeleteObjectVersion(ctx, "src", "gone", gone.VersionID, nil); err != nil {
		t.Fatal(err)
	}
	es := queued(t, s)
	if len(es) != 4 {
		t.Fatalf("%d entries", len(es))
	}
	es[1].Attempts, es[1].LastError = 3, "destination down"
	if err := s.RetryReplication(ctx, es[1]); err != nil {
		t.Fatal(err)
	}
	if got := queued(t, s)[1]; got.Attempts != 3 || got.LastError != "destination down" {
		t.Fatalf("retried entry: %+v", got)
	}
	for i, st := range []string{replication.StatusCompleted, replication.StatusFailed, replication.StatusCompleted, replication.StatusCompleted} {
		if err := s.FinishReplication(ctx, es[i], st); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishReplication(ctx, es[0], replication.StatusFailed); err != nil {
		t.Fatal(err) // again: a no-op
	}
	if left := queued(t, s); len(left) != 0 {
		t.Fatalf("queue not empty: %+v", left)
	}
	for _, c := range []struct {
		key, id, want string
	}{
		{"k", old.VersionID, replication.StatusCompleted},
		{"k", cur.VersionID, replication.StatusFailed},
		{"m", del.Marker.VersionID, replication.StatusCompleted},
	} {
		v, err := s.GetObjectVersion(ctx, "src", c.key, c.id)
		if err != nil || v.ReplicationStatus != c.want {
			t.Errorf("%s %s: %+v %v, want %s", c.key, c.id, v, err, c.want)
		}
	}
}
