package e2eobs

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// Presigned URLs (CreateSignedUrl) in each mode: GET with a plain HTTP
// client and through the SDK, PUT with signed encryption headers, a
// tampered and an expired URL.
func TestPresigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey("obs-presign")
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "presign-"+m.name)
		body := []byte("presigned body")
		in := putInput(b, "dir/a b+c.txt", body)
		in.SseHeader = obs.SseKmsHeader{Key: key}
		if _, err := c.PutObject(in); err != nil {
			t.Fatal(err)
		}

		got := signedGet(t, e, c, m, &obs.CreateSignedUrlInput{Method: obs.HttpMethodGet, Bucket: b, Key: "dir/a b+c.txt", Expires: 300})
		if got != string(body) {
			t.Fatalf("presigned GET: %q", got)
		}
		// A bucket-level URL: ListObjects.
		if list := signedGet(t, e, c, m, &obs.CreateSignedUrlInput{Method: obs.HttpMethodGet, Bucket: b, Expires: 300,
			QueryParams: map[string]string{"prefix": "dir/"}}); !strings.Contains(list, "<Key>dir/a b+c.txt</Key>") {
			t.Fatalf("presigned list: %s", list)
		}
		su, err := c.CreateSignedUrl(&obs.CreateSignedUrlInput{Method: obs.HttpMethodGet, Bucket: b, Key: "dir/a b+c.txt", Expires: 300,
			QueryParams: map[string]string{"response-content-type": "text/x-obs"}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.GetObjectWithSignedUrl(su.SignedUrl, su.ActualSignedRequestHeaders)
		if err != nil {
			t.Fatalf("GetObjectWithSignedUrl: %v", err)
		}
		sdkBody, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(sdkBody, body) || out.ContentType != "text/x-obs" {
			t.Fatalf("signed GET through the SDK: %q, content type %q", sdkBody, out.ContentType)
		}
		wantSSE(t, "signed GET", &out.BaseModel, sse{mode: "kms", keyID: key})

		// A signed PUT whose encryption headers are part of the signature
		// (x-obs-* in the native mode, x-amz-* in the others).
		p, hdr := "x-amz-", map[string]string{"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": key}
		if m.native {
			p, hdr = "x-obs-", map[string]string{"x-obs-server-side-encryption": "kms", "x-obs-server-side-encryption-kms-key-id": key}
		}
		hdr["Content-Type"] = "text/plain"
		sp, err := c.CreateSignedUrl(&obs.CreateSignedUrlInput{Method: obs.HttpMethodPut, Bucket: b, Key: "signed-put", Expires: 300, Headers: hdr})
		if err != nil {
			t.Fatal(err)
		}
		pout, err := c.PutObjectWithSignedUrl(sp.SignedUrl, sp.ActualSignedRequestHeaders, bytes.NewReader(body))
		if err != nil {
			t.Fatalf("PutObjectWithSignedUrl: %v", err)
		}
		wantSSE(t, "signed PUT", &pout.BaseModel, sse{mode: "kms", keyID: key})
		// Changing a signed encryption header breaks the signature.
		h := sp.ActualSignedRequestHeaders.Clone()
		h.Set(p+"server-side-encryption", "AES256")
		_, err = c.PutObjectWithSignedUrl(sp.SignedUrl, h, bytes.NewReader(body))
		wantObsErr(t, err, 403, "SignatureDoesNotMatch")

		// A tampered signature: 403, the code also in x-obs-error-code.
		u, _ := url.Parse(su.SignedUrl)
		q := u.Query()
		for _, k := range []string{"Signature", "X-Amz-Signature"} {
			if v := q.Get(k); v != "" {
				q.Set(k, "AAAA"+v[4:])
			}
		}
		u.RawQuery = q.Encode()
		_, addr := e.endpoint(m)
		hc := &http.Client{Transport: transport(addr, nil)}
		resp, err := hc.Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("x-obs-error-code") != "SignatureDoesNotMatch" || resp.Header.Get("x-obs-request-id") == "" {
			t.Fatalf("tampered: %d %q", resp.StatusCode, resp.Header.Get("x-obs-error-code"))
		}

		// An expired URL.
		ex, err := c.CreateSignedUrl(&obs.CreateSignedUrlInput{Method: obs.HttpMethodGet, Bucket: b, Key: "dir/a b+c.txt", Expires: 1})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2100 * time.Millisecond)
		_, err = c.GetObjectWithSignedUrl(ex.SignedUrl, ex.ActualSignedRequestHeaders)
		wantObsErr(t, err, 403, "AccessDenied")
	})
}

// ListObjects with a prefix that needs escaping: under SigV4 the SDK signs
// its raw query ('+' for spaces), which the server must accept.
func TestListObjectsEscapedPrefix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "list-"+m.name)
		for _, k := range []string{"a b+c/é.txt", "a b+c/éx/y", "a b+c/z", "a+b c/é", "other"} {
			if _, err := c.PutObject(putInput(b, k, []byte(k))); err != nil {
				t.Fatalf("put %q: %v", k, err)
			}
		}
		in := &obs.ListObjectsInput{Bucket: b}
		in.Prefix, in.Delimiter = "a b+c/é", "/"
		out, err := c.ListObjects(in)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, o.Key)
		}
		if strings.Join(keys, "|") != "a b+c/é.txt" || strings.Join(out.CommonPrefixes, "|") != "a b+c/éx/" {
			t.Fatalf("keys %q, prefixes %q", keys, out.CommonPrefixes)
		}
		get(t, c, b, "a b+c/é.txt", nil, []byte("a b+c/é.txt"))
	})
}
