package e2esse

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestSSEErrors checks every SSE request error with its exact status and
// S3 error code, on PUT, CreateMultipartUpload and copies where the same
// rule applies.
func TestSSEErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("errors")
	keyA, keyB := e.customerKey(), e.customerKey()
	ca, cb := sseC(keyA, "SSE-C(A)"), sseC(keyB, "SSE-C(B)")
	data := []byte("some bytes to encrypt")
	e.putObject(t, bucket, "plain", data, none)
	e.putObject(t, bucket, "ssec", data, ca)
	e.putObject(t, bucket, "sses3", data, sseS3)

	md5Of := func(k []byte) *string { s := md5.Sum(k); return aws.String(base64.StdEncoding.EncodeToString(s[:])) }
	b64p := func(k []byte) *string { return aws.String(b64(k)) }

	// Write-side errors: each case shapes PutObject, CreateMultipartUpload
	// and CopyObject (destination) the same way.
	type w struct {
		sse                 types.ServerSideEncryption
		kmsKeyID, kmsCtx    *string
		calg, ckey, ckeyMD5 *string
	}
	writes := []struct {
		name   string
		in     w
		status int
		code   string
	}{
		{"unknown KMS key id", w{sse: "aws:kms", kmsKeyID: aws.String("no-such-key")}, 400, "KMS.NotFoundException"},
		{"unknown KMS key alias", w{sse: "aws:kms", kmsKeyID: aws.String("alias/no-such-key")}, 400, "KMS.NotFoundException"},
		{"malformed KMS key id", w{sse: "aws:kms", kmsKeyID: aws.String("bad key id!")}, 400, "KMS.NotFoundException"},
		{"KMS key id without aws:kms", w{kmsKeyID: aws.String("key-1")}, 400, "InvalidArgument"},
		{"KMS key id with AES256", w{sse: "AES256", kmsKeyID: aws.String("key-1")}, 400, "InvalidArgument"},
		{"unknown SSE algorithm", w{sse: "aws:fsx"}, 400, "InvalidArgument"},
		{"encryption context not base64 JSON", w{sse: "aws:kms", kmsKeyID: aws.String("key-1"), kmsCtx: aws.String("not base64 json")}, 400, "InvalidArgument"},
		{"encryption context without aws:kms", w{kmsCtx: aws.String(b64([]byte(`{"a":"b"}`)))}, 400, "InvalidArgument"},
		{"SSE-C algorithm AES128", w{calg: aws.String("AES128"), ckey: b64p(keyA), ckeyMD5: md5Of(keyA)}, 400, "InvalidEncryptionAlgorithmError"},
		{"SSE-C key-MD5 mismatch", w{calg: aws.String("AES256"), ckey: b64p(keyA), ckeyMD5: md5Of(keyB)}, 400, "InvalidArgument"},
		{"SSE-C key-MD5 not base64", w{calg: aws.String("AES256"), ckey: b64p(keyA), ckeyMD5: aws.String("not-base64!")}, 400, "InvalidArgument"},
		{"SSE-C key 16 bytes", w{calg: aws.String("AES256"), ckey: b64p(keyA[:16]), ckeyMD5: md5Of(keyA[:16])}, 400, "InvalidArgument"},
		{"SSE-C without algorithm", w{ckey: b64p(keyA), ckeyMD5: md5Of(keyA)}, 400, "InvalidArgument"},
		{"SSE-C plus aws:kms", w{sse: "aws:kms", calg: aws.String("AES256"), ckey: b64p(keyA), ckeyMD5: md5Of(keyA)}, 400, "InvalidArgument"},
		{"SSE-C plus AES256", w{sse: "AES256", calg: aws.String("AES256"), ckey: b64p(keyA), ckeyMD5: md5Of(keyA)}, 400, "InvalidArgument"},
	}
	for _, c := range writes {
		t.Run("write/"+c.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{
				Bucket: aws.String(bucket), Key: aws.String("w-" + c.name), Body: bytes.NewReader(data),
				ServerSideEncryption: c.in.sse, SSEKMSKeyId: c.in.kmsKeyID, SSEKMSEncryptionContext: c.in.kmsCtx,
				SSECustomerAlgorithm: c.in.calg, SSECustomerKey: c.in.ckey, SSECustomerKeyMD5: c.in.ckeyMD5,
			})
			wantAPIError(t, "PutObject", err, c.status, c.code)
			_, err = e.c.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{
				Bucket: aws.String(bucket), Key: aws.String("w-" + c.name),
				ServerSideEncryption: c.in.sse, SSEKMSKeyId: c.in.kmsKeyID, SSEKMSEncryptionContext: c.in.kmsCtx,
				SSECustomerAlgorithm: c.in.calg, SSECustomerKey: c.in.ckey, SSECustomerKeyMD5: c.in.ckeyMD5,
			})
			wantAPIError(t, "CreateMultipartUpload", err, c.status, c.code)
			_, err = e.c.CopyObject(e.ctx, &s3.CopyObjectInput{
				Bucket: aws.String(bucket), Key: aws.String("w-" + c.name), CopySource: aws.String(bucket + "/plain"),
				ServerSideEncryption: c.in.sse, SSEKMSKeyId: c.in.kmsKeyID, SSEKMSEncryptionContext: c.in.kmsCtx,
				SSECustomerAlgorithm: c.in.calg, SSECustomerKey: c.in.ckey, SSECustomerKeyMD5: c.in.ckeyMD5,
			})
			wantAPIError(t, "CopyObject", err, c.status, c.code)
			// Nothing was created by any of them.
			_, err = e.c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("w-" + c.name)})
			wantAPIError(t, "HEAD after refused writes", err, 404, "NotFound")
		})
	}

	// Read-side errors on GET and HEAD (HEAD has no body: the SDK derives
	// the code from the status).
	reads := []struct {
		name     string
		key      string
		m        mode
		status   int
		code     string
		headCode string
	}{
		{"SSE-C object without key", "ssec", none, 400, "InvalidRequest", "BadRequest"},
		{"SSE-C object with wrong key", "ssec", cb, 403, "AccessDenied", "Forbidden"},
		{"plain object with SSE-C key", "plain", ca, 400, "InvalidRequest", "BadRequest"},
		{"SSE-S3 object with SSE-C key", "sses3", ca, 400, "InvalidRequest", "BadRequest"},
	}
	for _, c := range reads {
		t.Run("read/"+c.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.c.GetObject(e.ctx, c.m.get(&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(c.key)}))
			wantAPIError(t, "GET", err, c.status, c.code)
			_, err = e.c.GetObject(e.ctx, c.m.get(&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(c.key), Range: aws.String("bytes=1-3")}))
			wantAPIError(t, "GET range", err, c.status, c.code)
			_, err = e.c.HeadObject(e.ctx, c.m.head(&s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(c.key)}))
			wantAPIError(t, "HEAD", err, c.status, c.headCode)
		})
	}
	t.Run("read/SSE-C key-MD5 mismatch", func(t *testing.T) {
		t.Parallel()
		_, err := e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("ssec"),
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: b64p(keyA), SSECustomerKeyMD5: md5Of(keyB)})
		wantAPIError(t, "GET", err, 400, "InvalidArgument")
	})
	t.Run("read/GET with x-amz-server-side-encryption", func(t *testing.T) {
		t.Parallel()
		h := http.Header{"X-Amz-Server-Side-Encryption": {"AES256"}}
		resp, body := e.do(t, e.signed(t, "GET", "/"+bucket+"/sses3", "", nil, h))
		wantRawError(t, "GET", resp, body, 400, "InvalidArgument")
	})
	t.Run("read/SSE-C object with right key", func(t *testing.T) {
		t.Parallel()
		got, _ := e.getObject(t, bucket, "ssec", "", ca)
		if !bytes.Equal(got, data) {
			t.Errorf("read %q", got)
		}
	})
}

