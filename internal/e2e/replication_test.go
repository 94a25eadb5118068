package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/remote"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// TestS3Replication sets, reads and deletes replication configurations
// through aws-sdk-go-v2, and checks every refusal's code: versioning on
// either end, a missing destination, an unknown replica KMS key, duplicate
// priorities, versioning suspended under a configuration. A destination
// ARN whose region is a registered remote's name goes to that remote.
func TestS3Replication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mode{name: "http"})
	c := e.root(t)
	ctx := context.Background()
	if _, err := e.node.Keyring.CreateKey(ctx, "replica-key"); err != nil {
		t.Fatal(err)
	}
	if err := e.node.Service.Remotes().Add(ctx, remote.Remote{Name: "eu-far", URL: "http://127.0.0.1:1", AccessKey: "a", SecretKey: "s"}); err != nil {
		t.Fatal(err)
	}
	src := bucketName("repl-src")
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &src}))(t)
	dst := bucketName("repl-dst")
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &dst}))(t)

	rule := func(id string, prio int32, dest string) types.ReplicationRule {
		return types.ReplicationRule{
			ID: aws.String(id), Priority: aws.Int32(prio), Status: types.ReplicationRuleStatusEnabled,
			Filter:                  &types.ReplicationRuleFilter{Prefix: aws.String(id + "/")},
			Destination:             &types.Destination{Bucket: aws.String(dest)},
			DeleteMarkerReplication: &types.DeleteMarkerReplication{Status: types.DeleteMarkerReplicationStatusEnabled},
		}
	}
	put := func(rules ...types.ReplicationRule) error {
		_, err := c.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: &src, ReplicationConfiguration: &types.ReplicationConfiguration{
			Role: aws.String("arn:aws:iam::123456789012:role/replication"), Rules: rules}})
		return err
	}
	versioning := func(b string, s types.BucketVersioningStatus) error {
		_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &b, VersioningConfiguration: &types.VersioningConfiguration{Status: s}})
		return err
	}
	wantMessage := func(err error, status int, code, msg string) {
		t.Helper()
		wantAPIError(t, err, status, code)
		if err != nil && msg != "" && !strings.Contains(err.Error(), msg) {
			t.Errorf("error %v, want the message %q", err, msg)
		}
	}

	_, err := c.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: &src})
	wantAPIError(t, err, http.StatusNotFound, "ReplicationConfigurationNotFoundError")
	wantMessage(put(rule("a", 1, "arn:aws:s3:::"+dst)), http.StatusBadRequest, "InvalidRequest", "Versioning must be 'Enabled' on the bucket to apply a replication configuration")
	if err := versioning(src, types.BucketVersioningStatusEnabled); err != nil {
		t.Fatal(err)
	}
	wantMessage(put(rule("a", 1, "arn:aws:s3:::no-such-bucket-here")), http.StatusBadRequest, "InvalidRequest", "Destination bucket must exist")
	wantMessage(put(rule("a", 1, "arn:aws:s3:::"+dst)), http.StatusBadRequest, "InvalidRequest", "Destination bucket must have versioning enabled")
	if err := versioning(dst, types.BucketVersioningStatusEnabled); err != nil {
		t.Fatal(err)
	}
	wantMessage(put(rule("a", 1, "arn:aws:s3:::"+src)), http.StatusBadRequest, "InvalidRequest", "cannot be the same as the source")
	wantMessage(put(rule("a", 1, "not-an-arn")), http.StatusBadRequest, "InvalidArgument", "")
	wantMessage(put(rule("a", 1, "arn:aws:s3:::"+dst), rule("b", 1, "arn:aws:s3:::"+dst)), http.StatusBadRequest, "InvalidRequest", "duplicate priority 1")
	wantMessage(put(rule("a", 1, "arn:aws:s3:::"+dst), rule("a", 2, "arn:aws:s3:::"+dst)), http.StatusBadRequest, "InvalidArgument", "unique")
	noMarkers := rule("a", 1, "arn:aws:s3:::"+dst)
	noMarkers.DeleteMarkerReplication = nil
	wantMessage(put(noMarkers), http.StatusBadRequest, "InvalidRequest", "DeleteMarkerReplication must be specified")

	kms := rule("kms", 2, "arn:aws:s3:::"+dst)
	kms.SourceSelectionCriteria = &types.SourceSelectionCriteria{SseKmsEncryptedObjects: &types.SseKmsEncryptedObjects{Status: types.SseKmsEncryptedObjectsStatusEnabled}}
	kms.Destination.EncryptionConfiguration = &types.EncryptionConfiguration{ReplicaKmsKeyID: aws.String("no-such-key")}
	wantAPIError(t, put(kms), http.StatusBadRequest, "KMS.NotFoundException")
	kms.Destination.EncryptionConfiguration.ReplicaKmsKeyID = aws.String("replica-key")
	kms.Filter = &types.ReplicationRuleFilter{And: &types.ReplicationRuleAndOperator{Prefix: aws.String("k/"), Tags: []types.Tag{{Key: aws.String("class"), Value: aws.String("secret")}}}}
	kms.DeleteMarkerReplication.Status = types.DeleteMarkerReplicationStatusDisabled
	far := rule("far", 3, "arn:aws:s3:eu-far::bucket-over-there") // no such local bucket: the remote's
	if err := put(rule("a", 1, "arn:aws:s3:::"+dst), kms, far); err != nil {
		t.Fatal(err)
	}

	got := must(c.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: &src}))(t).ReplicationConfiguration
	if aws.ToString(got.Role) != "arn:aws:iam::123456789012:role/replication" || len(got.Rules) != 3 {
		t.Fatalf("GetBucketReplication: role %q, %d rules", aws.ToString(got.Role), len(got.Rules))
	}
	k := got.Rules[1]
	switch {
	case aws.ToString(k.ID) != "kms", aws.ToInt32(k.Priority) != 2, k.Status != types.ReplicationRuleStatusEnabled,
		k.Filter == nil || k.Filter.And == nil || aws.ToString(k.Filter.And.Prefix) != "k/" || len(k.Filter.And.Tags) != 1,
		aws.ToString(k.Destination.Bucket) != "arn:aws:s3:::"+dst,
		k.Destination.EncryptionConfiguration == nil || aws.ToString(k.Destination.EncryptionConfiguration.ReplicaKmsKeyID) != "replica-key",
		k.SourceSelectionCriteria == nil || k.SourceSelectionCriteria.SseKmsEncryptedObjects.Status != types.SseKmsEncryptedObjectsStatusEnabled,
		k.DeleteMarkerReplication == nil || k.DeleteMarkerReplication.Status != types.DeleteMarkerReplicationStatusDisabled:
		t.Fatalf("the SSE-KMS rule read back: %+v", k)
	}
	if d := aws.ToString(got.Rules[2].Destination.Bucket); d != "arn:aws:s3:eu-far::bucket-over-there" {
		t.Fatalf("the remote rule's destination read back as %q", d)
	}
	stored, _, err := e.node.Service.GetBucketReplication(ctx, service.Principal{Root: true}, src)
	if err != nil {
		t.Fatal(err)
	}
	if d := stored.Rule("far").Destination; d.Remote != "eu-far" || d.Bucket != "bucket-over-there" {
		t.Fatalf("the remote rule's destination is %+v, want remote eu-far", d)
	}
	if d := stored.Rule("a").Destination; !d.Local() || d.Bucket != dst {
		t.Fatalf("the local rule's destination is %+v", d)
	}

	wantMessage(versioning(src, types.BucketVersioningStatusSuspended), http.StatusConflict, "InvalidBucketState", "A replication configuration is present on this bucket")
	must(c.DeleteBucketReplication(ctx, &s3.DeleteBucketReplicationInput{Bucket: &src}))(t)
	_, err = c.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: &src})
	wantAPIError(t, err, http.StatusNotFound, "ReplicationConfigurationNotFoundError")
	if err := versioning(src, types.BucketVersioningStatusSuspended); err != nil {
		t.Fatalf("suspending versioning once the configuration is gone: %v", err)
	}

	// Only those allowed s3:PutReplicationConfiguration may set one.
	ak, sk := e.user(t, "repl-nobody")
	other := e.s3Client(t, ak, sk)
	_, err = other.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: &src})
	wantAPIError(t, err, http.StatusForbidden, "AccessDenied")
}
