package e2eoss

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/strongroom-dev/strongroom/internal/remote"
)

// TestReplicationOSS drives OSS's replication API through the v2 SDK in
// both signature versions: PutBucketReplication adds a rule (its ID in
// x-oss-replication-rule-id), GetBucketReplication reads OSS's elements
// back (PrefixSet, Action, Destination Bucket+Location, rule-level
// EncryptionConfiguration, SourceSelectionCriteria), Location and Progress
// answer, DeleteBucketReplication removes one rule by ID; OSS's versioning
// rule (the same state at both ends) and its error codes.
func TestReplicationOSS(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	if _, err := n.Keyring.CreateKey(ctx, "oss-replica-key"); err != nil {
		t.Fatal(err)
	}
	if err := n.Service.Remotes().Add(ctx, remote.Remote{Name: "oss-far", URL: "http://127.0.0.1:1", AccessKey: "a", SecretKey: "s"}); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []oss2.SignatureVersionType{oss2.SignatureVersionV1, oss2.SignatureVersionV4} {
		c := newV2(t, n, n.AccessKey, n.SecretKey, sig)
		t.Run(c.name(), func(t *testing.T) {
			src, dst := bucketName("orepl-src"), bucketName("orepl-dst")
			must(t, c.createBucket(src, sseOpt{}))
			must(t, c.createBucket(dst, sseOpt{}))
			add := func(r oss2.ReplicationRule) (*oss2.PutBucketReplicationResult, error) {
				return c.c.PutBucketReplication(c.ctx, &oss2.PutBucketReplicationRequest{Bucket: &src,
					ReplicationConfiguration: &oss2.ReplicationConfiguration{Rules: []oss2.ReplicationRule{r}}})
			}
			_, err := c.c.GetBucketReplication(c.ctx, &oss2.GetBucketReplicationRequest{Bucket: &src})
			wantErr(t, err, 404, "NoSuchReplicationConfiguration")

			_, err = add(oss2.ReplicationRule{Destination: &oss2.ReplicationDestination{Bucket: oss2.Ptr("no-such-dst-bucket"), Location: oss2.Ptr("oss-cn-hangzhou")}})
			if e := wantErr(t, err, 400, "InvalidRequest"); !strings.Contains(e.Message, "Destination bucket must exist") {
				t.Errorf("missing destination: %q", e.Message)
			}
			kmsRule := oss2.ReplicationRule{
				ID:                      oss2.Ptr("kms-rule"),
				PrefixSet:               &oss2.ReplicationPrefixSet{Prefixs: []string{"img/", "video/"}},
				Action:                  oss2.Ptr("PUT"),
				Destination:             &oss2.ReplicationDestination{Bucket: &dst, Location: oss2.Ptr("oss-cn-hangzhou")},
				SourceSelectionCriteria: &oss2.ReplicationSourceSelectionCriteria{SseKmsEncryptedObjects: &oss2.SseKmsEncryptedObjects{Status: oss2.StatusEnabled}},
				EncryptionConfiguration: &oss2.ReplicationEncryptionConfiguration{ReplicaKmsKeyID: oss2.Ptr("no-such-key")},
			}
			_, err = add(kmsRule)
			wantErr(t, err, 400, "InvalidArgument") // OSS's code for an unknown KMS key
			kmsRule.EncryptionConfiguration.ReplicaKmsKeyID = oss2.Ptr("oss-replica-key")
			_, err = add(oss2.ReplicationRule{Destination: &oss2.ReplicationDestination{Bucket: &dst}, HistoricalObjectReplication: oss2.HistoricalObjectReplicationEnabled})
			wantErr(t, err, 501, "NotImplemented")

			// Both unversioned: OSS replicates between them.
			res, err := add(kmsRule)
			must(t, err)
			if id := oss2.ToString(res.ReplicationRuleId); id != "kms-rule" {
				t.Fatalf("x-oss-replication-rule-id = %q", id)
			}
			res, err = add(oss2.ReplicationRule{Destination: &oss2.ReplicationDestination{Bucket: oss2.Ptr("far-bucket"), Location: oss2.Ptr("oss-far")}})
			must(t, err)
			farID := oss2.ToString(res.ReplicationRuleId)
			if farID == "" {
				t.Fatal("no rule ID answered for a rule sent without one")
			}
			_, err = add(oss2.ReplicationRule{Destination: &oss2.ReplicationDestination{Bucket: oss2.Ptr("far-bucket"), Location: oss2.Ptr("oss-far")}})
			wantErr(t, err, 400, "BucketReplicationAlreadyExist")
			got, err := c.c.GetBucketReplication(c.ctx, &oss2.GetBucketReplicationRequest{Bucket: &src})
			must(t, err)
			rs := got.ReplicationConfiguration.Rules
			if len(rs) != 2 {
				t.Fatalf("%d rules read back", len(rs))
			}
			k := rs[0]
			switch {
			case oss2.ToString(k.ID) != "kms-rule", k.PrefixSet == nil || strings.Join(k.PrefixSet.Prefixs, ",") != "img/,video/",
				oss2.ToString(k.Action) != "PUT", oss2.ToString(k.Destination.Bucket) != dst, oss2.ToString(k.Destination.Location) != "oss-cn-hangzhou",
				k.EncryptionConfiguration == nil || oss2.ToString(k.EncryptionConfiguration.ReplicaKmsKeyID) != "oss-replica-key",
				k.SourceSelectionCriteria == nil || k.SourceSelectionCriteria.SseKmsEncryptedObjects.Status != oss2.StatusEnabled,
				oss2.ToString(k.Status) != "doing":
				t.Fatalf("rule read back: %+v", k)
			}
			if f := rs[1]; oss2.ToString(f.ID) != farID || oss2.ToString(f.Destination.Location) != "oss-far" || oss2.ToString(f.Action) != "ALL" {
				t.Fatalf("remote rule read back: %+v", f)
			}

			loc, err := c.c.GetBucketReplicationLocation(c.ctx, &oss2.GetBucketReplicationLocationRequest{Bucket: &src})
			must(t, err)
			if l := strings.Join(loc.ReplicationLocation.Locations, ","); !strings.Contains(l, "oss-far") {
				t.Fatalf("replication locations %q do not name the remote", l)
			}
			prog, err := c.c.GetBucketReplicationProgress(c.ctx, &oss2.GetBucketReplicationProgressRequest{Bucket: &src, RuleId: oss2.Ptr("kms-rule")})
			must(t, err)
			if p := prog.ReplicationProgress.Rules; len(p) != 1 || oss2.ToString(p[0].ID) != "kms-rule" || oss2.ToString(p[0].Destination.Bucket) != dst {
				t.Fatalf("progress: %+v", p)
			}
			// Nothing queued: every new object so far is replicated.
			if pr := prog.ReplicationProgress.Rules[0].Progress; pr == nil {
				t.Fatal("progress: no Progress element")
			} else if at, err := http.ParseTime(oss2.ToString(pr.NewObject)); err != nil || time.Since(at) > time.Minute || time.Until(at) > time.Minute {
				t.Fatalf("progress NewObject %q (%v), want about now", oss2.ToString(pr.NewObject), err)
			}
			_, err = c.c.GetBucketReplicationProgress(c.ctx, &oss2.GetBucketReplicationProgressRequest{Bucket: &src, RuleId: oss2.Ptr("nope")})
			wantErr(t, err, 404, "NoSuchReplicationRule")

			// Deleting by ID: an unknown one is refused, the rest stays.
			del := func(id string) error {
				_, err := c.c.DeleteBucketReplication(c.ctx, &oss2.DeleteBucketReplicationRequest{Bucket: &src, ReplicationRules: &oss2.ReplicationRules{IDs: []string{id}}})
				return err
			}
			wantErr(t, del("nope"), 404, "NoSuchReplicationRule")
			must(t, del("kms-rule"))
			got, err = c.c.GetBucketReplication(c.ctx, &oss2.GetBucketReplicationRequest{Bucket: &src})
			must(t, err)
			if rs := got.ReplicationConfiguration.Rules; len(rs) != 1 || oss2.ToString(rs[0].ID) != farID {
				t.Fatalf("after deleting kms-rule: %+v", rs)
			}
			must(t, del(farID))
			_, err = c.c.GetBucketReplication(c.ctx, &oss2.GetBucketReplicationRequest{Bucket: &src})
			wantErr(t, err, 404, "NoSuchReplicationConfiguration")

			// Versioned source, unversioned destination: refused.
			_, err = c.c.PutBucketVersioning(c.ctx, &oss2.PutBucketVersioningRequest{Bucket: &src, VersioningConfiguration: &oss2.VersioningConfiguration{Status: oss2.VersionEnabled}})
			must(t, err)
			_, err = add(oss2.ReplicationRule{Destination: &oss2.ReplicationDestination{Bucket: &dst}})
			if e := wantErr(t, err, 400, "InvalidRequest"); !strings.Contains(e.Message, "versioning state") {
				t.Errorf("versioning mismatch: %q", e.Message)
			}
			_, err = c.c.PutBucketVersioning(c.ctx, &oss2.PutBucketVersioningRequest{Bucket: &dst, VersioningConfiguration: &oss2.VersioningConfiguration{Status: oss2.VersionEnabled}})
			must(t, err)
			_, err = add(oss2.ReplicationRule{Destination: &oss2.ReplicationDestination{Bucket: &dst}})
			must(t, err)
			_, err = c.c.PutBucketVersioning(c.ctx, &oss2.PutBucketVersioningRequest{Bucket: &src, VersioningConfiguration: &oss2.VersioningConfiguration{Status: oss2.VersionSuspended}})
			wantErr(t, err, 409, "InvalidBucketState")
		})
	}
}
