package hostile

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestHostileReplicationStatus: the replication status is the server's,
// never the client's. A writer sending x-amz-replication-status (REPLICA, to
// dodge replication or pass a forgery off as a replica; COMPLETED, to hide
// a version from the queue) on PUT, copy or multipart initiation still gets
// a PENDING version that is queued and replicated.
func TestHostileReplicationStatus(t *testing.T) {
	t.Parallel()
	c := &rawNode{n: testnode.Start(t, testnode.Options{Now: time.Now})} // the test runs the jobs
	src, dst := c.bucket(t), c.bucket(t)
	vc := []byte("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>")
	for _, b := range []string{src, dst} {
		c.do(t, http.MethodPut, "/"+b, "versioning", vc, nil).want(t, "versioning", 200, "")
	}
	ctx := context.Background()
	cfg := &replication.Config{Rules: []replication.Rule{{ID: "all", Enabled: true, Destination: replication.Destination{Bucket: dst}}}}
	c.n.SetReplication(t, src, cfg)
	forged := http.Header{}
	for _, v := range []string{"REPLICA", "COMPLETED"} {
		forged.Set("x-amz-replication-status", v)
		forged.Set("x-amz-meta-replication-status", v)
		put := c.do(t, http.MethodPut, "/"+src+"/k-"+v, "", []byte("data"), forged)
		put.want(t, "PUT "+v, 200, "")
		cp := http.Header{"X-Amz-Copy-Source": {"/" + src + "/k-" + v}}
		for k, vs := range forged {
			cp[k] = vs
		}
		c.do(t, http.MethodPut, "/"+src+"/copy-"+v, "", nil, cp).want(t, "copy "+v, 200, "")
		for _, key := range []string{"k-" + v, "copy-" + v} {
			if got := c.do(t, http.MethodHead, "/"+src+"/"+key, "", nil, nil).header.Get("x-amz-replication-status"); got != "PENDING" {
				t.Errorf("%s written with a forged %s: status %q, want PENDING", key, v, got)
			}
		}
	}
	if _, err := c.n.Jobs.RunPass(ctx, "replication"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"k-REPLICA", "copy-REPLICA", "k-COMPLETED", "copy-COMPLETED"} {
		if got := c.do(t, http.MethodHead, "/"+src+"/"+key, "", nil, nil).header.Get("x-amz-replication-status"); got != "COMPLETED" {
			t.Errorf("%s: status %q after the pass, want COMPLETED", key, got)
		}
		if got := c.do(t, http.MethodHead, "/"+dst+"/"+key, "", nil, nil).header.Get("x-amz-replication-status"); got != "REPLICA" {
			t.Errorf("%s: replica status %q, want REPLICA", key, got)
		}
	}
}
