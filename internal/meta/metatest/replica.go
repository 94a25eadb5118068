package metatest

import (
	"errors"
	"slices"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// replica is a version of key named by a source's version ID of sequence
// seq.
func replica(bucket, key, etag string, seq uint64, marker bool) *meta.Object {
	o := obj(bucket, key, "blob-"+etag)
	o.ETag, o.VersionID, o.ReplicationStatus = etag, meta.NewVersionID(seq), "REPLICA"
	if marker {
		o.Parts, o.DeleteMarker = nil, true
	}
	return o
}

// TestPutReplica: replicas keep their version IDs and their source order
// whatever order they arrive in, a second install is a no-op, a local
// write afterwards is newer than every replica, and what cannot be
// installed is refused with the sentinel the transfer maps to a permanent
// failure.
func testPutReplica(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "dst")
	setVersioning(t, s, "dst", meta.VersioningEnabled)
	v1, v2, dm := replica("dst", "k", "v1", 10, false), replica("dst", "k", "v2", 20, false), replica("dst", "k", "", 30, true)
	steps := []struct {
		o         *meta.Object
		installed bool
		want      []string
	}{
		{v2, true, []string{"k:v2*"}},
		{v1, true, []string{"k:v2*", "k:v1"}}, // late and older: noncurrent
		{v2, false, []string{"k:v2*", "k:v1"}},
		{dm, true, []string{"k:DM*", "k:v2", "k:v1"}},
		{dm, false, []string{"k:DM*", "k:v2", "k:v1"}},
	}
	for i, st := range steps {
		c := *st.o
		_, installed, err := s.PutReplica(ctx, &c)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if installed != st.installed {
			t.Errorf("step %d: installed %v, want %v", i, installed, st.installed)
		}
		if got := listed(t, s, "dst", "", "", ""); !slices.Equal(got, st.want) {
			t.Errorf("step %d: versions %v, want %v", i, got, st.want)
		}
	}
	for _, o := range []*meta.Object{v1, v2} {
		got, err := s.GetObjectVersion(ctx, "dst", "k", o.VersionID)
		if err != nil || got.ETag != o.ETag {
			t.Errorf("version %s: %v %v", o.VersionID, got, err)
		}
	}
	// A local write now is newer than every replica.
	local := obj("dst", "k", "blob-local")
	local.ETag = "local"
	mustPut(t, s, local)
	if got := listed(t, s, "dst", "", "", ""); !slices.Equal(got, []string{"k:local*", "k:DM", "k:v2", "k:v1"}) {
		t.Errorf("after a local write: %v", got)
	}

	// A replica whose ID names the slot of another version.
	clash := replica("dst", "k", "clash", 31, false) // the local write took sequence 31
	if _, _, err := s.PutReplica(ctx, clash); !errors.Is(err, meta.ErrReplicaConflict) {
		t.Errorf("clashing replica: %v, want ErrReplicaConflict", err)
	}
	// A null version replicated twice into a versioned bucket stays one
	// null version.
	for range 2 {
		null := obj("dst", "n", "blob-null")
		null.ETag = "null"
		if _, installed, err := s.PutReplica(ctx, null); err != nil || !installed {
			t.Fatalf("null replica: %v %v", installed, err)
		}
	}
	if got := listed(t, s, "dst", "n", "", ""); !slices.Equal(got, []string{"n:null(null)*"}) {
		t.Errorf("null replica twice: %v", got)
	}
	// Without versioning: objects install as PutObject would, markers not.
	mustBucket(t, s, "plain")
	if _, _, err := s.PutReplica(ctx, replica("plain", "k", "", 5, true)); !errors.Is(err, meta.ErrReplicaUnversioned) {
		t.Errorf("marker into an unversioned bucket: %v, want ErrReplicaUnversioned", err)
	}
	o := replica("plain", "k", "p", 5, false)
	if _, installed, err := s.PutReplica(ctx, o); err != nil || !installed || o.VersionID != "" {
		t.Errorf("object into an unversioned bucket: installed %v version %q err %v", installed, o.VersionID, err)
	}
}
