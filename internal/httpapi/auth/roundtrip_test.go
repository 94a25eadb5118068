package auth

// Round trips through a real HTTP server: requests are signed by independent
// client implementations (aws-sdk-go-v2's SigV4 signer; minio-go's signed
// aws-chunked streams and SigV2), sent over loopback, and verified by the
// handler exactly as the server will.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/minio/minio-go/v7/pkg/signer"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

const (
	rtAK     = "STRONGROOMTESTKEY"
	rtSecret = "s3cr3t/with+odd=chars"
	rtRegion = "eu-west-3"
)

type outcome struct {
	res  *Result
	body []byte
	err  error
}

// harness is a loopback server whose handler verifies each request. Every
// host name dials the server, so virtual-hosted requests ("bkt.s3.test")
// arrive with their own Host header.
type harness struct {
	url    string
	client *http.Client
	out    chan outcome
}

func newHarness(t *testing.T, v *Verifier) *harness {
	h := &harness{out: make(chan outcome, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vhost, _, _ := strings.Cut(r.Host, ".s3.test")
		if vhost == r.Host {
			vhost = ""
		}
		var o outcome
		if o.res, o.err = v.Verify(r, vhost); o.err == nil {
			o.body, o.err = io.ReadAll(o.res.Body)
		}
		h.out <- o
	}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	h.url = "http://" + addr
	h.client = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	return h
}

// do sends r and returns what the handler saw.
func (h *harness) do(t *testing.T, r *http.Request) outcome {
	t.Helper()
	resp, err := h.client.Do(r)
	if err == nil {
		resp.Body.Close()
	}
	select {
	case o := <-h.out:
		return o
	case <-time.After(10 * time.Second):
		t.Fatalf("no request reached the handler (client error: %v)", err)
	}
	return outcome{}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sdkSign(t *testing.T, r *http.Request, ak, secret, payload string, when time.Time) {
	t.Helper()
	r.Header.Set("X-Amz-Content-Sha256", payload)
	s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := s.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: secret}, r, payload, "s3", rtRegion, when); err != nil {
		t.Fatal(err)
	}
}

