package auth

// OSS V1 and V4 signatures, header and presigned, made by the SDKs' own
// signers (alibabacloud-oss-go-sdk-v2's signer package; aliyun-oss-go-sdk
// driven over loopback, which is the only way to make it sign) and
// verified by the harness handler exactly as the server does.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	osssdk "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

const (
	ossAK     = "LTAIstrongroomtest"
	ossSecret = "oss/s3cr3t+with=odd chars"
)

// ossSign signs r with the v2 SDK's signer. bucket and key are what the
// SDK signs ("" for none); sub are per-operation sub-resources (V1).
func ossSign(t *testing.T, r *http.Request, v4 bool, bucket, key string, sub []string, query bool, when time.Time, secret string) {
	t.Helper()
	sc := &signer.SigningContext{
		Product: oss2.Ptr("oss"), Region: oss2.Ptr("cn-hangzhou"), Request: r, SubResource: sub,
		Credentials:     &credentials.Credentials{AccessKeyID: ossAK, AccessKeySecret: secret},
		AuthMethodQuery: query, Time: when,
	}
	if bucket != "" {
		sc.Bucket = &bucket
	}
	if key != "" {
		sc.Key = &key
	}
	var s signer.Signer = &signer.SignerV1{}
	if v4 {
		s = &signer.SignerV4{}
	}
	if err := s.Sign(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
}

func TestOSSSignatures(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	h := newHarness(t, &Verifier{Creds: creds{ossAK: ossSecret}, Now: at(now)})

	type tc struct {
		name   string
		v4     bool
		query  bool // presigned
		method string
		url    string // path already escaped
		bucket string // as the SDK signs it
		key    string
		sub    []string
		body   string
		header map[string]string
		when   time.Time // signing time (header) or expiry (V1 query); zero: now
		secret string
		mutate func(*http.Request)
		scheme Scheme
		err    *errs.Error
	}
	const awkward = "/bkt/dir/a%20b%2Bc=%C3%A9~!'()*.txt"
	awkwardKey := "dir/a b+c=é~!'()*.txt"
	cases := []tc{
		{name: "V4 PUT object, headers", v4: true, method: "PUT", url: awkward, bucket: "bkt", key: awkwardKey, body: "hello",
			header: map[string]string{"Content-Type": "text/plain", "x-oss-meta-a": " b ", "x-oss-server-side-encryption": "KMS"}, scheme: SchemeOSSV4},
		{name: "V4 bucket sub-resource", v4: true, method: "PUT", url: "/bkt/?encryption", bucket: "bkt", body: "<x/>", scheme: SchemeOSSV4},
		{name: "V4 list with awkward prefix", v4: true, method: "GET", url: "/bkt/?list-type=2&prefix=a%20b%2Bc%2F%C3%A9&encoding-type=url", bucket: "bkt", scheme: SchemeOSSV4},
		{name: "V4 virtual host", v4: true, method: "GET", url: "http://bkt.s3.test/dir/k%20k", bucket: "bkt", key: "dir/k k", scheme: SchemeOSSV4},
		{name: "V4 service", v4: true, method: "GET", url: "/", scheme: SchemeOSSV4},
		{name: "V4 presigned", v4: true, query: true, method: "GET", url: awkward + "?response-content-type=text%2Fplain", bucket: "bkt", key: awkwardKey, scheme: SchemeOSSV4Query},
		{name: "V1 PUT object, headers", method: "PUT", url: awkward, bucket: "bkt", key: awkwardKey, body: "hello",
			header: map[string]string{"Content-Type": "text/plain", "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==", "x-oss-meta-a": "b"}, scheme: SchemeOSSV1},
		{name: "V1 bucket sub-resource", method: "GET", url: "/bkt/?encryption", bucket: "bkt", sub: []string{"encryption"}, scheme: SchemeOSSV1},
		{name: "V1 unsigned list parameters", method: "GET", url: "/bkt/?list-type=2&prefix=a%20b&continuation-token=x%2By", bucket: "bkt", scheme: SchemeOSSV1},
		{name: "V1 multipart parameters", method: "PUT", url: "/bkt/k?partNumber=2&uploadId=abc", bucket: "bkt", key: "k", body: "p", scheme: SchemeOSSV1},
		{name: "V1 virtual host", method: "GET", url: "http://bkt.s3.test/dir/k%20k?bucketInfo", bucket: "bkt", key: "dir/k k", scheme: SchemeOSSV1},
		{name: "V1 presigned", query: true, method: "GET", url: awkward, bucket: "bkt", key: awkwardKey, when: now.Add(time.Minute), scheme: SchemeOSSV1Query},
		{name: "V1 a sub-resource the server does not list", method: "GET", url: "/bkt/?newfeature", bucket: "bkt", sub: []string{"newfeature"}, scheme: SchemeOSSV1},

		{name: "V4 wrong secret", v4: true, method: "GET", url: "/bkt/k", bucket: "bkt", key: "k", secret: "wrong", err: errs.SignatureDoesNotMatch},
		{name: "V4 unsigned x-oss header added", v4: true, method: "GET", url: "/bkt/k", bucket: "bkt", key: "k",
			mutate: func(r *http.Request) { r.Header.Set("x-oss-server-side-encryption-customer-key", "x") }, err: errs.SignatureDoesNotMatch},
		{name: "V4 other key", v4: true, method: "GET", url: "/bkt/k2", bucket: "bkt", key: "k", err: errs.SignatureDoesNotMatch},
		{name: "V4 other bucket (virtual host)", v4: true, method: "GET", url: "http://other.s3.test/k", bucket: "bkt", key: "k", err: errs.SignatureDoesNotMatch},
		{name: "V4 query altered", v4: true, method: "GET", url: "/bkt/?encryption", bucket: "bkt",
			mutate: func(r *http.Request) { r.URL.RawQuery = "acl" }, err: errs.SignatureDoesNotMatch},
		{name: "V4 skewed", v4: true, method: "GET", url: "/bkt/k", bucket: "bkt", key: "k", when: now.Add(-20 * time.Minute), err: errs.RequestTimeTooSkewed},
		{name: "V4 streaming payload refused", v4: true, method: "PUT", url: "/bkt/k", bucket: "bkt", key: "k",
			mutate: func(r *http.Request) { r.Header.Set("x-oss-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER") }, err: errOSSBadSHA256},
		{name: "V4 presigned tampered", v4: true, query: true, method: "GET", url: "/bkt/k", bucket: "bkt", key: "k",
			mutate: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "x-oss-expires=", "x-oss-expires=1", 1)
			}, err: errs.SignatureDoesNotMatch},
		{name: "V1 wrong secret", method: "GET", url: "/bkt/k", bucket: "bkt", key: "k", secret: "wrong", err: errs.SignatureDoesNotMatch},
		// OSS signs x-oss-* only: an x-amz-* header (which would pick the
		// S3 reading of the request) is outside the signature.
		{name: "V1 unsigned x-amz header added", method: "PUT", url: "/bkt/k", bucket: "bkt", key: "k", body: "x",
			mutate: func(r *http.Request) { r.Header.Set("X-Amz-Copy-Source", "/bkt/secret") }, err: errHeadersNotSigned},
		{name: "V4 unsigned x-amz header added", v4: true, method: "PUT", url: "/bkt/k", bucket: "bkt", key: "k", body: "x",
			mutate: func(r *http.Request) { r.Header.Set("X-Amz-Copy-Source", "/bkt/secret") }, err: errHeadersNotSigned},
		{name: "V1 signed sub-resource dropped", method: "GET", url: "/bkt/?encryption", bucket: "bkt", sub: []string{"encryption"},
			mutate: func(r *http.Request) { r.URL.RawQuery = "" }, err: errs.SignatureDoesNotMatch},
		{name: "V1 content type changed", method: "PUT", url: "/bkt/k", bucket: "bkt", key: "k", body: "x", header: map[string]string{"Content-Type": "a/b"},
			mutate: func(r *http.Request) { r.Header.Set("Content-Type", "a/c") }, err: errs.SignatureDoesNotMatch},
		{name: "V1 skewed", method: "GET", url: "/bkt/k", bucket: "bkt", key: "k", when: now.Add(16 * time.Minute), err: errs.RequestTimeTooSkewed},
		{name: "V1 presigned expired", query: true, method: "GET", url: "/bkt/k", bucket: "bkt", key: "k", when: now.Add(-time.Second), err: errs.ExpiredToken},
		{name: "unknown access key", method: "GET", url: "/bkt/k", bucket: "bkt", key: "k",
			mutate: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ossAK, "NOSUCHKEY", 1))
			}, err: errs.InvalidAccessKeyID},
		{name: "V4 malformed", v4: true, method: "GET", url: "/bkt/k", bucket: "bkt", key: "k",
			mutate: func(r *http.Request) { r.Header.Set("Authorization", "OSS4-HMAC-SHA256 Credential=x,Signature=y") }, err: errOSSAuthz},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := c.url
			if !strings.HasPrefix(u, "http") {
				u = h.url + u
			}
			r, err := http.NewRequest(c.method, u, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			when := c.when
			if when.IsZero() {
				when = now
				if c.query {
					when = now.Add(time.Hour)
				}
			}
			secret := c.secret
			if secret == "" {
				secret = ossSecret
			}
			ossSign(t, r, c.v4, c.bucket, c.key, c.sub, c.query, when, secret)
			if c.mutate != nil {
				c.mutate(r)
			}
			o := h.do(t, r)
			if c.err != nil {
				if got := errs.As(o.err); got == nil || got.Code != c.err.Code || got.Message != c.err.Message {
					t.Fatalf("got %v, want %v", o.err, c.err)
				}
				return
			}
			if o.err != nil {
				t.Fatal(o.err)
			}
			if o.res.AccessKeyID != ossAK || o.res.Scheme != c.scheme || string(o.body) != c.body {
				t.Fatalf("result %+v body %q", o.res, o.body)
			}
			if c.v4 && o.res.Region != "cn-hangzhou" {
				t.Errorf("region %q", o.res.Region)
			}
			if c.query != o.res.Presigned {
				t.Errorf("presigned %v", o.res.Presigned)
			}
		})
	}
}

