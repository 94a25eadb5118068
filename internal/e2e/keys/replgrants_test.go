package e2ekeys

import (
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestReplicationReplicaKeyNeedsGrant: replication acts for the bucket
// owner under the node's authority, so the owner's right to the replica
// key is checked when the configuration is set: a local rule's
// ReplicaKmsKeyID needs encrypt on it (403 AccessDenied otherwise).
func TestReplicationReplicaKeyNeedsGrant(t *testing.T) {
	e := start(t, startOpts(t.TempDir()))
	if _, err := e.node.Keys.CreateKey(e.ctx, "replica-key"); err != nil {
		t.Fatal(err)
	}
	alice := e.user(t, "alice")
	ac := e.s3(alice)
	for _, b := range []string{"repl-src", "repl-dst"} {
		if _, err := ac.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
		if _, err := ac.PutBucketVersioning(e.ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatal(err)
		}
	}
	in := &s3.PutBucketReplicationInput{Bucket: aws.String("repl-src"), ReplicationConfiguration: &types.ReplicationConfiguration{
		Role: aws.String("arn:aws:iam::1:role/replication"),
		Rules: []types.ReplicationRule{{ID: aws.String("kms"), Status: types.ReplicationRuleStatusEnabled, Priority: aws.Int32(1),
			Filter:                  &types.ReplicationRuleFilter{Prefix: aws.String("")},
			DeleteMarkerReplication: &types.DeleteMarkerReplication{Status: types.DeleteMarkerReplicationStatusDisabled},
			SourceSelectionCriteria: &types.SourceSelectionCriteria{SseKmsEncryptedObjects: &types.SseKmsEncryptedObjects{Status: types.SseKmsEncryptedObjectsStatusEnabled}},
			Destination: &types.Destination{Bucket: aws.String("arn:aws:s3:::repl-dst"),
				EncryptionConfiguration: &types.EncryptionConfiguration{ReplicaKmsKeyID: aws.String("replica-key")}}}},
	}}
	_, err := ac.PutBucketReplication(e.ctx, in)
	wantErr(t, "replication under a replica key alice may not encrypt under", err, 403, "AccessDenied")
	e.mustAdmin(t, "grant", url.Values{"name": {"replica-key"}, "user": {"alice"}, "arg": {"encrypt"}})
	if _, err := ac.PutBucketReplication(e.ctx, in); err != nil {
		t.Fatalf("replication with an encrypt grant: %v", err)
	}
}
