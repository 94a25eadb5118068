package scaleout

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestKeyGrantsAcrossNodes: key policies live in the shared PostgreSQL
// database, so a grant, a revoke and a deletion schedule made on node 0
// are enforced by node 1 on its next request (the check reads the policy
// from the database; no node caches it). The nodes share the keyring
// too (it is in the database): the key is created on node 0 only.
func TestKeyGrantsAcrossNodes(t *testing.T) {
	ctx := context.Background()
	url := pgDB(t)
	// The nodes share the root key: users' secrets and the keyring in the
	// database are sealed under it.
	n0 := testnode.Start(t, testnode.Options{Meta: url})
	nodes := []*testnode.Node{n0, testnode.Start(t, testnode.Options{Meta: url, DataDir: sameRootKey(t, n0)})}
	if _, err := nodes[0].Keyring.CreateKey(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	ak, err := nodes[0].IAM.CreateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	alice := pgUserClient(nodes[1], ak.AccessKey, ak.SecretKey)
	root1 := pgClient(nodes[1])
	const bucket = "alices"
	if _, err := alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(c *s3.Client, key string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("secret " + key),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("team")})
		return err
	}
	get := func(c *s3.Client, key string) error { return readObject(ctx, c, bucket, key) } // keyretire_test.go
	want := func(what string, err error, status int, code string) {
		t.Helper()
		var re *awshttp.ResponseError
		var api smithy.APIError
		if status == 0 {
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return
		}
		if !errors.As(err, &re) || re.HTTPStatusCode() != status || !errors.As(err, &api) || api.ErrorCode() != code {
			t.Fatalf("%s: %v, want %d %s", what, err, status, code)
		}
	}
	op := func(name, user, arg string) {
		t.Helper()
		if _, err := server.KeyPolicyOp(ctx, nodes[0].Keys, nodes[0].Meta(), name, "team", user, arg, time.Now()); err != nil {
			t.Fatalf("%s on node 0: %v", name, err)
		}
	}

	want("PUT on node 1 before any grant", put(alice, "a"), 403, "AccessDenied")
	want("root PUT on node 1", put(root1, "by-root"), 0, "")
	want("GET on node 1 before any grant", get(alice, "by-root"), 403, "AccessDenied")

	op("grant", "alice", "")
	want("PUT on node 1 after the grant on node 0", put(alice, "a"), 0, "")
	want("GET on node 1 after the grant on node 0", get(alice, "a"), 0, "")

	op("revoke", "alice", "")
	want("PUT on node 1 after the revoke on node 0", put(alice, "b"), 403, "AccessDenied")
	want("GET on node 1 after the revoke on node 0", get(alice, "a"), 403, "AccessDenied")

	// The deletion schedule disables the key in the shared keyring, and
	// node 1 refuses it from the shared policy at once.
	op("schedule-deletion", "", "7")
	want("root PUT on node 1 after schedule-deletion on node 0", put(root1, "c"), 400, "KMS.KMSInvalidStateException")
	want("root GET on node 1 after schedule-deletion on node 0", get(root1, "by-root"), 400, "KMS.KMSInvalidStateException")
}