// TestOSSV4PresignExpiry uses the verifier's clock: x-oss-date plus
// x-oss-expires seconds, and no signing time in the future.
func TestOSSV4PresignExpiry(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	for _, tc := range []struct {
		clock time.Time
		err   *errs.Error
	}{
		{now.Add(14 * time.Minute), nil},
		{now.Add(16 * time.Minute), errs.ExpiredToken}, // the signer's default: 15 minutes
		{now.Add(-20 * time.Minute), errNotYetValid},
	} {
		h := newHarness(t, &Verifier{Creds: creds{ossAK: ossSecret}, Now: at(tc.clock)})
		r, _ := http.NewRequest("GET", h.url+"/bkt/k", nil)
		ossSign(t, r, true, "bkt", "k", nil, true, time.Time{}, ossSecret)
		o := h.do(t, r)
		if tc.err == nil && o.err != nil || tc.err != nil && (errs.As(o.err) == nil || errs.As(o.err).Message != tc.err.Message) {
			t.Errorf("clock %s: %v, want %v", tc.clock.Sub(now), o.err, tc.err)
		}
	}
}

// TestOSSV4PayloadHash: a hex x-oss-content-sha256 is checked as the body
// streams.
func TestOSSV4PayloadHash(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	h := newHarness(t, &Verifier{Creds: creds{ossAK: ossSecret}, Now: at(now)})
	for _, body := range []string{"right", "wrong"} {
		r, _ := http.NewRequest("PUT", h.url+"/bkt/k", strings.NewReader(body))
		sum := sha256.Sum256([]byte("right"))
		r.Header.Set("x-oss-content-sha256", hex.EncodeToString(sum[:]))
		// The SDK signers always send UNSIGNED-PAYLOAD: sign by hand.
		signOSSV4Manually(r, "bkt", "k", now)
		o := h.do(t, r)
		if body == "right" && o.err != nil {
			t.Errorf("right body: %v", o.err)
		}
		if body == "wrong" && !errorsIs(o.err, errs.ContentSHA256Mismatch) {
			t.Errorf("wrong body: %v", o.err)
		}
	}
}

