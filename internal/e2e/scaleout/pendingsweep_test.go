package scaleout

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestStartSweepReadsTheJournal: on PostgreSQL a node's start-up sweep
// reads its pending-blob journal. Two blobs are left as a crash between
// the blob's commit and the metadata's leaves them (written and
// journaled, no version referencing them), one journaled by this node and
// one by another node. The restarted node deletes its own at once, young
// as it is (the walk without a journal would keep it for an hour), and
// leaves the other node's alone: that node may still be writing it.
func TestStartSweepReadsTheJournal(t *testing.T) {
	ctx := context.Background()
	url := pgDB(t)
	dir := t.TempDir()
	n := testnode.Start(t, testnode.Options{Meta: url, DataDir: dir})
	c := pgClient(n)
	const bucket = "sweep"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	blobOf := func(key string) string {
		t.Helper()
		body := make([]byte, 100<<10) // above the inline size: a blob
		rand.Read(body)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
		o, err := n.Meta().GetObject(ctx, bucket, key)
		if err != nil || len(o.Parts) != 1 || o.Parts[0].BlobID == "" {
			t.Fatalf("%s: %+v %v", key, o, err)
		}
		return o.Parts[0].BlobID
	}
	mine, theirs := blobOf("mine"), blobOf("theirs")

	other, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetNode("another-node")
	if err := n.Meta().(meta.PendingBlobs).AddPending(ctx, time.Now(), mine); err != nil {
		t.Fatal(err)
	}
	if err := other.AddPending(ctx, time.Now(), theirs); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DELETE FROM versions WHERE bucket = $1", bucket); err != nil {
		t.Fatal(err)
	}

	n.Close(ctx)
	testnode.Start(t, testnode.Options{Meta: url, DataDir: dir})
	if blobExists(t, dir, mine) {
		t.Error("the node's own journaled orphan survived its restart")
	}
	if !blobExists(t, dir, theirs) {
		t.Error("another node's young journaled blob was swept")
	}
	var left []string
	if err := other.ListPending(ctx, time.Now().Add(time.Hour), func(id string, _ time.Time) error {
		left = append(left, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(left, []string{theirs}) {
		t.Errorf("journal after the sweep %q, want only the other node's %q", left, theirs)
	}
}

// blobExists reports whether a file named id is under dir.
func blobExists(t *testing.T, dir, id string) bool {
	t.Helper()
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == id {
			return found
		}
		return err
	})
	if err != nil && !errors.Is(err, found) {
		t.Fatal(err)
	}
	return errors.Is(err, found)
}
