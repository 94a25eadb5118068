package e2ecos

import (
	"net/http"
	"testing"

	"github.com/tencentyun/cos-go-sdk-v5"
)

// TestBucketEncryption: PUT / GET / DELETE Bucket encryption for every
// algorithm, with the seed's names and COS's status codes (200 / 200 /
// 204), and NoSuchEncryptionConfiguration (404) when there is none.
func TestBucketEncryption(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey("cos-bucket-key")
	_, c := e.bucket("enc")

	_, _, err := c.Bucket.GetEncryption(e.ctx)
	ce := wantCOSErr(t, err, http.StatusNotFound, "NoSuchEncryptionConfiguration")
	if !cos.IsNotFoundError(err) || ce.Message != "The specified bucket does not have a Encryption configuration" {
		t.Fatalf("error = %+v", ce)
	}

	for _, tc := range []struct {
		name string
		rule cos.BucketEncryptionConfiguration
	}{
		{"AES256 (SSE-COS)", cos.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"}},
		{"SM4 (SSE-COS)", cos.BucketEncryptionConfiguration{SSEAlgorithm: "SM4"}},
		{"KMS, default key", cos.BucketEncryptionConfiguration{SSEAlgorithm: "KMS"}},
		{"KMS with key", cos.BucketEncryptionConfiguration{SSEAlgorithm: "KMS", KMSMasterKeyID: key}},
		{"KMS with key, SM4", cos.BucketEncryptionConfiguration{SSEAlgorithm: "KMS", KMSMasterKeyID: key, KMSAlgorithm: "SM4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rule := tc.rule
			resp, err := c.Bucket.PutEncryption(e.ctx, &cos.BucketPutEncryptionOptions{Rule: &rule})
			if err != nil {
				t.Fatalf("put: %v", err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("put status %d, want 200", resp.StatusCode)
			}
			got, resp, err := c.Bucket.GetEncryption(e.ctx)
			if err != nil {
				t.Fatalf("get: %v", err)
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("x-cos-request-id") == "" {
				t.Fatalf("get status %d, request id %q", resp.StatusCode, resp.Header.Get("x-cos-request-id"))
			}
			if got.Rule == nil || *got.Rule != tc.rule {
				t.Fatalf("get = %+v, want %+v", got.Rule, tc.rule)
			}
		})
	}

	resp, err := c.Bucket.DeleteEncryption(e.ctx)
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete status %d, want 204", resp.StatusCode)
	}
	_, _, err = c.Bucket.GetEncryption(e.ctx)
	wantCOSErr(t, err, http.StatusNotFound, "NoSuchEncryptionConfiguration")
}

// TestBucketEncryptionWire checks the documents byte for byte: the seed's
// response shape (no namespace) and the COS error document.
func TestBucketEncryptionWire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name, c := e.bucket("wire")
	u := e.bucketURL(name, cosDomain).String() + "/?encryption"

	resp, body := e.raw(http.MethodGet, u, nil, nil)
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/xml" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	d := parseError(t, body)
	if d.Code != "NoSuchEncryptionConfiguration" || d.RequestID != resp.Header.Get("x-cos-request-id") || d.TraceID == "" ||
		d.Resource != name+"."+cosDomain+"/" {
		t.Fatalf("error document %s", body)
	}

	if _, err := c.Bucket.PutEncryption(e.ctx, &cos.BucketPutEncryptionOptions{Rule: &cos.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"}}); err != nil {
		t.Fatal(err)
	}
	resp, body = e.raw(http.MethodGet, u, nil, nil)
	const want = `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`
	if resp.StatusCode != http.StatusOK || !hasAll(string(body), want) {
		t.Fatalf("GET ?encryption: %d %s", resp.StatusCode, body)
	}

	// A raw document with the seed's KMS shape.
	doc := []byte(`<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>KMS</SSEAlgorithm><KMSMasterKeyID>` +
		e.kmsKey("wire-key") + `</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`)
	resp, body = e.raw(http.MethodPut, u, doc, http.Header{"Content-Md5": {md5b64(doc)}, "Content-Type": {"application/xml"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT ?encryption: %d %s", resp.StatusCode, body)
	}
	_, body = e.raw(http.MethodGet, u, nil, nil)
	if !hasAll(string(body), "<SSEAlgorithm>KMS</SSEAlgorithm><KMSMasterKeyID>wire-key</KMSMasterKeyID>") {
		t.Fatalf("GET ?encryption: %s", body)
	}

	// A configuration document needs its Content-MD5.
	resp, body = e.raw(http.MethodPut, u, doc, http.Header{"Content-Type": {"application/xml"}})
	if d := parseError(t, body); resp.StatusCode != http.StatusBadRequest || d.Code != "InvalidRequest" {
		t.Fatalf("PUT ?encryption without Content-MD5: %d %s", resp.StatusCode, body)
	}
}

// TestBucketEncryptionErrors: every error of the seeds and the issue.
func TestBucketEncryptionErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey("err-key")
	name, c := e.bucket("errs")
	put := func(c *cos.Client, r cos.BucketEncryptionConfiguration) error {
		_, err := c.Bucket.PutEncryption(e.ctx, &cos.BucketPutEncryptionOptions{Rule: &r})
		return err
	}

	t.Run("invalid algorithm", func(t *testing.T) {
		for _, alg := range []string{"DES", "aws:kms", "kms", ""} {
			wantCOSErr(t, put(c, cos.BucketEncryptionConfiguration{SSEAlgorithm: alg}), http.StatusBadRequest, "InvalidArgument")
		}
		wantCOSErr(t, put(c, cos.BucketEncryptionConfiguration{SSEAlgorithm: "KMS", KMSAlgorithm: "DES"}), http.StatusBadRequest, "InvalidArgument")
	})
	t.Run("key id with AES256 or SM4", func(t *testing.T) {
		wantCOSErr(t, put(c, cos.BucketEncryptionConfiguration{SSEAlgorithm: "AES256", KMSMasterKeyID: key}), http.StatusBadRequest, "InvalidArgument")
		wantCOSErr(t, put(c, cos.BucketEncryptionConfiguration{SSEAlgorithm: "SM4", KMSMasterKeyID: key}), http.StatusBadRequest, "InvalidArgument")
		wantCOSErr(t, put(c, cos.BucketEncryptionConfiguration{SSEAlgorithm: "AES256", KMSAlgorithm: "SM4"}), http.StatusBadRequest, "InvalidArgument")
	})
	t.Run("unknown KMS key", func(t *testing.T) {
		wantCOSErr(t, put(c, cos.BucketEncryptionConfiguration{SSEAlgorithm: "KMS", KMSMasterKeyID: "no-such-key"}), http.StatusBadRequest, "InvalidArgument")
	})
	t.Run("nothing was stored", func(t *testing.T) {
		_, _, err := c.Bucket.GetEncryption(e.ctx)
		wantCOSErr(t, err, http.StatusNotFound, "NoSuchEncryptionConfiguration")
	})
	t.Run("non-owner", func(t *testing.T) {
		bob, err := e.node.IAM.CreateUser(e.ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		bc := e.clientFor(name, bob.AccessKey, bob.SecretKey)
		wantCOSErr(t, put(bc, cos.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"}), http.StatusForbidden, "AccessDenied")
		_, _, err = bc.Bucket.GetEncryption(e.ctx)
		wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")
		_, err = bc.Bucket.DeleteEncryption(e.ctx)
		wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")
		_, err = bc.Object.Put(e.ctx, "k", bytesReader("x"), nil)
		wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")
	})
	t.Run("missing bucket", func(t *testing.T) {
		mc := e.client(bucketName("missing"))
		wantCOSErr(t, put(mc, cos.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"}), http.StatusNotFound, "NoSuchBucket")
		_, _, err := mc.Bucket.GetEncryption(e.ctx)
		wantCOSErr(t, err, http.StatusNotFound, "NoSuchBucket")
		_, err = mc.Bucket.DeleteEncryption(e.ctx)
		wantCOSErr(t, err, http.StatusNotFound, "NoSuchBucket")
		_, err = mc.Bucket.Head(e.ctx)
		wantCOSErr(t, err, http.StatusNotFound, "")
		if !cos.IsNotFoundError(err) {
			t.Fatalf("HEAD missing bucket: IsNotFoundError false for %v", err)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		_, _, err := e.clientFor(name, e.node.AccessKey, "wrong").Bucket.GetEncryption(e.ctx)
		wantCOSErr(t, err, http.StatusForbidden, "SignatureDoesNotMatch")
		_, _, err = e.clientFor(name, "AKIDnobody", "x").Bucket.GetEncryption(e.ctx)
		ce := wantCOSErr(t, err, http.StatusForbidden, "InvalidAccessKeyId")
		if ce.Message != "The SecretId you provided does not exist in our records." {
			t.Fatalf("message %q", ce.Message)
		}
	})
}