func TestSDKHeaderRoundTrip(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	h := newHarness(t, &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(now)})

	const body = "hello, strongroom"
	type tc struct {
		name    string
		method  string
		url     string // relative to the server, path already escaped
		body    string
		payload string // "" means the hex SHA-256 of body
		ak      string
		secret  string
		skew    time.Duration
		mutate  func(*http.Request)
		err     *errs.Error
	}
	cases := []tc{
		{name: "PUT, awkward key, query and headers", method: "PUT", body: body,
			url: "/bkt/dir/a%20b+c=%C3%A9~!'()*.txt?x-id=PutObject&tagging=&prefix=a%20b%2Bc&uploads&%E1%88%B4=bar"},
		{name: "virtual host", method: "PUT", body: body, url: "http://bkt.s3.test/key.txt"},
		{name: "GET, UNSIGNED-PAYLOAD", method: "GET", url: "/bkt/key?versionId=3", payload: unsignedPayload},
		{name: "components without spaces (OBS)", method: "PUT", body: body, url: "/bkt/key",
			mutate: func(r *http.Request) {
				r.Header.Set("Authorization", strings.ReplaceAll(r.Header.Get("Authorization"), ", ", ","))
			}},
		{name: "signed header changed", method: "PUT", body: body, url: "/bkt/key", err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) { r.Header.Set("X-Amz-Meta-Color", "red") }},
		{name: "query changed", method: "GET", url: "/bkt/key?versionId=3", payload: unsignedPayload, err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) { r.URL.RawQuery = "versionId=4" }},
		{name: "query parameter added", method: "GET", url: "/bkt/key?versionId=3", payload: unsignedPayload, err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) { r.URL.RawQuery += "&acl" }},
		{name: "path changed", method: "PUT", body: body, url: "/bkt/key", err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) { r.URL.Path = "/bkt/other" }},
		{name: "method changed", method: "PUT", body: body, url: "/bkt/key", err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) { r.Method = "POST" }},
		{name: "replayed to another bucket's host", method: "GET", url: "http://bkt.s3.test/key", payload: unsignedPayload, err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) { r.Host = "evil.s3.test" }},
		{name: "body changed", method: "PUT", body: body, url: "/bkt/key", err: errs.ContentSHA256Mismatch,
			mutate: func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(strings.ToUpper(body))) }},
		{name: "wrong secret", method: "PUT", body: body, url: "/bkt/key", secret: "not-it", err: errs.SignatureDoesNotMatch},
		{name: "unknown access key", method: "PUT", body: body, url: "/bkt/key", ak: "NOBODY", err: errs.InvalidAccessKeyID},
		{name: "clock 14 minutes behind", method: "GET", url: "/bkt/key", payload: unsignedPayload, skew: -14 * time.Minute},
		{name: "clock 16 minutes behind", method: "GET", url: "/bkt/key", payload: unsignedPayload, skew: -16 * time.Minute, err: errs.RequestTimeTooSkewed},
		{name: "clock 16 minutes ahead", method: "GET", url: "/bkt/key", payload: unsignedPayload, skew: 16 * time.Minute, err: errs.RequestTimeTooSkewed},
		{name: "unsigned x-amz header added", method: "PUT", body: body, url: "/bkt/key", err: errHeadersNotSigned,
			mutate: func(r *http.Request) { r.Header.Set("X-Amz-Server-Side-Encryption", "aws:kms") }},
		{name: "payload hash not hex", method: "PUT", body: body, url: "/bkt/key", payload: strings.Repeat("z", 64), err: errBadSHA256},
		{name: "Authorization malformed", method: "GET", url: "/bkt/key", payload: unsignedPayload, err: errs.AuthorizationHeaderMalformed,
			mutate: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=", "Signed=", 1))
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := c.url
			if strings.HasPrefix(u, "/") {
				u = h.url + u
			}
			r, err := http.NewRequest(c.method, u, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", "text/plain")
			r.Header.Set("X-Amz-Meta-Color", "blue  and   green")
			r.Header["X-Amz-Meta-Multi"] = []string{"one", " two "}
			payload, ak, secret := c.payload, c.ak, c.secret
			if payload == "" {
				payload = sha256Hex(c.body)
			}
			if ak == "" {
				ak = rtAK
			}
			if secret == "" {
				secret = rtSecret
			}
			sdkSign(t, r, ak, secret, payload, now.Add(c.skew))
			if c.mutate != nil {
				c.mutate(r)
			}
			o := h.do(t, r)
			wantErr(t, o.err, c.err)
			if o.err == nil && (string(o.body) != c.body || o.res.AccessKeyID != rtAK || o.res.Scheme != SchemeSigV4 || o.res.Region != rtRegion) {
				t.Fatalf("body %q, result %+v", o.body, o.res)
			}
		})
	}
}