// signOSSV4Manually signs with the server's own canonical forms, for the
// one case the SDK signers cannot produce: a hashed payload.
func signOSSV4Manually(r *http.Request, bucket, key string, t time.Time) {
	req := &ossV4Request{accessKey: ossAK, date: t.Format("20060102"), region: "cn-hangzhou", product: "oss",
		timestamp: t.Format(iso8601Basic), payload: r.Header.Get("x-oss-content-sha256")}
	r.Header.Set("x-oss-date", req.timestamp)
	headers, add := ossV4Headers(r, nil)
	params, _ := parseQueryParams(r.URL.RawQuery)
	cr := r.Method + "\n" + ossEscapePath(ossPath(bucket, key)) + "\n" + ossV4Query(params, "", true) + "\n" + headers + "\n" + add + "\n" + req.payload
	sum := sha256.Sum256([]byte(cr))
	sts := ossV4Algorithm + "\n" + req.timestamp + "\n" + req.scope() + "\n" + hex.EncodeToString(sum[:])
	k := hmacSHA256([]byte("aliyun_v4"+ossSecret), req.date)
	k = hmacSHA256(k, req.region)
	k = hmacSHA256(k, req.product)
	k = hmacSHA256(k, ossV4Terminator)
	r.Header.Set("Authorization", "OSS4-HMAC-SHA256 Credential="+ossAK+"/"+req.scope()+",Signature="+hex.EncodeToString(hmacSHA256(k, sts)))
}

