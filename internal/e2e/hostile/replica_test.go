package hostile

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/remote"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestReplicaEndpointRefusals: the replica transfer endpoint
// (PUT /BUCKET/KEY?x-strongroom-replica) installs only what a credential
// allowed to write the bucket sent with every payload chunk signed.
// Anonymous requests, payloads signed by hash instead of chunk by chunk,
// a credential without write permission and a wrong secret are refused,
// the last two as permanent replication failures.
func TestReplicaEndpointRefusals(t *testing.T) {
	ctx := context.Background()
	root := service.Principal{Root: true}
	dst := &rawNode{n: testnode.Start(t, testnode.Options{})}
	bucket := dst.bucket(t)
	dst.do(t, http.MethodPut, "/"+bucket, "versioning", []byte(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`), nil).want(t, "versioning", 200, "")
	stranger, err := dst.n.IAM.CreateUser(ctx, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	writer, err := dst.n.IAM.CreateUser(ctx, "writer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.n.IAM.SetPolicies(ctx, "writer", []string{"writeonly"}); err != nil { // s3:PutObject only
		t.Fatal(err)
	}
	src := testnode.Start(t, testnode.Options{})
	for _, r := range []remote.Remote{
		{Name: "as-writer", URL: dst.n.URL, AccessKey: writer.AccessKey, SecretKey: writer.SecretKey},
		{Name: "as-stranger", URL: dst.n.URL, AccessKey: stranger.AccessKey, SecretKey: stranger.SecretKey},
		{Name: "wrong-secret", URL: dst.n.URL, AccessKey: dst.n.AccessKey, SecretKey: "not-the-secret"},
	} {
		if err := src.Service.Remotes().Add(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Service.CreateBucket(ctx, root, "src", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := src.Service.PutBucketVersioning(ctx, root, "src", meta.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	obj, err := src.Service.PutObject(ctx, root, service.PutObjectInput{Bucket: "src", Key: "k", Body: service.Body{Reader: strings.NewReader("data"), Size: 4}})
	if err != nil {
		t.Fatal(err)
	}
	rule := &replication.Rule{ID: "r", Enabled: true}
	for _, tc := range []struct{ remote, code string }{
		{"as-stranger", "AccessDenied"},
		{"wrong-secret", "SignatureDoesNotMatch"},
	} {
		target, err := src.Service.ReplicaTarget(ctx, replication.Destination{Bucket: bucket, Remote: tc.remote})
		if err != nil {
			t.Fatal(err)
		}
		_, err = target.PutReplica(ctx, obj, rule)
		if !errors.Is(err, replication.ErrPermanent) || !strings.Contains(err.Error(), tc.code) {
			t.Errorf("%s: %v, want a permanent %s", tc.remote, err, tc.code)
		}
	}

	// s3:PutObject replicates a plain version; a lock and a delete marker
	// need their own permissions, as a PUT or DELETE doing that would.
	if err := src.Service.EnableObjectLock(ctx, root, "src"); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour)
	locked, err := src.Service.PutObject(ctx, root, service.PutObjectInput{Bucket: "src", Key: "locked", Lock: &service.LockRequest{Mode: "GOVERNANCE", Until: &until},
		Body: service.Body{Reader: strings.NewReader("data"), Size: 4}})
	if err != nil {
		t.Fatal(err)
	}
	asWriter, err := src.Service.ReplicaTarget(ctx, replication.Destination{Bucket: bucket, Remote: "as-writer"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asWriter.PutReplica(ctx, obj, rule); err != nil {
		t.Errorf("plain version with s3:PutObject: %v", err)
	}
	if _, err := asWriter.PutReplica(ctx, locked, rule); !errors.Is(err, replication.ErrPermanent) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("locked version with s3:PutObject only: %v, want a permanent AccessDenied", err)
	}
	marker := &meta.Object{Bucket: "src", Key: "locked", VersionID: locked.VersionID, DeleteMarker: true} // an ID the destination lacks
	if err := asWriter.PutDeleteMarker(ctx, marker, rule); !errors.Is(err, replication.ErrPermanent) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("delete marker with s3:PutObject only: %v, want a permanent AccessDenied", err)
	}

	query := service.ReplicaQuery + "&versionId=" + obj.VersionID
	body := []byte("SRR1\x00\x00\x00\x02{}")
	// Signed, but by the payload's hash: the endpoint wants every chunk
	// signed.
	r := dst.do(t, http.MethodPut, "/"+bucket+"/k", query, body, nil)
	r.want(t, "hash-signed transfer", 400, "InvalidRequest")
	if !strings.Contains(r.err.Message, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
		t.Errorf("hash-signed transfer refused for another reason: %s", r.err.Message)
	}
	// Anonymous.
	req, err := http.NewRequest(http.MethodPut, dst.n.URL+"/"+bucket+"/k?"+query, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := dst.n.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous transfer: %d, want 403", resp.StatusCode)
	}
	if _, _, err := dst.n.Service.HeadObject(ctx, root, service.GetObjectInput{Bucket: bucket, Key: "locked"}); err == nil {
		t.Error("a refused transfer installed an object")
	}
}
