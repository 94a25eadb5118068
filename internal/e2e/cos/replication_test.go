package e2ecos

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tencentyun/cos-go-sdk-v5"

	"github.com/strongroom-dev/strongroom/internal/remote"
)

// TestCOSReplication sets, reads and deletes a replication configuration
// through cos-go-sdk-v5: COS's destination qcs::cos:<region>::<bucket>
// (a region that is a registered remote's name selects that remote), the
// rule-level Prefix, DeleteMarkerReplication; versioning required at both
// ends with S3's errors; a missing configuration is a 404.
func TestCOSReplication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.node.Service.Remotes().Add(e.ctx, remote.Remote{Name: "ap-far", URL: "http://127.0.0.1:1", AccessKey: "a", SecretKey: "s"}); err != nil {
		t.Fatal(err)
	}
	_, c := e.bucket("crepl-src")
	dst, dc := e.bucket("crepl-dst")
	put := func(rules ...cos.BucketReplicationRule) error {
		_, err := c.Bucket.PutBucketReplication(e.ctx, &cos.PutBucketReplicationOptions{Role: "qcs::cam::uin/100000000001:uin/100000000001", Rule: rules})
		return err
	}
	rule := func(id, prefix, dest string) cos.BucketReplicationRule {
		return cos.BucketReplicationRule{ID: id, Status: "Enabled", Prefix: prefix,
			Destination: &cos.ReplicationDestination{Bucket: dest, StorageClass: "STANDARD"}}
	}
	local := "qcs::cos:ap-guangzhou::" + dst
	wantMsg := func(err error, status int, code, msg string) {
		t.Helper()
		if e := wantCOSErr(t, err, status, code); !strings.Contains(e.Message, msg) {
			t.Errorf("%s: message %q, want %q", code, e.Message, msg)
		}
	}

	_, _, err := c.Bucket.GetBucketReplication(e.ctx)
	wantCOSErr(t, err, http.StatusNotFound, "ReplicationConfigurationNotFoundError")
	wantMsg(put(rule("r1", "logs/", local)), http.StatusBadRequest, "InvalidRequest", "Versioning must be 'Enabled'")
	for _, cl := range []*cos.Client{c, dc} {
		if _, err := cl.Bucket.PutVersioning(e.ctx, &cos.BucketPutVersionOptions{Status: "Enabled"}); err != nil {
			t.Fatal(err)
		}
	}
	wantMsg(put(rule("r1", "logs/", "arn-less-"+dst)), http.StatusBadRequest, "InvalidArgument", "qcs::cos:")
	wantMsg(put(rule("r1", "logs/", "qcs::cos:ap-guangzhou::gone-1250000000")), http.StatusBadRequest, "InvalidRequest", "Destination bucket must exist")

	noMarkers := rule("r2", "tmp/", "qcs::cos:ap-far::remote-bucket-1250000000")
	noMarkers.DeleteMarkerReplication = &cos.DeleteMarkerReplication{Status: "Disabled"}
	if err := put(rule("r1", "logs/", local), noMarkers); err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Bucket.GetBucketReplication(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != "qcs::cam::uin/100000000001:uin/100000000001" || len(got.Rule) != 2 {
		t.Fatalf("read back: %+v", got)
	}
	r1, r2 := got.Rule[0], got.Rule[1]
	if r1.ID != "r1" || r1.Status != "Enabled" || r1.Prefix != "logs/" || r1.Destination.Bucket != local || r1.Destination.StorageClass != "STANDARD" ||
		r1.DeleteMarkerReplication == nil || r1.DeleteMarkerReplication.Status != "Enabled" {
		t.Fatalf("rule r1 read back: %+v %+v", r1, r1.Destination)
	}
	if r2.Destination.Bucket != "qcs::cos:ap-far::remote-bucket-1250000000" || r2.DeleteMarkerReplication == nil || r2.DeleteMarkerReplication.Status != "Disabled" {
		t.Fatalf("rule r2 read back: %+v %+v", r2, r2.Destination)
	}

	_, err = c.Bucket.PutVersioning(e.ctx, &cos.BucketPutVersionOptions{Status: "Suspended"})
	wantCOSErr(t, err, http.StatusConflict, "InvalidBucketState")
	resp, err := c.Bucket.DeleteBucketReplication(e.ctx)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DeleteBucketReplication: %v", err)
	}
	_, _, err = c.Bucket.GetBucketReplication(e.ctx)
	wantCOSErr(t, err, http.StatusNotFound, "ReplicationConfigurationNotFoundError")
}
