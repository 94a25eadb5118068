package scaleout

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestNodesShareMetadata: two nodes on one PostgreSQL database (their
// own data directories: small objects live inside the metadata, so the
// data tier does not matter here). A write on one is read on the other at
// once, and If-None-Match writes racing on both nodes leave exactly one
// winner, the others 412 PreconditionFailed. The nodes share the root key
// (the database refuses a node with another) and so the keyring: an
// SSE-KMS write under a key created on one node reads on the other.
func TestNodesShareMetadata(t *testing.T) {
	ctx := context.Background()
	url := pgDB(t)
	n0 := testnode.Start(t, testnode.Options{Meta: url})
	nodes := []*testnode.Node{n0, testnode.Start(t, testnode.Options{Meta: url, DataDir: sameRootKey(t, n0)})}
	c0, c1 := pgClient(nodes[0]), pgClient(nodes[1])
	const bucket = "shared"
	if _, err := c0.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c0.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("from node 0")}); err != nil {
		t.Fatal(err)
	}
	out, err := c1.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("GET on node 1 of node 0's write: %v", err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "from node 0" {
		t.Fatalf("node 1 read %q", b)
	}
	if _, err := nodes[0].Keyring.CreateKey(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("kms"), Body: strings.NewReader("sealed"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("team")}); err != nil {
		t.Fatalf("SSE-KMS PUT on node 1 under node 0's key: %v", err)
	}
	if out, err = c0.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("kms")}); err != nil {
		t.Fatalf("GET on node 0 of node 1's SSE-KMS write: %v", err)
	}
	b, _ = io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != "sealed" {
		t.Fatalf("node 0 read %q", b)
	}

	for round := range 3 {
		key := "race-" + string(rune('a'+round))
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, refused := 0, 0
		for w := range 8 {
			c := []*s3.Client{c0, c1}[w%2]
			wg.Go(func() {
				_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
					Body: strings.NewReader("writer"), IfNoneMatch: aws.String("*")})
				mu.Lock()
				defer mu.Unlock()
				var re *awshttp.ResponseError
				switch {
				case err == nil:
					wins++
				case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed:
					refused++
				default:
					t.Errorf("racing PUT: %v", err)
				}
			})
		}
		wg.Wait()
		if wins != 1 || refused != 7 {
			t.Fatalf("round %d: %d winners, %d refused; want 1 and 7", round, wins, refused)
		}
	}
}

// sameRootKey is a new data directory holding n's root key, for another
// node of n's deployment.
func sameRootKey(t *testing.T, n *testnode.Node) string {
	t.Helper()
	root, err := os.ReadFile(filepath.Join(n.DataDir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "root.key"), root, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