func TestSDKPresignRoundTrip(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	type tc struct {
		name    string
		method  string
		expires string
		signAt  time.Duration // signing time relative to now
		sse     bool          // sign an x-amz-server-side-encryption header
		mutate  func(*http.Request)
		err     *errs.Error
	}
	cases := []tc{
		{name: "GET", method: "GET", expires: "300"},
		{name: "GET at the last valid second", method: "GET", expires: "300", signAt: -300 * time.Second},
		{name: "GET expired", method: "GET", expires: "300", signAt: -301 * time.Second, err: errs.ExpiredToken},
		{name: "GET signed for later", method: "GET", expires: "300", signAt: time.Hour, err: errNotYetValid},
		{name: "longer than a week", method: "GET", expires: "604801", err: errs.AuthorizationQueryMalformed},
		{name: "query parameter added", method: "GET", expires: "300", err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) { r.URL.RawQuery += "&response-content-type=text%2Fhtml" }},
		{name: "expiry extended", method: "GET", expires: "300", err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=300", "X-Amz-Expires=600", 1)
			}},
		{name: "PUT with a signed SSE header", method: "PUT", expires: "300", sse: true},
		{name: "PUT without the signed SSE header", method: "PUT", expires: "300", sse: true, err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) { r.Header.Del("X-Amz-Server-Side-Encryption") }},
		{name: "PUT with an unsigned x-amz header", method: "PUT", expires: "300", err: errHeadersNotSigned,
			mutate: func(r *http.Request) { r.Header.Set("X-Amz-Acl", "public-read") }},
		// Vendor headers select a dialect and carry meaning there: a
		// presigned PUT must not turn into a copy of another object.
		{name: "PUT with an unsigned OSS copy source", method: "PUT", expires: "300", err: errHeadersNotSigned,
			mutate: func(r *http.Request) { r.Header.Set("X-Oss-Copy-Source", "/bkt/secret") }},
		{name: "PUT with an unsigned OBS copy source", method: "PUT", expires: "300", err: errHeadersNotSigned,
			mutate: func(r *http.Request) { r.Header.Set("X-Obs-Copy-Source", "/bkt/secret") }},
		{name: "PUT with an unsigned COS copy source", method: "PUT", expires: "300", err: errHeadersNotSigned,
			mutate: func(r *http.Request) { r.Header.Set("X-Cos-Copy-Source", "bkt.cos.test/secret") }},
		{name: "header and query auth at once", method: "GET", expires: "300", err: errMultipleAuth,
			mutate: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x") }},
	}
	h := newHarness(t, &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(now)})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := http.NewRequest(c.method, h.url+"/bkt/a%20b.txt?X-Amz-Expires="+c.expires, nil)
			if c.sse {
				r.Header.Set("X-Amz-Server-Side-Encryption", "AES256")
			}
			s := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
			signed, hdr, err := s.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: rtAK, SecretAccessKey: rtSecret},
				r, unsignedPayload, "s3", rtRegion, now.Add(c.signAt))
			if err != nil {
				t.Fatal(err)
			}
			const body = "presigned body"
			req, _ := http.NewRequest(c.method, signed, strings.NewReader(body))
			for k, vs := range hdr {
				if k != "Host" {
					req.Header[k] = vs
				}
			}
			if c.mutate != nil {
				c.mutate(req)
			}
			o := h.do(t, req)
			wantErr(t, o.err, c.err)
			if o.err == nil && (!o.res.Presigned || o.res.Scheme != SchemeSigV4Query || string(o.body) != body ||
				!o.res.Expires.Equal(now.Add(c.signAt).Add(300*time.Second))) {
				t.Fatalf("result %+v, body %q", o.res, o.body)
			}
		})
	}
}

