package e2esse

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
)

// TestPresignedSSE: a presigned GET of an SSE-S3 (or SSE-KMS) object works
// from plain net/http; a presigned GET of an SSE-C object works when the
// request carries the SSE-C headers the SDK's presigner signed, and fails
// without them, with unsigned ones, or with a wrong key.
func TestPresignedSSE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.kmsKey("key-1")
	bucket := e.bucket("presign")
	c := sseC(e.customerKey(), "SSE-C")
	data := randBytes(seg + 321)
	e.putObject(t, bucket, "s3", data, sseS3)
	e.putObject(t, bucket, "kms", data, sseKMS("key-1"))
	e.putObject(t, bucket, "c", data, c)
	ps := s3.NewPresignClient(e.c)

	get := func(t *testing.T, url string, h http.Header) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range h {
			req.Header[k] = vs
		}
		resp, err := e.node.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}

	for _, m := range []struct {
		key string
		m   mode
	}{{"s3", sseS3}, {"kms", sseKMS("key-1")}} {
		t.Run("SDK presign "+m.m.name, func(t *testing.T) {
			t.Parallel()
			p, err := ps.PresignGetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(m.key)}, s3.WithPresignExpires(5*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			resp, body := get(t, p.URL, nil)
			if resp.StatusCode != 200 || !bytes.Equal(body, data) {
				t.Fatalf("presigned GET: %d, %d bytes (want 200, %d bytes)", resp.StatusCode, len(body), len(data))
			}
			m.m.checkHeaders(t, "presigned GET", resp.Header, echo{})
			// A range works too.
			resp, body = get(t, p.URL, http.Header{"Range": {"bytes=65530-65545"}})
			if resp.StatusCode != 206 || !bytes.Equal(body, data[65530:65546]) {
				t.Errorf("presigned range GET: %d, %q", resp.StatusCode, body)
			}
		})
	}

	t.Run("SDK presign SSE-C", func(t *testing.T) {
		t.Parallel()
		p, err := ps.PresignGetObject(e.ctx, c.get(&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("c")}))
		if err != nil {
			t.Fatal(err)
		}
		// The presigner signs the SSE-C headers: the request must carry them.
		h := http.Header{}
		for k, vs := range p.SignedHeader {
			if k != "Host" {
				h[k] = vs
			}
		}
		if h.Get("X-Amz-Server-Side-Encryption-Customer-Key") == "" {
			t.Fatalf("presigner did not sign the SSE-C headers: %v", p.SignedHeader)
		}
		resp, body := get(t, p.URL, h)
		if resp.StatusCode != 200 || !bytes.Equal(body, data) {
			t.Fatalf("presigned SSE-C GET: %d, %d bytes", resp.StatusCode, len(body))
		}
		c.checkHeaders(t, "presigned SSE-C GET", resp.Header, echo{keyMD5: true})
	})

	t.Run("host-only presign SSE-C", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest("GET", e.node.URL+"/"+bucket+"/c", nil)
		auth.PresignV4(req, e.node.AccessKey, e.node.SecretKey, region, time.Now(), 5*time.Minute)
		url := req.URL.String()
		// Without the key: the object needs one.
		resp, body := get(t, url, nil)
		wantRawError(t, "presigned SSE-C GET without headers", resp, body, 400, "InvalidRequest")
		// x-amz-* headers outside the signature are refused, as S3 does:
		// SSE-C headers must be signed into a presigned URL.
		resp, body = get(t, url, c.headers())
		wantRawError(t, "presigned SSE-C GET with unsigned SSE-C headers", resp, body, 403, "AccessDenied")
	})

	t.Run("SDK presign SSE-C wrong key", func(t *testing.T) {
		t.Parallel()
		wrong := sseC(e.customerKey(), "wrong")
		p, err := ps.PresignGetObject(e.ctx, wrong.get(&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("c")}))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		for k, vs := range p.SignedHeader {
			if k != "Host" {
				h[k] = vs
			}
		}
		resp, body := get(t, p.URL, h)
		wantRawError(t, "presigned SSE-C GET with a wrong key", resp, body, 403, "AccessDenied")
	})
}
