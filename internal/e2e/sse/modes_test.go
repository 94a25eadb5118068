package e2esse

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// TestModesPutGetHead writes, reads and heads an object under every mode
// and checks the exact SSE response headers and the ETag rule.
func TestModesPutGetHead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("modes")
	kmsCtx := sseKMS("key-1")
	kmsCtx.name, kmsCtx.context = "SSE-KMS(key-1)+context", map[string]string{"department": "finance", "project": "strongroom"}
	kmsBK := sseKMS("key-1")
	kmsBK.name, kmsBK.bucketKey = "SSE-KMS(key-1)+bucket-key", true
	modes := []mode{
		none,
		sseS3,
		sseKMS(""),
		sseKMS("key-1"),
		sseKMS("alias/key-1"), // echoed exactly as given, not canonicalised
		sseKMS("arn:aws:kms:us-east-1:123456789012:key/key-1"),
		kmsCtx,
		kmsBK,
		sseC(e.customerKey(), "SSE-C"),
	}
	for i, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			key := "obj-" + string(rune('a'+i))
			data := randBytes(3*seg + 777) // four segments, the last short
			put, resp := e.putObject(t, bucket, key, data, m)
			m.checkHeaders(t, "PUT", resp.Header, echo{keyMD5: true})
			etag := aws.ToString(put.ETag)
			plainMD5 := quoted(md5hex(data))
			switch m.kind {
			case kNone, kS3:
				if etag != plainMD5 {
					t.Errorf("ETag %s, want the plaintext MD5 %s", etag, plainMD5)
				}
			default:
				if etag == plainMD5 || strings.Contains(etag, md5hex(data)) {
					t.Errorf("ETag %s reveals the plaintext MD5", etag)
				}
				if len(strings.Trim(etag, `"`)) != 32 {
					t.Errorf("ETag %s is not 32 hex digits", etag)
				}
			}

			got, out := e.getObject(t, bucket, key, "", m)
			if !bytes.Equal(got, data) {
				t.Fatalf("GET returned %d bytes, not the %d written", len(got), len(data))
			}
			m.checkHeaders(t, "GET", raw(t, out.ResultMetadata).Header, echo{keyMD5: true})
			if aws.ToString(out.ETag) != etag {
				t.Errorf("GET ETag %s, PUT said %s", aws.ToString(out.ETag), etag)
			}

			head, err := e.c.HeadObject(e.ctx, m.head(&s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}))
			if err != nil {
				t.Fatalf("HEAD: %v", err)
			}
			m.checkHeaders(t, "HEAD", raw(t, head.ResultMetadata).Header, echo{keyMD5: true})
			if aws.ToInt64(head.ContentLength) != int64(len(data)) {
				t.Errorf("HEAD Content-Length %d, want %d (the plaintext size)", aws.ToInt64(head.ContentLength), len(data))
			}
			if aws.ToString(head.ETag) != etag {
				t.Errorf("HEAD ETag %s, PUT said %s", aws.ToString(head.ETag), etag)
			}

			// Typed SDK fields agree with the raw headers.
			switch m.kind {
			case kKMS:
				want := m.keyID
				if want == "" {
					want = defaultKMSKey
				}
				if aws.ToString(head.SSEKMSKeyId) != want || head.ServerSideEncryption != "aws:kms" {
					t.Errorf("HEAD SDK fields: %q %q", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId))
				}
				if aws.ToBool(head.BucketKeyEnabled) != m.bucketKey {
					t.Errorf("HEAD BucketKeyEnabled %v, want %v", aws.ToBool(head.BucketKeyEnabled), m.bucketKey)
				}
			case kSSEC:
				if aws.ToString(head.SSECustomerAlgorithm) != "AES256" || aws.ToString(head.SSECustomerKeyMD5) != md5b64(m.key) {
					t.Errorf("HEAD SDK fields: %q %q", aws.ToString(head.SSECustomerAlgorithm), aws.ToString(head.SSECustomerKeyMD5))
				}
			}
		})
	}
}