// SignV4 and PresignV4 reproduce the S3 documentation's signatures.
func TestSignV4Helpers(t *testing.T) {
	r, _ := http.NewRequest("GET", "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	r.Header.Set("Range", "bytes=0-9")
	SignV4(r, docAK, docSecret, "us-east-1", docTime, emptySHA256)
	if got := r.Header.Get("Authorization"); !strings.HasSuffix(got, "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") {
		t.Fatalf("SignV4: %s", got)
	}
	p, _ := http.NewRequest("GET", "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	PresignV4(p, docAK, docSecret, "us-east-1", docTime, 24*time.Hour)
	if !strings.HasSuffix(p.URL.RawQuery, "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404") {
		t.Fatalf("PresignV4: %s", p.URL.RawQuery)
	}

	// And both verify over the wire, with an awkward key and query.
	now := time.Now().UTC().Truncate(time.Second)
	h := newHarness(t, &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(now)})
	for _, presign := range []bool{false, true} {
		r, _ := http.NewRequest("PUT", h.url+"/bkt/x%2By%20z?tagging&prefix=%2F", strings.NewReader("data"))
		r.Header.Set("X-Amz-Meta-A", "1")
		if presign {
			r.Header.Del("X-Amz-Meta-A") // only host is signed by PresignV4
			PresignV4(r, rtAK, rtSecret, rtRegion, now, time.Minute)
		} else {
			SignV4(r, rtAK, rtSecret, rtRegion, now, sha256Hex("data"))
		}
		o := h.do(t, r)
		wantErr(t, o.err, nil)
		if string(o.body) != "data" || o.res.Presigned != presign {
			t.Fatalf("presign=%v: body %q, result %+v", presign, o.body, o.res)
		}
	}
}

// sha256Hasher adapts crypto/sha256 to minio-go's hasher interface.
type sha256Hasher struct{ hash.Hash }

func (sha256Hasher) Close() {}

// flipAt corrupts one byte of a stream at offset n: a lowercase hex digit
// becomes another one (so a signature stays well-formed), anything else
// changes case.
type flipAt struct {
	r   io.ReadCloser
	n   int64
	off int64
}

func (f *flipAt) Read(p []byte) (int, error) {
	k, err := f.r.Read(p)
	if f.n >= f.off && f.n < f.off+int64(k) {
		c := &p[f.n-f.off]
		switch {
		case '0' <= *c && *c <= '9':
			*c ^= 1
		case 'a' <= *c && *c <= 'f':
			*c = 'a' + (*c-'a'+1)%6
		default:
			*c ^= 0x20
		}
	}
	f.off += int64(k)
	return k, err
}

func (f *flipAt) Close() error { return f.r.Close() }

func TestMinioStreamingRoundTrip(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	h := newHarness(t, &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(now)})
	data := make([]byte, 200<<10+123) // three full 64 KiB chunks and a partial one
	rand.NewChaCha8([32]byte{1}).Read(data)

	type tc struct {
		name     string
		signed   bool
		trailer  bool
		corrupt  int64 // 1 + offset in the encoded stream of a byte to flip; 0 for none
		err      *errs.Error
		trailers string // expected X-Amz-Checksum-Crc32c
	}
	cases := []tc{
		{name: "signed chunks", signed: true},
		{name: "signed chunks with signed trailer", signed: true, trailer: true, trailers: "AAAAAA=="},
		{name: "signed chunks, data byte corrupted", signed: true, corrupt: 100000, err: errs.SignatureDoesNotMatch},
		{name: "signed chunks, chunk signature corrupted", signed: true, corrupt: 1 + 30, err: errs.SignatureDoesNotMatch},
		{name: "signed chunks, size changed to 0", signed: true, corrupt: 1, err: errs.SignatureDoesNotMatch},
		{name: "signed chunks, header separator corrupted", signed: true, corrupt: 1 + 5, err: errs.InvalidChunkedEncoding},
		{name: "unsigned chunks with trailer", trailer: true, trailers: "AAAAAA=="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := http.NewRequest("PUT", h.url+"/bkt/big.bin", bytes.NewReader(data))
			if c.trailer {
				r.Trailer = http.Header{"x-amz-checksum-crc32c": {"AAAAAA=="}}
			}
			if c.signed {
				r = signer.StreamingSignV4(r, rtAK, rtSecret, "", rtRegion, int64(len(data)), now, sha256Hasher{sha256.New()})
			} else {
				// minio-go frames the body; the head is signed like the Go SDK's.
				r = signer.StreamingUnsignedV4(r, "", int64(len(data)), now)
				r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
				r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32c")
				sdkSign(t, r, rtAK, rtSecret, streamingUnsignedTrailer, now)
			}
			if c.corrupt > 0 {
				r.Body = &flipAt{r: r.Body, n: c.corrupt - 1}
			}
			o := h.do(t, r)
			wantErr(t, o.err, c.err)
			if o.err != nil {
				return
			}
			if !bytes.Equal(o.body, data) || o.res.ContentLength != int64(len(data)) || o.res.Trailer.Get("X-Amz-Checksum-Crc32c") != c.trailers {
				t.Fatalf("decoded %d bytes (want %d), ContentLength %d, trailer %v", len(o.body), len(data), o.res.ContentLength, o.res.Trailer)
			}
		})
	}
}

