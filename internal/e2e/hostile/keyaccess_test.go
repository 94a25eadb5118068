package hostile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestKeyUseWithoutGrant: a user without a grant on a KMS key cannot get
// it used for him by any route: another spelling of the key id (alias/,
// key ARN, alias ARN), the bucket default someone with a grant set on a
// bucket he may write to, a copy out of an object under the key, or the
// OBS and COS header spellings. Each is 403 AccessDenied; the grantee
// still writes and reads.
func TestKeyUseWithoutGrant(t *testing.T) {
	t.Parallel()
	n := testnode.Start(t, testnode.Options{Dialects: []string{"cos", "obs"}})
	ctx := context.Background()
	if _, err := n.Keys.CreateKey(ctx, "vault"); err != nil {
		t.Fatal(err)
	}
	alice, err := n.IAM.CreateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := n.IAM.CreateUser(ctx, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	n.GrantKey(t, "vault", "alice")
	ap := service.Principal{User: "alice"}
	if _, err := n.Service.CreateBucket(ctx, ap, "shared", "", ""); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::strongroom:user/mallory"]},` +
		`"Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::shared/*"}]}`
	if err := n.Service.PutBucketPolicy(ctx, ap, "shared", []byte(policy)); err != nil {
		t.Fatal(err)
	}
	do := func(base, method, key, ak, sk string, h map[string]string) authReply {
		r, _ := http.NewRequest(method, base+"/shared/"+key, strings.NewReader("data"))
		body := "data"
		if method != http.MethodPut {
			r.Body, body = http.NoBody, ""
		}
		for k, v := range h {
			r.Header.Set(k, v)
		}
		sum := sha256.Sum256([]byte(body))
		auth.SignV4(r, ak, sk, "us-east-1", time.Now(), hex.EncodeToString(sum[:]))
		return send(t, n, r)
	}
	kmsHeaders := func(id string) map[string]string {
		return map[string]string{"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": id}
	}
	do(n.URL, http.MethodPut, "alices", alice.AccessKey, alice.SecretKey, kmsHeaders("vault")).want(t, "grantee PUT", 200, "")
	for _, id := range []string{"vault", "alias/vault", "arn:aws:kms:us-east-1:123:key/vault", "arn:aws:kms:us-east-1:123:alias/vault"} {
		do(n.URL, http.MethodPut, "m", mallory.AccessKey, mallory.SecretKey, kmsHeaders(id)).want(t, "PUT naming "+id, 403, "AccessDenied")
	}
	do(n.URL, http.MethodGet, "alices", mallory.AccessKey, mallory.SecretKey, nil).want(t, "GET under the key", 403, "AccessDenied")
	do(n.URL, http.MethodPut, "copy", mallory.AccessKey, mallory.SecretKey, map[string]string{"x-amz-copy-source": "/shared/alices"}).
		want(t, "copy out of an object under the key", 403, "AccessDenied")
	do(n.DialectURL["obs"], http.MethodPut, "m", mallory.AccessKey, mallory.SecretKey,
		map[string]string{"x-obs-server-side-encryption": "kms", "x-obs-server-side-encryption-kms-key-id": "vault"}).want(t, "OBS headers", 403, "AccessDenied")
	do(n.DialectURL["cos"], http.MethodPut, "m", mallory.AccessKey, mallory.SecretKey,
		map[string]string{"x-cos-server-side-encryption": "cos/kms", "x-cos-server-side-encryption-cos-kms-key-id": "vault"}).want(t, "COS headers", 403, "AccessDenied")

	do(n.DialectURL["obs"], http.MethodPut, "a-obs", alice.AccessKey, alice.SecretKey,
		map[string]string{"x-obs-server-side-encryption": "kms", "x-obs-server-side-encryption-kms-key-id": "vault"}).want(t, "grantee OBS headers", 200, "")
	do(n.DialectURL["cos"], http.MethodPut, "a-cos", alice.AccessKey, alice.SecretKey,
		map[string]string{"x-cos-server-side-encryption": "cos/kms", "x-cos-server-side-encryption-cos-kms-key-id": "vault"}).want(t, "grantee COS headers", 200, "")

	// The bucket default alice may set is not mallory's to use.
	if err := n.Service.PutBucketEncryption(ctx, ap, "shared", &sse.Config{Mode: sse.KMS, KeyID: "vault", BucketKey: true}); err != nil {
		t.Fatal(err)
	}
	do(n.URL, http.MethodPut, "m", mallory.AccessKey, mallory.SecretKey, nil).want(t, "PUT under alice's bucket default", 403, "AccessDenied")
	do(n.URL, http.MethodPut, "alices2", alice.AccessKey, alice.SecretKey, nil).want(t, "grantee PUT under the default", 200, "")
	do(n.URL, http.MethodGet, "alices2", alice.AccessKey, alice.SecretKey, nil).want(t, "grantee GET", 200, "")
}
