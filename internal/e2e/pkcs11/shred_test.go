//go:build cgo

package e2epkcs11

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// TestHSMShred: a key scheduled for deletion has its objects destroyed in
// the token (C_DestroyObject) by the key-deletion job once its date has
// come, bucket-key objects included; objects under it then answer 400
// KMS.KMSInvalidStateException, objects under other keys still read.
func TestHSMShred(t *testing.T) {
	e := newEnv(t)
	b := e.bucket("hsm-shred")
	if _, err := e.node.Keys.CreateKey(e.ctx, "hsm-doomed"); err != nil {
		t.Fatal(err)
	}
	data := random(t, 4*KiB)
	for key, id := range map[string]string{"doomed": "hsm-doomed", "doomed-bk": "hsm-doomed", "kept": ""} {
		in := &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(data),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, BucketKeyEnabled: aws.Bool(key == "doomed-bk")}
		if id != "" {
			in.SSEKMSKeyId = aws.String(id)
		}
		if _, err := e.c.PutObject(e.ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	m := e.node.Meta()
	if _, err := server.KeyPolicyOp(e.ctx, e.node.Keys, m, "schedule-deletion", "hsm-doomed", "", "30", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.(meta.KeyPolicies).UpdateKeyPolicy(e.ctx, "hsm-doomed", func(p *meta.KeyPolicy) error {
		p.DeletionDate = time.Now().Add(-time.Minute) // the date has come
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.Jobs.RunPass(e.ctx, server.KeyDeletionJob); err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.Keys.DescribeKey(e.ctx, "hsm-doomed"); !errors.Is(err, kms.ErrNotFound) {
		t.Fatalf("the key in the token after destruction: %v", err)
	}
	for _, k := range []string{"doomed", "doomed-bk"} {
		_, _, err := e.get(b, k)
		var ae smithy.APIError
		if status(err) != http.StatusBadRequest || !errors.As(err, &ae) || ae.ErrorCode() != "KMS.KMSInvalidStateException" {
			t.Errorf("GET %s under the destroyed key: %v", k, err)
		}
	}
	e.mustGet(b, "kept", data)
}
