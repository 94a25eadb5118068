package e2e

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestReplicationStatusHeader: x-amz-replication-status through
// aws-sdk-go-v2 on GET and HEAD: PENDING on a source while its version is
// queued, COMPLETED once replicated, REPLICA on the replica (same version
// ID), and absent on an object no rule replicates.
func TestReplicationStatusHeader(t *testing.T) {
	// A node whose jobs the test runs, so PENDING is observable.
	node := testnode.Start(t, testnode.Options{Now: time.Now})
	e := &env{name: "plain", node: node, endpoint: node.URL, pathStyle: true}
	e.wire = &wireCheck{base: http.DefaultTransport.(*http.Transport).Clone()}
	e.http = &http.Client{Transport: e.wire}
	c := e.root(t)
	ctx := context.Background()
	src, dst := bucketName("repl-src"), bucketName("repl-dst")
	for _, b := range []string{src, dst} {
		must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}))(t)
		must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))(t)
	}
	cfg := &replication.Config{Rules: []replication.Rule{{ID: "docs", Enabled: true, Prefix: "docs/", Destination: replication.Destination{Bucket: dst}}}}
	node.SetReplication(t, src, cfg)
	put := must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("docs/a"), Body: bytes.NewReader([]byte("hello"))}))(t)
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("other"), Body: bytes.NewReader([]byte("x"))}))(t)

	head := func(bucket, key string, version *string) string {
		t.Helper()
		h := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: version}))(t)
		g := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: version}))(t)
		g.Body.Close()
		if h.ReplicationStatus != g.ReplicationStatus {
			t.Fatalf("%s/%s: HEAD says %q, GET %q", bucket, key, h.ReplicationStatus, g.ReplicationStatus)
		}
		return string(h.ReplicationStatus)
	}
	if s := head(src, "docs/a", nil); s != "PENDING" {
		t.Fatalf("source before replication: %q, want PENDING", s)
	}
	if s := head(src, "other", nil); s != "" {
		t.Fatalf("an object no rule replicates: %q, want no header", s)
	}
	if _, err := node.Jobs.RunPass(ctx, service.ReplicationJob); err != nil {
		t.Fatal(err)
	}
	if s := head(src, "docs/a", nil); s != "COMPLETED" {
		t.Fatalf("source after replication: %q, want COMPLETED", s)
	}
	if s := head(dst, "docs/a", put.VersionId); s != "REPLICA" {
		t.Fatalf("replica: %q, want REPLICA", s)
	}
	got := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(dst), Key: aws.String("docs/a")}))(t)
	if b := readAll(t, got.Body); string(b) != "hello" || aws.ToString(got.VersionId) != aws.ToString(put.VersionId) {
		t.Fatalf("replica %q version %s, want the source's %s", b, aws.ToString(got.VersionId), aws.ToString(put.VersionId))
	}
}
