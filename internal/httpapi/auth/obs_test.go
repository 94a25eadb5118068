package auth

// The Huawei OBS SDK's three signing modes (AWS V2, SigV4 variant, native
// OBS) and their presigned URLs, sent by the real SDK through the loopback
// harness and verified as the server will; plus hand-built OBS requests for
// the negative cases.

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

type obsMode struct {
	name   string
	scheme Scheme
	query  Scheme
	sig    obs.SignatureType
	// virtual: the endpoint is a host name (bucket.s3.test), else an IP.
	virtual bool
}

func obsModes() []obsMode {
	return []obsMode{
		{name: "v2", scheme: SchemeSigV2, query: SchemeSigV2Query, sig: obs.SignatureV2},
		{name: "v4", scheme: SchemeSigV4, query: SchemeSigV4Query, sig: obs.SignatureV4},
		{name: "obs", scheme: SchemeOBS, query: SchemeOBSQuery, sig: obs.SignatureObs, virtual: true},
	}
}

func TestOBSSDKModes(t *testing.T) {
	v := &Verifier{Creds: creds{rtAK: rtSecret}}
	for _, m := range obsModes() {
		t.Run(m.name, func(t *testing.T) {
			h := newHarness(t, v)
			endpoint := h.url
			if m.virtual {
				endpoint = strings.Replace(h.url, "127.0.0.1", "s3.test", 1)
			}
			c, err := obs.New(rtAK, rtSecret, endpoint, obs.WithMaxRetryCount(0),
				obs.WithHttpTransport(h.client.Transport.(*http.Transport)), obs.WithSignature(m.sig), obs.WithRegion("region"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()

			calls := []struct {
				name string
				do   func() error
				body string
			}{
				{name: "put with SSE-KMS, metadata and custom headers", body: "obs body", do: func() error {
					in := &obs.PutObjectInput{}
					in.Bucket, in.Key = "bkt", "dir/a b+c é.txt"
					in.ContentType = "text/plain"
					in.Metadata = map[string]string{"Color": "blue"}
					in.SseHeader = obs.SseKmsHeader{Key: "key-1"}
					in.Body = bytes.NewReader([]byte("obs body"))
					// A custom header must be one the mode signs:
					// V2 signs x-amz-*, the others x-obs-* too.
					prefix := "x-obs-"
					if m.sig == obs.SignatureV2 {
						prefix = "x-amz-"
					}
					_, err := c.PutObject(in, obs.WithCustomHeader(prefix+"server-side-data-encryption", "SM4"))
					return err
				}},
				{name: "get with sub-resources", do: func() error {
					in := &obs.GetObjectInput{ResponseContentType: "application/x-test"}
					in.Bucket, in.Key = "bkt", "k"
					in.RangeStart, in.RangeEnd = 1, 3
					_, err := c.GetObject(in)
					return err
				}},
				{name: "list with an awkward prefix", do: func() error {
					in := &obs.ListObjectsInput{Bucket: "bkt"}
					in.Prefix, in.Delimiter = "a b+c/é", "/"
					_, err := c.ListObjects(in)
					return err
				}},
				{name: "bucket encryption", do: func() error {
					in := &obs.SetBucketEncryptionInput{Bucket: "bkt"}
					in.SSEAlgorithm, in.KMSMasterKeyID, in.ProjectID = "kms", "key-1", "proj-1"
					_, err := c.SetBucketEncryption(in)
					return err
				}},
			}
			for _, call := range calls {
				errc := make(chan error, 1)
				go func() { errc <- call.do() }()
				var o outcome
				select {
				case o = <-h.out:
				case <-time.After(10 * time.Second):
					t.Fatalf("%s: no request reached the handler", call.name)
				}
				if err := <-errc; err != nil {
					t.Fatalf("%s: client: %v", call.name, err)
				}
				if o.err != nil {
					t.Fatalf("%s: %v", call.name, o.err)
				}
				if o.res.Scheme != m.scheme || o.res.AccessKeyID != rtAK {
					t.Fatalf("%s: result %+v", call.name, o.res)
				}
				if call.body != "" && string(o.body) != call.body {
					t.Fatalf("%s: body %q", call.name, o.body)
				}
			}

			// Presigned URLs, used by a plain HTTP client.
			for _, in := range []*obs.CreateSignedUrlInput{
				{Method: obs.HttpMethodGet, Bucket: "bkt", Key: "dir/a b+c.txt", Expires: 300},
				{Method: obs.HttpMethodGet, Bucket: "bkt", Key: "k", Expires: 300, QueryParams: map[string]string{"response-content-type": "text/plain"}},
				{Method: obs.HttpMethodPut, Bucket: "bkt", Key: "k", Expires: 300, Headers: map[string]string{"Content-Type": "text/plain"}},
			} {
				out, err := c.CreateSignedUrl(in)
				if err != nil {
					t.Fatal(err)
				}
				req, _ := http.NewRequest(string(in.Method), out.SignedUrl, strings.NewReader("put"))
				for k, vs := range out.ActualSignedRequestHeaders {
					if !strings.EqualFold(k, "Host") {
						req.Header[k] = vs
					}
				}
				o := h.do(t, req)
				if o.err != nil {
					t.Fatalf("presigned %s %s: %v", in.Method, out.SignedUrl, o.err)
				}
				if o.res.Scheme != m.query || !o.res.Presigned {
					t.Fatalf("presigned: result %+v", o.res)
				}
			}
		})
	}
}

// obsRequest builds a native OBS request signed over sts.
func obsRequest(t *testing.T, target, host string, hdr map[string]string, sts string) *http.Request {
	var b strings.Builder
	b.WriteString("PUT " + target + " HTTP/1.1\nHost: " + host + "\n")
	for k, v := range hdr {
		b.WriteString(k + ": " + v + "\n")
	}
	b.WriteString("Authorization: OBS " + rtAK + ":" + base64Std(hmacSHA1(rtSecret, sts)) + "\n")
	return rawRequest(t, b.String())
}

func TestOBSSignature(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	v := &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(now)}
	date := now.Format(http.TimeFormat)
	old := now.Add(-time.Hour).Format(http.TimeFormat)

	cases := []struct {
		name   string
		target string
		vhost  string
		hdr    map[string]string
		sts    string
		mutate func(*http.Request)
		err    *errs.Error
	}{
		{name: "path style, Date", target: "/bkt/a%20b?uploads", hdr: map[string]string{"Date": date, "Content-Type": "text/plain"},
			sts: "PUT\n\ntext/plain\n" + date + "\n/bkt/a%20b?uploads"},
		{name: "virtual host, x-obs headers sorted", target: "/k?partNumber=2&uploadId=u%2B1&x-obs-foo=a%20b&other=1", vhost: "bkt",
			hdr: map[string]string{"Date": date, "X-Obs-Meta-B": "2", "x-obs-server-side-encryption": "kms"},
			sts: "PUT\n\n\n" + date + "\nx-obs-meta-b:2\nx-obs-server-side-encryption:kms\n/bkt/k?partNumber=2&uploadId=u+1&x-obs-foo=a b"},
		{name: "x-obs-date replaces the Date line", target: "/bkt/k", hdr: map[string]string{"Date": old, "X-Obs-Date": date},
			sts: "PUT\n\n\n\nx-obs-date:" + date + "\n/bkt/k"},
		{name: "tampered x-obs header", target: "/bkt/k", hdr: map[string]string{"Date": date, "X-Obs-Server-Side-Encryption": "kms"},
			sts:    "PUT\n\n\n" + date + "\nx-obs-server-side-encryption:kms\n/bkt/k",
			mutate: func(r *http.Request) { r.Header.Set("X-Obs-Server-Side-Encryption", "AES256") }, err: errs.SignatureDoesNotMatch},
		{name: "an added x-amz header is refused: OBS signs x-obs-* only", target: "/bkt/k", hdr: map[string]string{"Date": date},
			sts: "PUT\n\n\n" + date + "\n/bkt/k", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Copy-Source", "/bkt/secret") }, err: errHeadersNotSigned},
		{name: "wrong resource", target: "/bkt/k2", hdr: map[string]string{"Date": date}, sts: "PUT\n\n\n" + date + "\n/bkt/k", err: errs.SignatureDoesNotMatch},
		{name: "skewed", target: "/bkt/k", hdr: map[string]string{"Date": old}, sts: "PUT\n\n\n" + old + "\n/bkt/k", err: errs.RequestTimeTooSkewed},
		{name: "no date", target: "/bkt/k", sts: "PUT\n\n\n\n/bkt/k", err: errOBSMissingDate},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			host := "127.0.0.1:9000"
			if c.vhost != "" {
				host = c.vhost + ".obs.test:9000"
			}
			r := obsRequest(t, c.target, host, c.hdr, c.sts)
			if c.mutate != nil {
				c.mutate(r)
			}
			res, _, err := verifyAndRead(v, r, c.vhost)
			if c.err != nil {
				if e := errs.As(err); e == nil || e.Code != c.err.Code || e.Message != c.err.Message {
					t.Fatalf("error %v; want %s", err, c.err.Code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Scheme != SchemeOBS || res.AccessKeyID != rtAK {
				t.Fatalf("result %+v", res)
			}
		})
	}

	for _, m := range []string{"OBS " + rtAK, "OBS :c2ln", "OBS " + rtAK + ":"} {
		r := rawRequest(t, "GET /bkt/k HTTP/1.1\nHost: h\nDate: "+date+"\nAuthorization: "+m)
		if _, err := v.Verify(r, ""); !errorsIs(err, errs.AuthorizationHeaderMalformed) {
			t.Fatalf("%q: %v", m, err)
		}
	}
}

func TestOBSPresigned(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	v := &Verifier{Creds: creds{rtAK: rtSecret}, Now: at(now)}
	exp := strconv.FormatInt(now.Add(time.Minute).Unix(), 10)
	sig := func(sts string) string {
		return strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(base64Std(hmacSHA1(rtSecret, sts)))
	}
	get := func(target string) *http.Request {
		return rawRequest(t, "GET "+target+" HTTP/1.1\nHost: 127.0.0.1:9000")
	}
	good := "/bkt/k?AccessKeyId=" + rtAK + "&Expires=" + exp + "&response-content-type=text%2Fplain&Signature=" +
		sig("GET\n\n\n"+exp+"\n/bkt/k?response-content-type=text/plain")
	res, _, err := verifyAndRead(v, get(good), "")
	if err != nil || res.Scheme != SchemeOBSQuery || !res.Presigned || res.Expires.Unix() != now.Add(time.Minute).Unix() {
		t.Fatalf("good: %+v %v", res, err)
	}
	// The signature's '+' sent unescaped arrives as a space.
	plain := base64Std(hmacSHA1(rtSecret, "GET\n\n\n"+exp+"\n/bkt/k"))
	if _, _, err := verifyAndRead(v, get("/bkt/k?AccessKeyId="+rtAK+"&Expires="+exp+"&Signature="+strings.ReplaceAll(plain, "/", "%2F")), ""); err != nil && strings.Contains(plain, "+") {
		t.Fatalf("unescaped '+': %v", err)
	}

	past := strconv.FormatInt(now.Add(-time.Second).Unix(), 10)
	for _, c := range []struct {
		target string
		err    *errs.Error
	}{
		{"/bkt/k?AccessKeyId=" + rtAK + "&Expires=" + past + "&Signature=" + sig("GET\n\n\n"+past+"\n/bkt/k"), errs.ExpiredToken},
		{"/bkt/k?AccessKeyId=" + rtAK + "&Expires=" + exp + "&Signature=" + sig("GET\n\n\n"+exp+"\n/bkt/other"), errs.SignatureDoesNotMatch},
		{"/bkt/k?AccessKeyId=" + rtAK + "&Policy=cG9saWN5&Signature=" + sig("x"), errOBSMissing},
		{"/bkt/k?AccessKeyId=" + rtAK + "&Expires=soon&Signature=" + sig("x"), errOBSMissing},
		{"/bkt/k?AccessKeyId=NOBODY&Expires=" + exp + "&Signature=" + sig("x"), errs.InvalidAccessKeyID},
	} {
		_, err := v.Verify(get(c.target), "")
		if e := errs.As(err); e == nil || e.Code != c.err.Code || e.Message != c.err.Message {
			t.Fatalf("%s: error %v; want %s", c.target, err, c.err.Code)
		}
	}
}

func errorsIs(err error, want *errs.Error) bool {
	e := errs.As(err)
	return e != nil && e.Code == want.Code
}
