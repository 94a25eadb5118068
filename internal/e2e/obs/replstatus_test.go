package e2eobs

import (
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/strongroom-dev/strongroom/internal/replication"
)

// TestOBSReplicationStatusHeader: OBS requests get a version's replication
// state as x-obs-replication-status on HEAD and GET through the OBS SDK in
// each signing mode: COMPLETED on the source once replicated, REPLICA on
// the replica.
func TestOBSReplicationStatusHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		src, dst := e.bucket(t, c, "rsrc-"+m.name), e.bucket(t, c, "rdst-"+m.name)
		for _, b := range []string{src, dst} {
			in := &obs.SetBucketVersioningInput{Bucket: b}
			in.Status = obs.VersioningStatusEnabled
			if _, err := c.SetBucketVersioning(in); err != nil {
				t.Fatal(err)
			}
		}
		cfg := &replication.Config{Rules: []replication.Rule{{ID: "all", Enabled: true, Destination: replication.Destination{Bucket: dst}}}}
		e.node.SetReplication(t, src, cfg)
		out, err := c.PutObject(putInput(src, "k", []byte("data")))
		if err != nil {
			t.Fatal(err)
		}
		status := func(bucket, version string) string {
			t.Helper()
			in := &obs.GetObjectMetadataInput{Bucket: bucket, Key: "k", VersionId: version}
			h, err := c.GetObjectMetadata(in)
			if err != nil {
				t.Fatal(err)
			}
			g := get(t, c, bucket, "k", nil, []byte("data"))
			// The SDK strips x-obs- (or x-amz-) from the names it keeps.
			hs, gs := header(&h.BaseModel, "replication-status"), header(&g.BaseModel, "replication-status")
			if hs != gs {
				if hs == "PENDING" || gs == "PENDING" {
					return "PENDING" // replicated between the two requests
				}
				t.Fatalf("HEAD says %q, GET %q", hs, gs)
			}
			return hs
		}
		deadline := time.Now().Add(10 * time.Second)
		for status(src, "") != "COMPLETED" {
			if time.Now().After(deadline) {
				t.Fatalf("source x-obs-replication-status %q, want COMPLETED", status(src, ""))
			}
			time.Sleep(20 * time.Millisecond)
		}
		if s := status(dst, out.VersionId); s != "REPLICA" {
			t.Fatalf("replica x-obs-replication-status %q, want REPLICA", s)
		}
	})
}