// TestEmptyObjects covers the zero-length edge of every mode.
func TestEmptyObjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("empty")
	for _, m := range []mode{none, sseS3, sseKMS("key-1"), sseC(e.customerKey(), "SSE-C")} {
		put, resp := e.putObject(t, bucket, "empty-"+m.name, nil, m)
		m.checkHeaders(t, "PUT empty", resp.Header, echo{keyMD5: true})
		got, out := e.getObject(t, bucket, "empty-"+m.name, "", m)
		if len(got) != 0 || aws.ToInt64(out.ContentLength) != 0 {
			t.Errorf("%s: empty object read back as %d bytes", m.name, len(got))
		}
		if (m.kind == kNone || m.kind == kS3) != (aws.ToString(put.ETag) == quoted(md5hex(nil))) {
			t.Errorf("%s: empty object ETag %s", m.name, aws.ToString(put.ETag))
		}
	}
}

// TestMinioSSEHelpers drives the same modes through minio-go's own client
// and its encrypt helpers (PutObject, StatObject, GetObject, CopyObject).
func TestMinioSSEHelpers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("minio")
	mc, err := minio.New(strings.TrimPrefix(e.node.URL, "https://"), &minio.Options{
		Creds:        credentials.NewStaticV4(e.node.AccessKey, e.node.SecretKey, ""),
		Secure:       true,
		Transport:    e.node.Client.Transport,
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	kmsSSE, err := encrypt.NewSSEKMS("key-1", map[string]string{"app": "minio"})
	if err != nil {
		t.Fatal(err)
	}
	ckey := e.customerKey()
	cSSE := must(encrypt.NewSSEC(ckey))(t)
	cases := []struct {
		name    string
		sse     encrypt.ServerSide
		wantHdr map[string]string
	}{
		{"SSE-S3", encrypt.NewSSE(), map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}},
		{"SSE-KMS", kmsSSE, map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "key-1"}},
		{"SSE-C", cSSE, map[string]string{"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256", "X-Amz-Server-Side-Encryption-Customer-Key-Md5": md5b64(ckey)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			data := randBytes(2*seg + 5)
			key := "minio-" + c.name
			if _, err := mc.PutObject(e.ctx, bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ServerSideEncryption: c.sse}); err != nil {
				t.Fatalf("minio PutObject: %v", err)
			}
			readSSE := c.sse
			if c.sse.Type() != encrypt.SSEC {
				readSSE = nil // only SSE-C keys travel on reads
			}
			st, err := mc.StatObject(e.ctx, bucket, key, minio.StatObjectOptions{ServerSideEncryption: readSSE})
			if err != nil {
				t.Fatalf("minio StatObject: %v", err)
			}
			for h, v := range c.wantHdr {
				if got := st.Metadata.Get(h); got != v {
					t.Errorf("StatObject %s = %q, want %q", h, got, v)
				}
			}
			if st.Size != int64(len(data)) {
				t.Errorf("StatObject size %d, want %d", st.Size, len(data))
			}
			obj, err := mc.GetObject(e.ctx, bucket, key, minio.GetObjectOptions{ServerSideEncryption: readSSE})
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, obj)
			if !bytes.Equal(got, data) {
				t.Fatalf("minio GetObject: %d bytes, not the %d written", len(got), len(data))
			}
			// Copy into SSE-C with minio's copy helpers (SSE-C source
			// needs SSECopy for the copy-source headers).
			dst := minio.CopyDestOptions{Bucket: bucket, Object: key + "-copy", Encryption: must(encrypt.NewSSEC(e.customerKey()))(t)}
			src := minio.CopySrcOptions{Bucket: bucket, Object: key}
			if c.sse.Type() == encrypt.SSEC {
				src.Encryption = encrypt.SSECopy(c.sse)
			}
			if _, err := mc.CopyObject(e.ctx, dst, src); err != nil {
				t.Fatalf("minio CopyObject: %v", err)
			}
			obj, err = mc.GetObject(e.ctx, bucket, key+"-copy", minio.GetObjectOptions{ServerSideEncryption: dst.Encryption})
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, obj); !bytes.Equal(got, data) {
				t.Fatalf("copy read back %d bytes, not the %d written", len(got), len(data))
			}
			// Without the key, minio sees the S3 error too.
			if c.sse.Type() == encrypt.SSEC {
				_, err := mc.StatObject(e.ctx, bucket, key, minio.StatObjectOptions{})
				if resp := minio.ToErrorResponse(err); resp.StatusCode != http.StatusBadRequest {
					t.Errorf("StatObject without key: %v (status %d), want 400", err, resp.StatusCode)
				}
			}
		})
	}
}
