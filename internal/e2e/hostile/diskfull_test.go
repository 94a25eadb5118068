package hostile

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestDiskFull fills a small tmpfs data directory through the API: blob
// and inline PUTs both end in 507 InsufficientStorage (not 500), a refused
// PUT leaves no temp file behind, DELETEs still succeed on the full disk
// (the metadata store keeps a reserve for them), and the space they free
// takes PUTs again.
func TestDiskFull(t *testing.T) {
	dir := smallDisk(t, "32m")
	n := testnode.Start(t, testnode.Options{DataDir: dir})
	c := integrityClient(n)
	ctx := context.Background()
	const bucket = "full"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, size int) error {
		b := make([]byte, size)
		rand.Read(b)
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(b)})
		return err
	}
	wantFull := func(what string, err error) {
		t.Helper()
		if status, code := integrityStatus(err); status != 507 || code != "InsufficientStorage" {
			t.Fatalf("%s on a full disk: %v, want 507 InsufficientStorage", what, err)
		}
	}
	const blobSize, inlineSize = 512 << 10, 20 << 10
	fill := func(prefix string, size, max int) []string {
		var keys []string
		for i := range max {
			key := fmt.Sprintf("%s-%04d", prefix, i)
			if err := put(key, size); err != nil {
				wantFull(prefix+" PUT", err)
				return keys
			}
			keys = append(keys, key)
		}
		t.Fatalf("%d %s PUTs of %d bytes fit in 32 MiB", max, prefix, size)
		return nil
	}
	blobs := fill("blob", blobSize, 200)
	inline := fill("inline", inlineSize, 5000)
	wantFull("blob PUT", put("blob-again", blobSize))
	t.Logf("full after %d blob and %d inline PUTs", len(blobs), len(inline))
	if len(blobs) < 4 {
		t.Fatalf("only %d blob PUTs fit", len(blobs))
	}

	tmp, err := os.ReadDir(filepath.Join(dir, "blobs", "tmp"))
	if err != nil || len(tmp) != 0 {
		t.Fatalf("temp files left by refused PUTs: %d (%v)", len(tmp), err)
	}

	// Deletes work on the full disk, inline and blob objects alike.
	for _, key := range append([]string{inline[0], inline[1]}, blobs[:4]...) {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			t.Fatalf("DELETE %s on a full disk: %v", key, err)
		}
	}
	// The space they freed is usable again.
	if err := put("blob-after", blobSize); err != nil {
		t.Fatalf("blob PUT after deletes: %v", err)
	}
	if err := put("inline-after", inlineSize); err != nil {
		t.Fatalf("inline PUT after deletes: %v", err)
	}
}
