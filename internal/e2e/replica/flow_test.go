package e2ereplica

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// TestReplicationFlow drives the whole path through the API alone: a rule
// set with aws-sdk-go-v2 names the other deployment; writes on the source
// are queued in their own transactions and replicated by the background
// job; both sides report the status. While the destination is unreachable
// the versions stay PENDING; once it is back every one, and the delete
// marker written meanwhile, arrives exactly once.
func TestReplicationFlow(t *testing.T) {
	p := newPair(t)
	ctx := p.ctx
	src, dst := p.bucket(p.src, nil), p.bucket(p.dst, nil)
	_, err := p.sc.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: &src, ReplicationConfiguration: &types.ReplicationConfiguration{
		Role: aws.String("arn:aws:iam::123456789012:role/replication"),
		Rules: []types.ReplicationRule{{
			ID: aws.String("all"), Priority: aws.Int32(1), Status: types.ReplicationRuleStatusEnabled,
			Filter: &types.ReplicationRuleFilter{Prefix: aws.String("")},
			Destination: &types.Destination{Bucket: aws.String("arn:aws:s3:dr::" + dst),
				EncryptionConfiguration: &types.EncryptionConfiguration{ReplicaKmsKeyID: aws.String("replica-key")}},
			SourceSelectionCriteria: &types.SourceSelectionCriteria{SseKmsEncryptedObjects: &types.SseKmsEncryptedObjects{Status: types.SseKmsEncryptedObjectsStatusEnabled}},
			DeleteMarkerReplication: &types.DeleteMarkerReplication{Status: types.DeleteMarkerReplicationStatusEnabled},
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string][]byte{}
	put := func(key string, sse types.ServerSideEncryption, keyID string) string {
		t.Helper()
		body := bytes.Repeat([]byte(key+"-"), 5000)
		in := &s3.PutObjectInput{Bucket: &src, Key: &key, Body: bytes.NewReader(body)}
		if sse != "" {
			in.ServerSideEncryption = sse
		}
		if keyID != "" {
			in.SSEKMSKeyId = &keyID
		}
		out, err := p.sc.PutObject(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		bodies[key] = body
		return aws.ToString(out.VersionId)
	}
	status := func(key string) types.ReplicationStatus {
		h, err := p.sc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &src, Key: &key})
		if err != nil {
			t.Fatalf("HEAD %s: %v", key, err)
		}
		return h.ReplicationStatus
	}
	waitCompleted := func(keys ...string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for _, k := range keys {
			for status(k) != types.ReplicationStatusCompleted {
				if time.Now().After(deadline) {
					t.Fatalf("%s: replication status %q after 60 s", k, status(k))
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	checkReplica := func(key, version string, sse types.ServerSideEncryption, keyID string) {
		t.Helper()
		out, err := p.dc.GetObject(ctx, &s3.GetObjectInput{Bucket: &dst, Key: &key})
		if err != nil {
			t.Fatalf("GET %s at the destination: %v", key, err)
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		switch {
		case err != nil || !bytes.Equal(got, bodies[key]):
			t.Errorf("%s: the replica's bytes differ (%v)", key, err)
		case aws.ToString(out.VersionId) != version:
			t.Errorf("%s: replica version %q, source %q", key, aws.ToString(out.VersionId), version)
		case out.ReplicationStatus != types.ReplicationStatusReplica:
			t.Errorf("%s: replica status %q", key, out.ReplicationStatus)
		case out.ServerSideEncryption != sse:
			t.Errorf("%s: replica encryption %q, want %q", key, out.ServerSideEncryption, sse)
		case keyID != "" && aws.ToString(out.SSEKMSKeyId) != keyID:
			t.Errorf("%s: replica KMS key %q, want %q", key, aws.ToString(out.SSEKMSKeyId), keyID)
		}
	}

	vPlain := put("plain", "", "")
	vS3 := put("managed", types.ServerSideEncryptionAes256, "")
	vKMS := put("kms", types.ServerSideEncryptionAwsKms, "key-1")
	waitCompleted("plain", "managed", "kms")
	checkReplica("plain", vPlain, "", "")
	checkReplica("managed", vS3, types.ServerSideEncryptionAes256, "")
	checkReplica("kms", vKMS, types.ServerSideEncryptionAwsKms, "replica-key")

	// The destination goes away: writes queue up, PENDING.
	p.wire.setDown(true)
	var outage []string
	versions := map[string]string{}
	for i := range 5 {
		k := fmt.Sprintf("during-outage-%d", i)
		versions[k] = put(k, "", "")
		outage = append(outage, k)
	}
	if _, err := p.sc.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &src, Key: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	for _, k := range outage {
		if s := status(k); s != types.ReplicationStatusPending {
			t.Fatalf("%s during the outage: status %q, want PENDING", k, s)
		}
	}
	p.wire.setDown(false)
	waitCompleted(outage...)
	for _, k := range outage {
		checkReplica(k, versions[k], "", "")
	}
	// The delete marker followed (it is not a version the HEAD above
	// waits on): wait for the destination to hide "plain".
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := p.dc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &dst, Key: aws.String("plain")})
		var ae smithy.APIError
		if errors.As(err, &ae) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delete marker did not reach the destination: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Each version arrived exactly once.
	lv, err := p.dc.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &dst})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, v := range lv.Versions {
		count[aws.ToString(v.Key)]++
	}
	for k := range bodies {
		if count[k] != 1 {
			t.Errorf("%s: %d versions at the destination, want 1", k, count[k])
		}
	}
	if len(lv.DeleteMarkers) != 1 || aws.ToString(lv.DeleteMarkers[0].Key) != "plain" {
		t.Errorf("delete markers at the destination: %+v", lv.DeleteMarkers)
	}
}
