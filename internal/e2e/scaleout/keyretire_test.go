package scaleout

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestKeyRetireAcrossNodes: a key version retired on node 0 reaches node 1
// within the shared keyring's refresh bound (kms.DefaultSharedRefresh, plus
// the announcement's delivery). Node 1 had cached a bucket key wrapped
// under the old version for new writes; once the retire reaches it, its
// new objects get a bucket key under the newest version, which node 0
// (with no bucket key cached) can read. Before, node 1 went on wrapping
// under the retired version until --kms-cache-ttl: objects nobody could
// read once the cache expired.
func TestKeyRetireAcrossNodes(t *testing.T) {
	ctx := context.Background()
	url0 := pgDB(t)
	n0 := testnode.Start(t, testnode.Options{Meta: url0})
	n1 := startWithRootOf(t, n0, testnode.Options{Meta: url0})
	if _, err := n0.Keyring.CreateKey(ctx, "aging"); err != nil {
		t.Fatal(err)
	}
	c0, c1 := pgClient(n0), pgClient(n1)
	const bucket = "retiring"
	if _, err := c1.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(c *s3.Client, key string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("body of " + key),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("aging"), BucketKeyEnabled: aws.Bool(true)})
		return err
	}
	get := func(c *s3.Client, key string) error { return readObject(ctx, c, bucket, key) }
	// Node 1 caches a bucket key under version 1 for its writes.
	if err := put(c1, "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := n0.Keyring.RotateKey(ctx, "aging"); err != nil {
		t.Fatal(err)
	}
	if _, err := c0.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if st, body := e2eutil.AdminStatus(t, n0, http.MethodPost, "keys/retire", url.Values{"name": {"alias/aging"}, "version": {"1"}}); st != http.StatusOK {
		t.Fatalf("retire on node 0: %d %s", st, body)
	}
	bound := kms.DefaultSharedRefresh + 3*time.Second
	for i := 0; ; i++ {
		key := "after-" + strconv.Itoa(i)
		if err := put(c1, key); err != nil {
			t.Fatalf("PUT on node 1 after the retire: %v", err)
		}
		err := get(c0, key)
		if err == nil {
			t.Logf("node 1 wraps under the newest version %v after the retire", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Since(start) > bound {
			t.Fatalf("node 1 still wraps new objects under the retired version %v after the retire (GET on node 0: %v)", bound, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if info, err := n1.Keyring.DescribeKey(ctx, "aging"); err != nil || !slices.Equal(info.Retired, []uint32{1}) {
		t.Errorf("node 1's keyring: %+v %v", info, err)
	}
}

// readObject GETs an object and reads its body through.
func readObject(ctx context.Context, c *s3.Client, bucket, key string) error {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		_, err = io.Copy(io.Discard, out.Body)
		out.Body.Close()
	}
	return err
}
