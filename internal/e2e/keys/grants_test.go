package e2ekeys

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestKeyGrants: a user may SSE-KMS only under a key it owns or holds a
// grant for (encrypt for writes: PUT, copy, multipart create, bucket
// default; decrypt for reads: GET, copy source, upload part), and is
// answered 403 AccessDenied otherwise, in the S3 and the OSS dialect;
// root keeps every right; the default key is everyone's; grants survive a
// restart of the node; every refusal is an audit line naming the key,
// the user, the use and the request id.
func TestKeyGrants(t *testing.T) {
	dir := t.TempDir()
	e := start(t, startOpts(dir))
	if _, err := e.node.Keys.CreateKey(e.ctx, "team"); err != nil {
		t.Fatal(err)
	}
	alice := e.user(t, "alice")
	ac := e.s3(alice)
	b := "alices"
	if _, err := ac.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	data := []byte("grant me")
	const denied = "AccessDenied"

	// No grant: every encrypting use is refused; root may.
	wantErr(t, "PUT without a grant", put(e.ctx, ac, b, "k", "team", data), 403, denied)
	wantErr(t, "PUT by ARN without a grant", put(e.ctx, ac, b, "k", "arn:aws:kms:us-east-1:1:alias/team", data), 403, denied)
	_, err := ac.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("team")})
	wantErr(t, "CreateMultipartUpload without a grant", err, 403, denied)
	kmsDefault := &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
		ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("team")}}}}
	_, err = ac.PutBucketEncryption(e.ctx, &s3.PutBucketEncryptionInput{Bucket: &b, ServerSideEncryptionConfiguration: kmsDefault})
	wantErr(t, "bucket default under a key without a grant", err, 403, denied)
	if err := put(e.ctx, ac, b, "default-key", "", data); err != nil {
		t.Errorf("SSE-KMS under the default key: %v", err)
	}
	if err := put(e.ctx, e.root, b, "by-root", "team", data); err != nil {
		t.Fatalf("root PUT: %v", err)
	}
	_, err = get(e.ctx, ac, b, "by-root")
	wantErr(t, "GET without a grant", err, 403, denied)
	if _, err := ac.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("by-root")}); err != nil {
		t.Errorf("HEAD needs no key: %v", err)
	}
	_, err = ac.CopyObject(e.ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy"), CopySource: aws.String(b + "/by-root")})
	wantErr(t, "copy of a source without a grant", err, 403, denied)
	alo := e.oss(alice)
	_, err = alo.PutObject(e.ctx, &oss2.PutObjectRequest{Bucket: &b, Key: oss2.Ptr("oss"), Body: bytes.NewReader(data),
		ServerSideEncryption: oss2.Ptr("KMS"), ServerSideEncryptionKeyId: oss2.Ptr("team")})
	wantOSSErr(t, "OSS PUT without a grant", err, 403, denied)
	_, err = alo.GetObject(e.ctx, &oss2.GetObjectRequest{Bucket: &b, Key: oss2.Ptr("by-root")})
	wantOSSErr(t, "OSS GET without a grant", err, 403, denied)

	// Encrypt only: writes pass, reads do not.
	e.mustAdmin(t, "grant", url.Values{"name": {"alias/team"}, "user": {"alice"}, "arg": {"encrypt"}})
	if err := put(e.ctx, ac, b, "mine", "team", data); err != nil {
		t.Errorf("PUT with an encrypt grant: %v", err)
	}
	_, err = get(e.ctx, ac, b, "mine")
	wantErr(t, "GET with an encrypt-only grant", err, 403, denied)

	// Both: everything passes, the bucket default too.
	st := e.mustAdmin(t, "grant", url.Values{"name": {"team"}, "user": {"alice"}})
	if g := st.Grants["alice"]; !g.Encrypt || !g.Decrypt || st.Owner != "root" {
		t.Errorf("grant answered %+v", st)
	}
	for _, k := range []string{"mine", "by-root"} {
		if got, err := get(e.ctx, ac, b, k); err != nil || !bytes.Equal(got, data) {
			t.Errorf("GET %s with a grant: %v", k, err)
		}
	}
	if _, err := ac.PutBucketEncryption(e.ctx, &s3.PutBucketEncryptionInput{Bucket: &b, ServerSideEncryptionConfiguration: kmsDefault}); err != nil {
		t.Errorf("bucket default with a grant: %v", err)
	}
	if err := put(e.ctx, ac, b, "by-default", "-", data); err != nil {
		t.Errorf("PUT under the bucket default with a grant: %v", err)
	}
	if _, err := alo.PutObject(e.ctx, &oss2.PutObjectRequest{Bucket: &b, Key: oss2.Ptr("oss"), Body: bytes.NewReader(data),
		ServerSideEncryption: oss2.Ptr("KMS"), ServerSideEncryptionKeyId: oss2.Ptr("team")}); err != nil {
		t.Errorf("OSS PUT with a grant: %v", err)
	}
	if status, _ := e.admin(t, http.MethodPost, "keys/grant", url.Values{"name": {"team"}, "user": {"nobody"}}, nil); status == http.StatusOK {
		t.Error("a grant to an unknown user succeeded")
	}

	// The grant survives a restart.
	e.node.Close(e.ctx)
	e = restart(t, e, dir)
	ac, alo = e.s3(alice), e.oss(alice)
	if k := e.keyList(t)["team"]; !k.Grants["alice"].Decrypt || k.State != "Enabled" {
		t.Errorf("key list after restart: %+v", k)
	}
	if got, err := get(e.ctx, ac, b, "mine"); err != nil || !bytes.Equal(got, data) {
		t.Errorf("GET after restart: %v", err)
	}

	// Revoked: the bucket default is checked when used as well.
	e.mustAdmin(t, "revoke", url.Values{"name": {"team"}, "user": {"alice"}})
	wantErr(t, "PUT under the bucket default after revoke", put(e.ctx, ac, b, "after", "-", data), 403, denied)
	_, err = get(e.ctx, ac, b, "mine")
	wantErr(t, "GET after revoke", err, 403, denied)
	_, err = alo.PutObject(e.ctx, &oss2.PutObjectRequest{Bucket: &b, Key: oss2.Ptr("oss2"), Body: bytes.NewReader(data)})
	wantOSSErr(t, "OSS PUT under the bucket default after revoke", err, 403, denied)

	ev := findAudit(auditLines(t, e.audit), map[string]string{"type": "access-denied", "action": "kms:encrypt", "principal": "alice", "target": "team"})
	if ev == nil || ev["request_id"] == "" || ev["reason"] != "no grant" {
		t.Errorf("no audit line for a refused key use: %v", ev)
	}
	for _, want := range []map[string]string{
		{"type": "key", "action": "grant encrypt", "target": "alias/team", "resource": "user/alice", "outcome": "ok"},
		{"type": "key", "action": "revoke", "target": "team", "resource": "user/alice", "outcome": "ok"},
	} {
		if ev := findAudit(auditLines(t, e.audit), want); ev == nil || ev["request_id"] == "" {
			t.Errorf("no audit line %v with a request id: %v", want, ev)
		}
	}
	if raw := readFile(t, e.audit); strings.Contains(raw, "secret") {
		t.Error("the audit log mentions a secret")
	}
}
