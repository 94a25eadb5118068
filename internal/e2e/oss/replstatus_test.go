package e2eoss

import (
	"bytes"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/strongroom-dev/strongroom/internal/replication"
)

// TestOSSReplicationStatusHeader: OSS requests get a version's replication
// state as x-oss-replication-status (and not the x-amz- name) on HEAD and
// GET through the v2 SDK: COMPLETED on the source once replicated, REPLICA
// on the replica.
func TestOSSReplicationStatusHeader(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	c := newV2(t, n, n.AccessKey, n.SecretKey, oss2.SignatureVersionV4)
	cl, ctx := c.c, c.ctx
	src, dst := bucketName("rsrc"), bucketName("rdst")
	for _, b := range []string{src, dst} {
		if _, err := cl.PutBucket(ctx, &oss2.PutBucketRequest{Bucket: &b}); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.PutBucketVersioning(ctx, &oss2.PutBucketVersioningRequest{Bucket: &b,
			VersioningConfiguration: &oss2.VersioningConfiguration{Status: oss2.VersionEnabled}}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := &replication.Config{Rules: []replication.Rule{{ID: "all", Enabled: true, Destination: replication.Destination{Bucket: dst}}}}
	n.SetReplication(t, src, cfg)
	key := "k"
	out, err := cl.PutObject(ctx, &oss2.PutObjectRequest{Bucket: &src, Key: &key, Body: bytes.NewReader([]byte("data"))})
	if err != nil {
		t.Fatal(err)
	}
	status := func(bucket string, vid *string) string {
		t.Helper()
		h, err := cl.HeadObject(ctx, &oss2.HeadObjectRequest{Bucket: &bucket, Key: &key, VersionId: vid})
		if err != nil {
			t.Fatal(err)
		}
		g, err := cl.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &bucket, Key: &key, VersionId: vid})
		if err != nil {
			t.Fatal(err)
		}
		g.Body.Close()
		if h.Headers.Get("x-amz-replication-status") != "" {
			t.Errorf("the OSS dialect sent x-amz-replication-status")
		}
		if hs, gs := h.Headers.Get("x-oss-replication-status"), g.Headers.Get("x-oss-replication-status"); hs != gs {
			if hs == "PENDING" || gs == "PENDING" {
				return "PENDING" // replicated between the two requests
			}
			t.Fatalf("HEAD says %q, GET %q", hs, gs)
		}
		return h.Headers.Get("x-oss-replication-status")
	}
	deadline := time.Now().Add(10 * time.Second)
	for status(src, nil) != "COMPLETED" {
		if time.Now().After(deadline) {
			t.Fatalf("source x-oss-replication-status %q, want COMPLETED", status(src, nil))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s := status(dst, out.VersionId); s != "REPLICA" {
		t.Fatalf("replica x-oss-replication-status %q, want REPLICA", s)
	}
}