// TestSSECOverPlainHTTP: a node without TLS refuses SSE-C keys on every
// operation that carries them (400 InvalidRequest), and still serves the
// other modes.
func TestSSECOverPlainHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{plainHTTP: true})
	bucket := e.bucket("plain-http")
	key := e.customerKey()
	m := sseC(key, "SSE-C")
	data := []byte("over plain http")
	_, err := e.c.PutObject(e.ctx, m.put(&s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("c"), Body: bytes.NewReader(data)}))
	wantAPIError(t, "PutObject", err, 400, "InvalidRequest")
	_, err = e.c.CreateMultipartUpload(e.ctx, m.create(&s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("c")}))
	wantAPIError(t, "CreateMultipartUpload", err, 400, "InvalidRequest")

	e.putObject(t, bucket, "s3", data, sseS3)
	_, err = e.c.GetObject(e.ctx, m.get(&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("s3")}))
	wantAPIError(t, "GetObject", err, 400, "InvalidRequest")
	_, err = e.c.HeadObject(e.ctx, m.head(&s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("s3")}))
	wantAPIError(t, "HeadObject", err, 400, "BadRequest")
	_, err = e.c.CopyObject(e.ctx, m.copySrc(&s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("cp"), CopySource: aws.String(bucket + "/s3")}))
	wantAPIError(t, "CopyObject with copy-source key", err, 400, "InvalidRequest")
	_, err = e.c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("c")})
	wantAPIError(t, "HEAD of refused object", err, 404, "NotFound")

	got, _ := e.getObject(t, bucket, "s3", "", none)
	if !bytes.Equal(got, data) {
		t.Errorf("SSE-S3 over plain HTTP read back %q", got)
	}

	// The operator's explicit opt-in (a TLS-terminating proxy in front, or
	// --insecure-sse-c) lets the same requests through.
	ok := newEnv(t, envOptions{plainHTTP: true, insecureSSEC: true})
	ok.wire.addSecret(key)
	okBucket := ok.bucket("plain-http-ok")
	_, resp := ok.putObject(t, okBucket, "c", data, m)
	m.checkHeaders(t, "PUT SSE-C over plain HTTP with InsecureSSEC", resp.Header, echo{keyMD5: true})
	if got, _ := ok.getObject(t, okBucket, "c", "", m); !bytes.Equal(got, data) {
		t.Errorf("SSE-C over plain HTTP with InsecureSSEC read back %q", got)
	}
}

