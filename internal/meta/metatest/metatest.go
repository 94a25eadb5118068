// Package metatest is the meta.Store contract: one suite of behavioural
// tests that every metadata store passes alike (internal/meta/bolt and
// internal/meta/postgres run it from their own tests).
//
//	func TestContract(t *testing.T) { metatest.Run(t, metatest.Backend{Open: ..., Reopen: ...}) }
package metatest

import (
	"context"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Backend opens the stores under test.
type Backend struct {
	// Open returns a fresh, empty store, closed when the test ends.
	Open func(t testing.TB) meta.Store
	// Reopen closes s (from Open) and opens the same database again,
	// closed when the test ends.
	Reopen func(t testing.TB, s meta.Store) meta.Store
}

var ctx = context.Background()

// Tests are the contract's tests by name.
var Tests = []struct {
	Name string
	Run  func(t *testing.T, be Backend)
}{
	{"Buckets", testBuckets},
	{"DeleteBucketWithUploads", testDeleteBucketWithUploads},
	{"Objects", testObjects},
	{"CanceledContext", testCanceledContext},
	{"ListObjects", testListObjects},
	{"ListObjectsChunksAndReentrancy", testListObjectsChunksAndReentrancy},
	{"Multipart", testMultipart},
	{"CompleteAbortRace", testCompleteAbortRace},
	{"Users", testUsers},
	{"BlobRefs", testBlobRefs},
	{"ConcurrentPutObject", testConcurrentPutObject},
	{"ConcurrentConditionalPut", testConcurrentConditionalPut},
	{"ReopenKeepsEverything", testReopenKeepsEverything},
	{"UpdateObject", testUpdateObject},
	{"VersioningTransitions", testVersioningTransitions},
	{"VersionErrors", testVersionErrors},
	{"VersionPreconditionSeesCurrent", testVersionPreconditionSeesCurrent},
	{"ListObjectVersionsPaging", testListObjectVersionsPaging},
	{"BlobRefsSeesNoncurrentVersions", testBlobRefsSeesNoncurrentVersions},
	{"ListDelimitedMatchesWalk", testListDelimitedMatchesWalk},
	{"PutReplica", testPutReplica},
	{"ReplicationQueuedWithTheVersion", testReplicationQueuedWithTheVersion},
	{"FinishReplication", testFinishReplication},
	{"ObjectStatsFollowEveryChange", testObjectStatsFollowEveryChange},
	{"ReplicasCounted", testReplicasCounted},
	{"PendingJournal", testPendingJournal},
	{"ListPendingBefore", testListPendingBefore},
	{"Remotes", testRemotes},
	{"Jobs", testJobs},
	{"Ping", testPing},
	{"KeyPolicies", testKeyPolicies},
	{"KeyPolicyUpdatesAtomic", testKeyPolicyUpdatesAtomic},
	{"DeletedUserLosesKeyGrants", testDeletedUserLosesKeyGrants},
}

// Run runs every test of the contract on the backend, each as a subtest
// with its own store.
func Run(t *testing.T, be Backend) {
	for _, tc := range Tests {
		t.Run(tc.Name, func(t *testing.T) { tc.Run(t, be) })
	}
}

// MustBucket creates a bucket owned by alice.
func MustBucket(t testing.TB, s meta.Store, name string) {
	t.Helper()
	if err := s.CreateBucket(ctx, &meta.Bucket{Name: name, Owner: "alice", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// Obj is a small object of key with one part per blob ID.
func Obj(bucket, key string, blobs ...string) *meta.Object {
	o := &meta.Object{Bucket: bucket, Key: key, Size: 3, ETag: "e-" + key, LastModified: time.Unix(1700000000, 5).UTC(),
		Headers: meta.Headers{ContentType: "text/plain"}, UserMeta: map[string]string{"k": "v"}}
	for i, b := range blobs {
		o.Parts = append(o.Parts, meta.Part{Number: i, BlobID: b, Size: 1, StoredSize: 17})
	}
	return o
}

// MustPut puts o unconditionally and returns the version it replaced.
func MustPut(t testing.TB, s meta.Store, o *meta.Object) *meta.Object {
	t.Helper()
	old, err := s.PutObject(ctx, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	return old
}

// SetVersioning sets a bucket's versioning state.
func SetVersioning(t testing.TB, s meta.Store, bucket, state string) {
	t.Helper()
	if err := s.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error { b.Versioning = state; return nil }); err != nil {
		t.Fatal(err)
	}
}

func mustBucket(t testing.TB, s meta.Store, name string)   { t.Helper(); MustBucket(t, s, name) }
func obj(bucket, key string, blobs ...string) *meta.Object { return Obj(bucket, key, blobs...) }
func mustPut(t testing.TB, s meta.Store, o *meta.Object) *meta.Object {
	t.Helper()
	return MustPut(t, s, o)
}
func setVersioning(t testing.TB, s meta.Store, bucket, state string) {
	t.Helper()
	SetVersioning(t, s, bucket, state)
}
