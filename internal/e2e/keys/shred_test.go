package e2ekeys

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/inventory"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// TestCryptoShredding: schedule-deletion takes 7..30 days, is refused for
// the default key and while a version under legal hold depends on the
// key; a pending key neither encrypts nor decrypts (400
// KMS.KMSInvalidStateException, OSS InvalidArgument); cancelling leaves it
// disabled until enabled; at the date (a fake clock) the key-deletion job
// destroys it in the provider, not a day before; afterwards every read
// under it is a clear 400 (never 500) in both dialects, HEAD and objects
// under other keys still work, the key list reports the key destroyed with
// a shred report, the inventory lists the versions as shredded, and the
// audit log has the key events.
func TestCryptoShredding(t *testing.T) {
	e := start(t, startOpts(t.TempDir()))
	ctx := e.ctx
	if _, err := e.node.Keys.CreateKey(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	b, locked, reports := "shred", "locked", "reports"
	for _, bk := range []string{b, reports} {
		if _, err := e.root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bk)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &locked, ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	data := []byte("to be shredded")
	for _, k := range []string{"a", "b"} {
		if err := put(ctx, e.root, b, k, "doomed", data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.root.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("bucket-key"), Body: bytes.NewReader(data),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("doomed"), BucketKeyEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if err := put(ctx, e.root, b, "keep", "", data); err != nil {
		t.Fatal(err)
	}
	held, err := e.root.PutObject(ctx, &s3.PutObjectInput{Bucket: &locked, Key: aws.String("held"), Body: bytes.NewReader(data),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("doomed"), ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	inv := "shreds"
	if _, err := e.root.PutBucketInventoryConfiguration(ctx, &s3.PutBucketInventoryConfigurationInput{Bucket: &b, Id: &inv, InventoryConfiguration: &types.InventoryConfiguration{
		Id: &inv, IsEnabled: aws.Bool(true), IncludedObjectVersions: types.InventoryIncludedObjectVersionsCurrent,
		Schedule:       &types.InventorySchedule{Frequency: types.InventoryFrequencyDaily},
		OptionalFields: []types.InventoryOptionalField{types.InventoryOptionalFieldEncryptionStatus},
		Destination: &types.InventoryDestination{S3BucketDestination: &types.InventoryS3BucketDestination{
			Bucket: aws.String("arn:aws:s3:::" + reports), Format: types.InventoryFormatCsv, Prefix: aws.String("inv")}},
	}}); err != nil {
		t.Fatal(err)
	}

	schedule := func(key, days string) (int, string) {
		return e.admin(t, http.MethodPost, "keys/schedule-deletion", url.Values{"name": {key}, "arg": {days}}, nil)
	}
	for _, c := range []struct{ key, days, why string }{
		{"doomed", "6", "7 to 30"}, {"doomed", "31", "7 to 30"}, {"doomed", "x", "7 to 30"},
		{kms.DefaultKeyName, "7", "default key"}, {"nope", "7", "does not exist"},
		{"doomed", "7", "object lock"}, // the legal hold on locked/held
	} {
		if status, body := schedule(c.key, c.days); status != http.StatusBadRequest || !strings.Contains(body, c.why) {
			t.Errorf("schedule-deletion %s --days %s: %d %q, want 400 saying %q", c.key, c.days, status, body, c.why)
		}
	}
	if _, err := e.root.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: &locked, Key: aws.String("held"), VersionId: held.VersionId,
		LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOff}}); err != nil {
		t.Fatal(err)
	}
	st := e.mustAdmin(t, "schedule-deletion", url.Values{"name": {"doomed"}, "arg": {"7"}})
	if st.State != server.KeyPendingDeletion || st.Dependents[b] != 3 || st.Dependents[locked] != 1 || st.Enabled {
		t.Errorf("schedule-deletion answered %+v", st)
	}
	ro := e.oss(&iam.Credentials{AccessKey: e.node.AccessKey, SecretKey: e.node.SecretKey})
	pendingRefused := func(when string) {
		t.Helper()
		for _, k := range []string{"a", "bucket-key"} {
			_, err := get(ctx, e.root, b, k)
			wantErr(t, when+": GET "+k, err, 400, "KMS.KMSInvalidStateException")
		}
		wantErr(t, when+": PUT", put(ctx, e.root, b, "new", "doomed", data), 400, "KMS.KMSInvalidStateException")
		_, err := ro.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &b, Key: oss2.Ptr("a")})
		wantOSSErr(t, when+": OSS GET", err, 400, "InvalidArgument")
	}
	pendingRefused("pending")

	// Cancelled: disabled (as AWS KMS leaves it) until enabled.
	if st := e.mustAdmin(t, "cancel-deletion", url.Values{"name": {"doomed"}}); st.State != server.KeyDisabled {
		t.Errorf("cancel-deletion answered %+v", st)
	}
	_, err = get(ctx, e.root, b, "a")
	wantErr(t, "GET after cancel", err, 400, "KMS.DisabledException")
	e.mustAdmin(t, "enable", url.Values{"name": {"doomed"}})
	if got, err := get(ctx, e.root, b, "a"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("GET after cancel and enable: %v", err)
	}

	// Scheduled again; enabling is refused meanwhile; the job waits for the date.
	e.mustAdmin(t, "schedule-deletion", url.Values{"name": {"doomed"}, "arg": {"7"}})
	if status, body := e.admin(t, http.MethodPost, "keys/enable", url.Values{"name": {"doomed"}}, nil); status != http.StatusBadRequest || !strings.Contains(body, "pending deletion") {
		t.Errorf("enable while pending: %d %s", status, body)
	}
	e.clock.Add(6*24*time.Hour + 23*time.Hour)
	if _, err := e.node.Jobs.RunPass(ctx, server.KeyDeletionJob); err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.Keys.DescribeKey(ctx, "doomed"); err != nil {
		t.Fatalf("the key is gone before its date: %v", err)
	}
	e.clock.Add(2 * time.Hour)
	if _, err := e.node.Jobs.RunPass(ctx, server.KeyDeletionJob); err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.Keys.DescribeKey(ctx, "doomed"); !errors.Is(err, kms.ErrNotFound) {
		t.Fatalf("DescribeKey after destruction: %v, want ErrNotFound", err)
	}

	for _, k := range []string{"a", "b", "bucket-key"} {
		_, err := get(ctx, e.root, b, k)
		wantErr(t, "GET "+k+" after destruction", err, 400, "KMS.KMSInvalidStateException")
		if err != nil && !strings.Contains(err.Error(), "destroyed") {
			t.Errorf("GET %s: the message does not say the key was destroyed: %v", k, err)
		}
	}
	wantErr(t, "PUT after destruction", put(ctx, e.root, b, "new", "doomed", data), 400, "KMS.KMSInvalidStateException")
	_, err = ro.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &b, Key: oss2.Ptr("a")})
	wantOSSErr(t, "OSS GET after destruction", err, 400, "InvalidArgument")
	if _, err := e.root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("a")}); err != nil {
		t.Errorf("HEAD after destruction: %v", err)
	}
	if got, err := get(ctx, e.root, b, "keep"); err != nil || !bytes.Equal(got, data) {
		t.Errorf("GET under the default key: %v", err)
	}
	k := e.keyList(t)["doomed"]
	if k.State != server.KeyDestroyed || k.Shred == nil || k.Shred.Versions[b] != 3 || k.Shred.Versions[locked] != 1 || len(k.Shred.Sample) != 4 {
		t.Errorf("key list after destruction: %+v (shred %+v)", k, k.Shred)
	}
	if status, _ := schedule("doomed", "7"); status != http.StatusBadRequest {
		t.Error("scheduling a destroyed key again succeeded")
	}
	if status, body := e.admin(t, http.MethodPost, "keys/create", url.Values{"name": {"doomed"}}, nil); status != http.StatusBadRequest || !strings.Contains(body, "destroyed") {
		t.Errorf("creating a key under a destroyed key's name: %d %s", status, body)
	}

	// The inventory lists the shredded versions.
	manifest, err := e.node.Service.RunInventory(ctx, b, inv)
	if err != nil {
		t.Fatal(err)
	}
	_, _, rows, err := e2eutil.InventoryReport(func(key string) ([]byte, error) {
		out, err := e.root.GetObject(ctx, &s3.GetObjectInput{Bucket: &reports, Key: &key})
		if err != nil {
			return nil, err
		}
		defer out.Body.Close()
		return io.ReadAll(out.Body)
	}, manifest)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range rows {
		status[r[1]] = r[len(r)-1]
	}
	for key, want := range map[string]string{"a": inventory.Shredded, "b": inventory.Shredded, "bucket-key": inventory.Shredded, "keep": inventory.SSEKMS} {
		if status[key] != want {
			t.Errorf("inventory EncryptionStatus of %s = %q, want %q", key, status[key], want)
		}
	}

	events := auditLines(t, e.audit)
	for _, want := range []map[string]string{
		{"type": "key", "action": "schedule-deletion 7", "target": "doomed", "outcome": "ok"},
		{"type": "key", "action": "cancel-deletion", "target": "doomed", "outcome": "ok"},
		{"type": "key", "action": "destroy", "target": "doomed", "outcome": "ok"},
		{"type": "access-denied", "action": "kms:decrypt", "target": "doomed", "reason": "KMS.KMSInvalidStateException"},
		{"type": "access-denied", "action": "kms:decrypt", "target": "doomed", "reason": "KMS.DisabledException"}, // after cancel
	} {
		if findAudit(events, want) == nil {
			t.Errorf("no audit line %v", want)
		}
	}
}
