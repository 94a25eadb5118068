package e2ecos

import (
	"net/http"
	"testing"
	"time"

	"github.com/tencentyun/cos-go-sdk-v5"

	"github.com/strongroom-dev/strongroom/internal/replication"
)

// TestReplicationStatusHeader: COS reports a version's replication state
// as x-cos-replication-status: COMPLETED on the source once the node's
// replication job (woken by the write) has run, REPLICA on the replica.
func TestReplicationStatusHeader(t *testing.T) {
	e := newEnv(t)
	src, sc := e.bucket("replsrc")
	dst, dc := e.bucket("repldst")
	for _, c := range []*cos.Client{sc, dc} {
		if _, err := c.Bucket.PutVersioning(e.ctx, &cos.BucketPutVersionOptions{Status: "Enabled"}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := &replication.Config{Rules: []replication.Rule{{ID: "all", Enabled: true, Destination: replication.Destination{Bucket: dst}}}}
	e.node.SetReplication(t, src, cfg)
	resp := e.put(sc, "k", []byte("data"), nil)
	vid := resp.Header.Get("x-cos-version-id")
	var h http.Header
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r, err := sc.Object.Head(e.ctx, "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		h = r.Header
		if h.Get("x-cos-replication-status") == "COMPLETED" || time.Now().After(deadline) {
			break
		}
	}
	if got := h.Get("x-cos-replication-status"); got != "COMPLETED" {
		t.Fatalf("source x-cos-replication-status %q, want COMPLETED", got)
	}
	if got := h.Get("x-amz-replication-status"); got != "" {
		t.Fatalf("the COS dialect also sent x-amz-replication-status %q", got)
	}
	r, err := dc.Object.Head(e.ctx, "k", nil, vid)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("x-cos-replication-status"); got != "REPLICA" {
		t.Fatalf("replica x-cos-replication-status %q, want REPLICA", got)
	}
}