func TestMinioV2RoundTrip(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	h := newHarness(t, &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(now)})
	type tc struct {
		name    string
		url     string
		vhost   bool
		presign bool
		mutate  func(*http.Request)
		err     *errs.Error
	}
	cases := []tc{
		{name: "path style, sub-resources", url: "/bkt/photos/a%20b.jpg?uploadId=xyz&partNumber=2&foo=bar" +
			"&response-content-disposition=attachment%3B%20filename%3D%22a%20b%2Bc%22"},
		{name: "virtual host", url: "http://bkt.s3.test/photos/a.jpg?acl", vhost: true},
		{name: "presigned", url: "/bkt/photos/a.jpg?versionId=7", presign: true},
		{name: "presigned, virtual host", url: "http://bkt.s3.test/photos/a.jpg", vhost: true, presign: true},
		{name: "sub-resource changed", url: "/bkt/k?uploadId=xyz", err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) { r.URL.RawQuery = "uploadId=xyw" }},
		{name: "x-amz header added", url: "/bkt/k", err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) { r.Header.Set("X-Amz-Acl", "public-read") }},
		// One second after the Date signed, which minio-go takes from its
		// own clock: now+1s would be no change when its second has ticked.
		{name: "Date changed", url: "/bkt/k", err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) {
				d, err := http.ParseTime(r.Header.Get("Date"))
				if err != nil {
					panic(err)
				}
				r.Header.Set("Date", d.Add(time.Second).Format(http.TimeFormat))
			}},
		{name: "presigned, path changed", url: "/bkt/k", presign: true, err: errs.SignatureDoesNotMatch,
			mutate: func(r *http.Request) { r.URL.Path = "/bkt/j" }},
		// V2 signs x-amz-* only; a vendor header would be outside it.
		{name: "presigned, x-oss header added", url: "/bkt/k", presign: true, err: errHeadersNotSigned,
			mutate: func(r *http.Request) { r.Header.Set("X-Oss-Copy-Source", "/bkt/secret") }},
		{name: "x-obs header added", url: "/bkt/k", err: errHeadersNotSigned,
			mutate: func(r *http.Request) { r.Header.Set("X-Obs-Acl", "public-read") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := c.url
			if strings.HasPrefix(u, "/") {
				u = h.url + u
			}
			r, _ := http.NewRequest("PUT", u, strings.NewReader("v2 body"))
			r.Header.Set("Content-Type", "image/jpeg")
			if c.presign {
				r = signer.PreSignV2(*r, rtAK, rtSecret, 60, c.vhost)
			} else {
				r.Header.Set("X-Amz-Meta-Owner", "me")
				r = signer.SignV2(*r, rtAK, rtSecret, c.vhost)
			}
			if c.mutate != nil {
				c.mutate(r)
			}
			o := h.do(t, r)
			wantErr(t, o.err, c.err)
			if o.err == nil && (string(o.body) != "v2 body" || o.res.AccessKeyID != rtAK || o.res.Presigned != c.presign) {
				t.Fatalf("body %q, result %+v", o.body, o.res)
			}
		})
	}
}

// The OBS SDK's variants: V4 signing the raw query ('+' for spaces) with the
// time taken from Date, and V2 putting x-amz-* query parameters in the
// resource. The signatures are computed here from the rules in dialects.md
// §5.1, independently of the verifier's canonicalization.
func TestOBSVariants(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	v := &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(now)}
	date := now.Format(http.TimeFormat)
	iso := now.Format(iso8601Basic)
	scope := v4Scope{accessKey: rtAK, date: iso[:8], region: "region", service: "s3"}

	v4req := func(query string) *http.Request {
		cr := "GET\n/bkt\n" + query + "\ndate:" + date + "\nhost:127.0.0.1:9000\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n\n" +
			"date;host;x-amz-content-sha256\nUNSIGNED-PAYLOAD"
		sig := hex.EncodeToString(hmacSHA256(signingKey(rtSecret, scope), "AWS4-HMAC-SHA256\n"+iso+"\n"+scope.String()+"\n"+sha256Hex(cr)))
		return rawRequest(t, "GET /bkt?"+query+" HTTP/1.1\nHost: 127.0.0.1:9000\nDate: "+date+
			"\nX-Amz-Content-Sha256: UNSIGNED-PAYLOAD\nAuthorization: AWS4-HMAC-SHA256 Credential="+rtAK+"/"+scope.String()+
			",SignedHeaders=date;host;x-amz-content-sha256,Signature="+sig)
	}
	for _, q := range []string{"delimiter=%2F&prefix=a+b%2Fc+%C3%A9", "delimiter=%2F&prefix=a%20b"} {
		if _, _, err := verifyAndRead(v, v4req(q), ""); err != nil {
			t.Fatalf("OBS V4 %q: %v", q, err)
		}
	}

	v2req := func(resource string) *http.Request {
		sts := "GET\n\n\n" + date + "\n" + resource
		sig := base64Std(hmacSHA1(rtSecret, sts))
		return rawRequest(t, "GET /bkt/obj?acl&x-amz-foo=bar%20baz&prefix=p HTTP/1.1\nHost: 127.0.0.1:9000\nDate: "+date+
			"\nAuthorization: AWS "+rtAK+":"+sig)
	}
	for _, res := range []string{"/bkt/obj?acl", "/bkt/obj?acl&x-amz-foo=bar baz"} {
		if _, _, err := verifyAndRead(v, v2req(res), ""); err != nil {
			t.Fatalf("V2 resource %q: %v", res, err)
		}
	}
	_, _, err := verifyAndRead(v, v2req("/bkt/obj?acl&prefix=p"), "")
	wantErr(t, err, errs.SignatureDoesNotMatch)
}
