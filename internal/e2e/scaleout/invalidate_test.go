package scaleout

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// startWithRootOf starts a node with n's root key (users' secrets in the
// database are sealed under it) in a data directory of its own.
func startWithRootOf(t *testing.T, n *testnode.Node, o testnode.Options) *testnode.Node {
	t.Helper()
	o.DataDir = sameRootKey(t, n)
	return testnode.Start(t, o)
}

// TestDenySeenAcrossNodes: a user disabled, re-enabled or losing its key
// on node 0 is seen by node 1 as soon as PostgreSQL delivers the notice,
// though node 1 had the user cached (its cache lives 10 s): the deny
// takes effect cluster-wide in milliseconds, not at the cache's TTL.
func TestDenySeenAcrossNodes(t *testing.T) {
	ctx := context.Background()
	url := pgDB(t)
	n0 := testnode.Start(t, testnode.Options{Meta: url})
	n1 := startWithRootOf(t, n0, testnode.Options{Meta: url})
	cred, err := n0.IAM.CreateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	alice := pgUserClient(n1, cred.AccessKey, cred.SecretKey)
	list := func() error { _, err := alice.ListBuckets(ctx, &s3.ListBucketsInput{}); return err }
	denied := func(err error) bool {
		var api smithy.APIError
		return errors.As(err, &api) && api.ErrorCode() == "InvalidAccessKeyId"
	}
	// await polls node 1 until want(err) holds, and returns how long that
	// took; the cache's TTL is 10 s, so 3 s proves the notice did it.
	await := func(what string, want func(error) bool) time.Duration {
		t.Helper()
		start := time.Now()
		for {
			err := list()
			if want(err) {
				return time.Since(start)
			}
			if time.Since(start) > 3*time.Second {
				t.Fatalf("%s: node 1 still answers %v after 3 s", what, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	ok := func(err error) bool { return err == nil }

	if err := list(); err != nil { // node 1 caches alice
		t.Fatal(err)
	}
	if _, err := n0.IAM.SetUserDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	t.Logf("user disabled on node 0: denied on node 1 after %v", await("disabled", denied))
	if _, err := n0.IAM.SetUserDisabled(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	t.Logf("user re-enabled on node 0: allowed on node 1 after %v", await("re-enabled", ok))
	if err := n0.IAM.RemoveAccessKey(ctx, "alice", cred.AccessKey); err != nil {
		t.Fatal(err)
	}
	t.Logf("key removed on node 0: denied on node 1 after %v", await("key removed", denied))
}