// TestOSSV1SDK drives aliyun-oss-go-sdk (V1, and V4 with its Date-only
// timestamp) and its SignURL against the harness.
func TestOSSV1SDK(t *testing.T) {
	h := newHarness(t, &Verifier{Creds: creds{ossAK: ossSecret}})
	for _, ver := range []osssdk.AuthVersionType{osssdk.AuthV1, osssdk.AuthV4} {
		c, err := osssdk.New(h.url, ossAK, ossSecret, osssdk.AuthVersion(ver), osssdk.Region("cn-hangzhou"),
			osssdk.HTTPClient(h.client), osssdk.EnableCRC(false))
		if err != nil {
			t.Fatal(err)
		}
		bk, _ := c.Bucket("bkt")
		const key = "dir/a b+c.txt"
		// PutObject with encryption headers; the handler answers 200.
		go bk.PutObject(key, bytes.NewReader([]byte("data")), osssdk.ServerSideEncryption("KMS"), osssdk.ServerSideDataEncryption("SM4"))
		o := <-h.out
		if o.err != nil || string(o.body) != "data" || o.res.AccessKeyID != ossAK {
			t.Fatalf("%v PutObject: %+v", ver, o)
		}
		go c.GetBucketEncryption("bkt")
		if o := <-h.out; o.err != nil {
			t.Fatalf("%v GetBucketEncryption: %v", ver, o.err)
		}
		u, err := bk.SignURL(key, osssdk.HTTPGet, 60)
		if err != nil {
			t.Fatal(err)
		}
		o = h.do(t, mustGet(t, u))
		want := SchemeOSSV1Query
		if ver == osssdk.AuthV4 {
			want = SchemeOSSV4Query
		}
		if o.err != nil || o.res.Scheme != want {
			t.Fatalf("%v SignURL %s: %+v", ver, u, o)
		}
	}
}

// TestOSSV1SDKDateOnlyV4 proves the variant: the v1 SDK in V4 mode sends
// no x-oss-date and signs the Date header verbatim.
func TestOSSV1SDKDateOnlyV4(t *testing.T) {
	seen := make(chan http.Header, 1)
	v := &Verifier{Creds: creds{ossAK: ossSecret}}
	h := newHarness(t, v)
	c, _ := osssdk.New(h.url, ossAK, ossSecret, osssdk.AuthVersion(osssdk.AuthV4), osssdk.Region("cn-hangzhou"),
		osssdk.HTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			seen <- r.Header.Clone()
			return h.client.Transport.RoundTrip(r)
		})}))
	go c.GetBucketInfo("bkt")
	hdr := <-seen
	o := <-h.out
	if hdr.Get("x-oss-date") != "" || hdr.Get("Date") == "" || !strings.HasPrefix(hdr.Get("Authorization"), "OSS4-HMAC-SHA256 ") {
		t.Fatalf("not the Date-only variant: %v", hdr)
	}
	if o.err != nil || o.res.Scheme != SchemeOSSV4 {
		t.Fatalf("%+v", o)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func mustGet(t *testing.T, u string) *http.Request {
	r, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
