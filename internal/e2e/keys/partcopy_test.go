package e2ekeys

import (
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestUploadPartCopyChecksUploadKey: UploadPartCopy seals the copied
// bytes under the destination upload's object key, which needs
// kms:Decrypt on the upload's KMS key, as UploadPart does: a user whose
// grant was cut to encrypt only after creating the upload is refused
// (403 AccessDenied) even when the source needs no grant.
func TestUploadPartCopyChecksUploadKey(t *testing.T) {
	e := start(t, startOpts(t.TempDir()))
	if _, err := e.node.Keys.CreateKey(e.ctx, "parts"); err != nil {
		t.Fatal(err)
	}
	alice := e.user(t, "alice")
	ac := e.s3(alice)
	b := "alice-parts"
	if _, err := ac.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	src := make([]byte, 5<<20)
	if err := put(e.ctx, ac, b, "src", "", src); err != nil { // the default key: everyone's
		t.Fatal(err)
	}
	e.mustAdmin(t, "grant", url.Values{"name": {"parts"}, "user": {"alice"}})
	up, err := ac.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("dst"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("parts")})
	if err != nil {
		t.Fatal(err)
	}
	copyPart := func(n int32) error {
		_, err := ac.UploadPartCopy(e.ctx, &s3.UploadPartCopyInput{Bucket: &b, Key: aws.String("dst"), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), CopySource: aws.String(b + "/src")})
		return err
	}
	if err := copyPart(1); err != nil {
		t.Fatalf("UploadPartCopy with a grant: %v", err)
	}
	e.mustAdmin(t, "grant", url.Values{"name": {"parts"}, "user": {"alice"}, "arg": {"encrypt"}})
	wantErr(t, "UploadPartCopy into an upload whose key alice may not decrypt under", copyPart(2), 403, "AccessDenied")
	e.mustAdmin(t, "revoke", url.Values{"name": {"parts"}, "user": {"alice"}})
	wantErr(t, "UploadPartCopy into an upload whose key alice may not use", copyPart(2), 403, "AccessDenied")
	e.mustAdmin(t, "grant", url.Values{"name": {"parts"}, "user": {"alice"}})
	if err := copyPart(2); err != nil {
		t.Fatalf("UploadPartCopy with the grant back: %v", err)
	}
}
