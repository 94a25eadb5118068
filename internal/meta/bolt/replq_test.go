package bolt

import (
	"errors"
	"reflect"
	"testing"

	"strongroom/internal/meta"
	"strongroom/internal/replication"
)

// queued returns the whole queue.
func queued(t testing.TB, s *Store) []*meta.ReplicationEntry {
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
func TestReplicationQueuedWithTheVersion(t *testing.T) {
	s, path := openTemp(t)
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
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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

func mustPutV(t testing.TB, s *Store, o *meta.Object) *meta.Object {
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
func TestFinishReplication(t *testing.T) {
	s, _ := openTemp(t)
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

// TestPutReplica: a replica keeps its version ID, takes its place among
// the key's versions by the source's order, is not queued, and a second
// PutReplica of the same version changes nothing.
func TestPutReplica(t *testing.T) {
	s, _ := openTemp(t)
	for _, b := range []string{"src", "dst"} {
		mustBucket(t, s, b)
		setVersioning(t, s, b, meta.VersioningEnabled)
	}
	v1 := mustPutV(t, s, obj("src", "k"))
	v2 := mustPutV(t, s, obj("src", "k"))
	v2.ETag = "v2"
	v1.ETag = "v1"
	replica := func(o *meta.Object) *meta.Object {
		r := *o
		r.Bucket, r.ReplicationStatus = "dst", replication.StatusReplica
		return &r
	}
	// Out of order: v2 first, then v1, then v2 again.
	for _, o := range []*meta.Object{v2, v1} {
		if err := s.PutReplica(ctx, replica(o)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutReplica(ctx, replica(v2)); !errors.Is(err, meta.ErrVersionExists) {
		t.Fatalf("second replica of v2: %v, want ErrVersionExists", err)
	}
	if got, want := listed(t, s, "dst", "", "", ""), []string{"k:v2*", "k:v1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("versions %v, want %v", got, want)
	}
	if got, err := s.GetObject(ctx, "dst", "k"); err != nil || got.VersionID != v2.VersionID || got.ReplicationStatus != replication.StatusReplica {
		t.Fatalf("current: %+v %v", got, err)
	}
	// A replicated delete marker newer than everything becomes current.
	dm := &meta.Object{Bucket: "src", Key: "k", DeleteMarker: true}
	del, err := s.DeleteObjectVersion(ctx, "src", "k", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	dm.VersionID = del.Marker.VersionID
	if err := s.PutReplica(ctx, replica(dm)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetObject(ctx, "dst", "k"); err == nil {
		t.Fatal("the replicated delete marker is not current")
	}
	// A local write afterwards is newer than every replica.
	putETag(t, s, "dst", "k", "local")
	if got, want := listed(t, s, "dst", "", "", ""), []string{"k:local*", "k:DM", "k:v2", "k:v1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after a local write: %v, want %v", got, want)
	}
	if es := queued(t, s); len(es) != 0 {
		t.Fatalf("replicas were queued: %+v", es)
	}
	// Only into a versioned bucket.
	mustBucket(t, s, "flat")
	if err := s.PutReplica(ctx, &meta.Object{Bucket: "flat", Key: "k", VersionID: v1.VersionID}); !errors.Is(err, meta.ErrNotVersioned) {
		t.Fatalf("replica into an unversioned bucket: %v", err)
	}
}

// TestPutReplicaSequenceTaken: a replica whose version ID's sequence a
// local version of the key already has (the destination takes writes of
// its own) is stored at a new sequence, as the newest version, and found
// by its ID like any other; a second PutReplica is still refused, and
// removing it works.
func TestPutReplicaSequenceTaken(t *testing.T) {
	s, _ := openTemp(t)
	for _, b := range []string{"src", "dst"} {
		mustBucket(t, s, b)
		setVersioning(t, s, b, meta.VersioningEnabled)
	}
	local, _ := putETag(t, s, "dst", "c", "local") // dst sequence 1
	putETag(t, s, "dst", "c", "local2")            // dst sequence 2
	v, _ := putETag(t, s, "src", "c", "from-src")  // src sequence 1
	if mustSeq(t, v.VersionID) != mustSeq(t, local.VersionID) {
		t.Fatal("the test needs the same sequence on both sides")
	}
	r := *v
	r.Bucket, r.ReplicationStatus = "dst", replication.StatusReplica
	if err := s.PutReplica(ctx, &r); err != nil {
		t.Fatal(err)
	}
	if err := s.PutReplica(ctx, &r); !errors.Is(err, meta.ErrVersionExists) {
		t.Fatalf("second PutReplica: %v, want ErrVersionExists", err)
	}
	if got, want := listed(t, s, "dst", "", "", ""), []string{"c:from-src*", "c:local2", "c:local"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("versions %v, want %v", got, want)
	}
	// Make it noncurrent, then find it by ID, list from it, remove it.
	putETag(t, s, "dst", "c", "newer")
	if got, err := s.GetObjectVersion(ctx, "dst", "c", v.VersionID); err != nil || got.ETag != "from-src" {
		t.Fatalf("GetObjectVersion: %+v %v", got, err)
	}
	if got := listed(t, s, "dst", "", "c", v.VersionID); !reflect.DeepEqual(got, []string{"c:local2", "c:local"}) {
		t.Fatalf("listing after the replica: %v", got)
	}
	if _, err := s.DeleteObjectVersion(ctx, "dst", "c", v.VersionID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetObjectVersion(ctx, "dst", "c", v.VersionID); !errors.Is(err, meta.ErrNoSuchVersion) {
		t.Fatalf("after removal: %v", err)
	}
	if got := listed(t, s, "dst", "", "", ""); !reflect.DeepEqual(got, []string{"c:newer*", "c:local2", "c:local"}) {
		t.Fatalf("versions after removal %v", got)
	}
}

func mustSeq(t *testing.T, id string) uint64 {
	t.Helper()
	seq, err := versionSeq(id)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}