// TestDisabledKMSKey: once a CMK is disabled, writing under it and reading
// objects under it fail with a 4xx KMS error; re-enabling restores reads.
func TestDisabledKMSKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-dis")
	bucket := e.bucket("disabled")
	m := sseKMS("key-dis")
	data := randBytes(seg + 10)
	e.putObject(t, bucket, "before", data, m)

	if _, err := e.node.Keyring.DisableKey(e.ctx, "key-dis"); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.PutObject(e.ctx, m.put(&s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("after"), Body: bytes.NewReader(data)}))
	wantKMSError(t, "PUT under a disabled key", err)
	wantAPIError(t, "PUT under a disabled key", err, 400, "KMS.DisabledException")
	_, err = e.c.CreateMultipartUpload(e.ctx, m.create(&s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("after")}))
	wantKMSError(t, "CreateMultipartUpload under a disabled key", err)
	_, err = e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("before")})
	wantKMSError(t, "GET of an object under a disabled key", err)
	_, err = e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("before"), Range: aws.String("bytes=0-0")})
	wantKMSError(t, "range GET of an object under a disabled key", err)
	_, err = e.c.CopyObject(e.ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("copy"), CopySource: aws.String(bucket + "/before")})
	wantKMSError(t, "copy of an object under a disabled key", err)

	if _, err := e.node.Keyring.EnableKey(e.ctx, "key-dis"); err != nil {
		t.Fatal(err)
	}
	got, _ := e.getObject(t, bucket, "before", "", none)
	if !bytes.Equal(got, data) {
		t.Errorf("after re-enabling, read %d bytes, want %d", len(got), len(data))
	}
}
