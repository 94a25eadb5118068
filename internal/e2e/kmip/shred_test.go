package e2ekmip

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// TestKMIPShred: a key scheduled for deletion is revoked and destroyed on
// the KMIP server by the key-deletion job once its date has come; objects
// under it then answer 400 KMS.KMSInvalidStateException, objects under
// other keys still read.
func TestKMIPShred(t *testing.T) {
	e := newEnv(t)
	b := e.bucket(t, "kmip-shred")
	if _, err := e.node.Keys.CreateKey(e.ctx, "kmip-doomed"); err != nil {
		t.Fatal(err)
	}
	data := body(4 << 10)
	for key, id := range map[string]string{"doomed": "kmip-doomed", "kept": ""} {
		in := &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(data), ServerSideEncryption: types.ServerSideEncryptionAwsKms}
		if id != "" {
			in.SSEKMSKeyId = aws.String(id)
		}
		if _, err := e.c.PutObject(e.ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	m := e.node.Meta()
	if _, err := server.KeyPolicyOp(e.ctx, e.node.Keys, m, "schedule-deletion", "kmip-doomed", "", "7", time.Now()); err != nil {
		t.Fatal(err)
	}
	// The date has come.
	if _, err := m.(meta.KeyPolicies).UpdateKeyPolicy(e.ctx, "kmip-doomed", func(p *meta.KeyPolicy) error {
		p.DeletionDate = time.Now().Add(-time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.Jobs.RunPass(e.ctx, server.KeyDeletionJob); err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.Keys.DescribeKey(e.ctx, "kmip-doomed"); !errors.Is(err, kms.ErrNotFound) {
		t.Fatalf("the key on the KMIP server after destruction: %v", err)
	}
	_, err := e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("doomed")})
	if status, code, _ := apiErr(t, err); status != http.StatusBadRequest || code != "KMS.KMSInvalidStateException" {
		t.Errorf("GET under the destroyed key: %d %s", status, code)
	}
	if got, _ := e.get(t, b, "kept"); !bytes.Equal(got, data) {
		t.Error("an object under another key does not read back")
	}
}
