package e2ekeys

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestKeyRetire: `key retire` refuses while an object version (locked or
// not, through its object key or its bucket key) or a multipart upload in
// progress still needs the version, and refuses the newest version; after
// a rewrap and the upload's abort it destroys the version, every object
// still reads back through aws-sdk-go-v2, and each retired version is an
// audit line. An object that somehow still needs a retired version
// answers 400 KMS.KMSInvalidStateException, as a shredded key does.
func TestKeyRetire(t *testing.T) {
	e := &env{ctx: context.Background(), audit: filepath.Join(t.TempDir(), "audit.log")}
	e.node = testnode.Start(t, testnode.Options{TLS: true, AuditLog: e.audit}) // background jobs run the rewrap
	e.root = e.s3(&iam.Credentials{AccessKey: e.node.AccessKey, SecretKey: e.node.SecretKey})
	if _, err := e.node.Keyring.CreateKey(e.ctx, "aging"); err != nil {
		t.Fatal(err)
	}
	b, locked := "retire", "retire-locked"
	if _, err := e.root.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.root.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: &locked, ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	data := map[string][]byte{"plain-kms": []byte("one"), "bucket-key": []byte("two")}
	if err := put(e.ctx, e.root, b, "plain-kms", "aging", data["plain-kms"]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.root.PutObject(e.ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("bucket-key"), Body: bytes.NewReader(data["bucket-key"]),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("aging"), BucketKeyEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.root.PutObject(e.ctx, &s3.PutObjectInput{Bucket: &locked, Key: aws.String("held"), Body: strings.NewReader("held"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("aging"),
		ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	up, err := e.root.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("pending"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("aging")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.Keyring.RotateKey(e.ctx, "aging"); err != nil {
		t.Fatal(err)
	}
	retire := func(q url.Values) (int, string) {
		q.Set("name", "aging")
		return e.admin(t, http.MethodPost, "keys/retire", q, nil)
	}
	if st, body := retire(url.Values{"version": {"1"}}); st != http.StatusConflict || !strings.Contains(body, "3 object version(s) (1 under object lock") || !strings.Contains(body, "1 multipart upload(s)") {
		t.Fatalf("retire while objects and an upload need version 1: %d %s", st, body)
	}
	if st, body := retire(url.Values{"version": {"2"}}); st != http.StatusBadRequest || !strings.Contains(body, "newest") {
		t.Fatalf("retire of the newest version: %d %s", st, body)
	}
	if st := e2eutil.StartKeyJob(t, e.node, "rewrap", url.Values{"name": {"aging"}})(); st.Counts["rewrapped"] != 3 || st.LastError != "" {
		t.Fatalf("rewrap: %+v", st)
	}
	if st, body := retire(url.Values{"below": {"2"}}); st != http.StatusConflict || !strings.Contains(body, "0 object version(s)") || !strings.Contains(body, "1 multipart upload(s)") {
		t.Fatalf("retire while the upload needs version 1: %d %s", st, body)
	}
	if _, err := e.root.AbortMultipartUpload(e.ctx, &s3.AbortMultipartUploadInput{Bucket: &b, Key: aws.String("pending"), UploadId: up.UploadId}); err != nil {
		t.Fatal(err)
	}
	var res server.KeyRetireResult
	if st, body := e.admin(t, http.MethodPost, "keys/retire", url.Values{"name": {"alias/aging"}, "below": {"2"}}, &res); st != http.StatusOK || len(res.Retired) != 1 || res.Retired[0] != 1 {
		t.Fatalf("retire after the rewrap: %d %s", st, body)
	}
	if info, err := e.node.Keyring.DescribeKey(e.ctx, "aging"); err != nil || len(info.Retired) != 1 {
		t.Fatalf("key after the retire: %+v, %v", info, err)
	}
	for k, want := range data {
		if got, err := get(e.ctx, e.root, b, k); err != nil || !bytes.Equal(got, want) {
			t.Errorf("GET %s after the retire: %q, %v", k, got, err)
		}
	}
	if got, err := get(e.ctx, e.root, locked, "held"); err != nil || string(got) != "held" {
		t.Errorf("GET of the locked version after the retire: %q, %v", got, err)
	}
	if ev := findAudit(auditLines(t, e.audit), map[string]string{"type": "key", "action": "retire version 1", "target": "aging", "outcome": "ok"}); ev == nil {
		t.Error("no audit line for the retired version")
	}

	// Version 2 retired behind the check's back (an old backup restored,
	// say): the object under it answers the shredded-key error, not 500.
	if err := put(e.ctx, e.root, b, "late", "aging", []byte("late")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.Keyring.RotateKey(e.ctx, "aging"); err != nil {
		t.Fatal(err)
	}
	if err := e.node.Keyring.RetireKeyVersion(e.ctx, "aging", 2); err != nil {
		t.Fatal(err)
	}
	_, err = get(e.ctx, e.root, b, "late")
	wantErr(t, "GET under a retired version", err, 400, "KMS.KMSInvalidStateException")
}
