package auth

// COS signatures made by the official Go SDK (cos-go-sdk-v5: its
// AuthorizationTransport for header signatures, GetPresignedURL for the
// query form), sent over loopback and verified as the server will.

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	cossdk "github.com/tencentyun/cos-go-sdk-v5"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

const (
	cosAK     = "AKIDstrongroomCOS"
	cosSecret = "cos/s3cr3t+with=odd chars"
)

// cosClient is an http.Client that signs like the COS SDK and dials h.
func cosClient(h *harness, ak, secret string, auth *cossdk.AuthTime) *http.Client {
	return &http.Client{Transport: &cosSignTransport{
		ak: ak, secret: secret, auth: auth, next: h.client.Transport,
	}}
}

// cosSignTransport is the SDK's AuthorizationTransport with an optional
// fixed validity window (the SDK's own always starts now).
type cosSignTransport struct {
	ak, secret string
	auth       *cossdk.AuthTime
	next       http.RoundTripper
	mutate     func(*http.Request)
}

func (t *cosSignTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	at := t.auth
	if at == nil {
		at = cossdk.NewAuthTime(time.Hour)
	}
	cossdk.AddAuthorizationHeader(t.ak, t.secret, "", r, at)
	if t.mutate != nil {
		t.mutate(r)
	}
	return t.next.RoundTrip(r)
}

func authTime(start, end time.Time) *cossdk.AuthTime {
	return &cossdk.AuthTime{SignStartTime: start, SignEndTime: end, KeyStartTime: start, KeyEndTime: end}
}

func TestCOSHeaderRoundTrip(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	v := &Verifier{Creds: creds{cosAK: cosSecret}, Now: at(now)}
	h := newHarness(t, v)
	const body = "hello, strongroom"
	hour := authTime(now, now.Add(time.Hour))

	cases := []struct {
		name    string
		method  string
		url     string
		body    string
		headers map[string]string
		prep    func(*http.Request) // before signing
		ak, sk  string
		auth    *cossdk.AuthTime
		mutate  func(*http.Request)
		err     *errs.Error
	}{
		{name: "PUT object, awkward key, headers", method: "PUT", body: body,
			url: "http://bkt-1250000000.cos.test/dir%2Fa%20b%2Bc=%C3%A9~!'()*.txt",
			headers: map[string]string{
				"Content-Type":                         "text/plain; charset=utf-8",
				"x-cos-server-side-encryption":         "cos/kms",
				"x-cos-meta-Mixed":                     "a b&c=d",
				"x-cos-server-side-encryption-context": "eyJhIjoiYiJ9",
			}},
		{name: "GET bucket encryption (empty parameter)", method: "GET", url: "http://bkt-1250000000.cos.test/?encryption"},
		{name: "list with awkward parameters", method: "GET",
			url: "http://bkt-1250000000.cos.test/?prefix=a%20b%2Bc%2F%C3%A9&max-keys=2&delimiter=%2F&Encoding-Type=url"},
		{name: "repeated header values", method: "PUT", body: body, url: "http://bkt-1250000000.cos.test/k",
			prep: func(r *http.Request) { r.Header.Add("x-cos-meta-a", "2"); r.Header.Add("x-cos-meta-a", "1") }},
		{name: "IP host (pinned listener)", method: "DELETE", url: "/k?uploadId=abc"},
		{name: "start within the skew allowance", method: "GET", url: "/k",
			auth: authTime(now.Add(10*time.Minute), now.Add(time.Hour))},

		{name: "wrong secret", method: "GET", url: "/k", sk: "other", err: errs.SignatureDoesNotMatch},
		{name: "unknown access key", method: "GET", url: "/k", ak: "nobody", err: errs.InvalidAccessKeyID},
		{name: "expired", method: "GET", url: "/k", auth: authTime(now.Add(-2*time.Hour), now.Add(-time.Second)), err: errs.ExpiredToken},
		{name: "not yet valid", method: "GET", url: "/k", auth: authTime(now.Add(time.Hour), now.Add(2*time.Hour)), err: errs.RequestTimeTooSkewed},
		{name: "10-year window, fresh", method: "GET", url: "/k", auth: authTime(now.Add(-time.Minute), now.AddDate(10, 0, 0))},
		{name: "10-year window, replayed after the skew allowance", method: "PUT", body: body, url: "/k",
			auth: authTime(now.Add(-16*time.Minute), now.AddDate(10, 0, 0)), err: errs.RequestTimeTooSkewed},
		{name: "1-hour window, replayed after the skew allowance", method: "GET", url: "/k",
			auth: authTime(now.Add(-20*time.Minute), now.Add(40*time.Minute)), err: errs.RequestTimeTooSkewed},
		{name: "key window replayed after the skew allowance", method: "GET", url: "/k",
			mutate: func(r *http.Request) {
				a := r.Header.Get("Authorization")
				i := strings.Index(a, "q-key-time=")
				j := strings.Index(a[i:], "&")
				old := now.Add(-time.Hour).Unix()
				r.Header.Set("Authorization", a[:i]+"q-key-time="+strconv.FormatInt(old, 10)+";"+strconv.FormatInt(old+1e9, 10)+a[i+j:])
			}, err: errs.RequestTimeTooSkewed},
		{name: "key time expired", method: "GET", url: "/k",
			mutate: func(r *http.Request) {
				a := r.Header.Get("Authorization")
				i := strings.Index(a, "q-key-time=")
				j := strings.Index(a[i:], "&")
				r.Header.Set("Authorization", a[:i]+"q-key-time=1;2"+a[i+j:])
			}, err: errs.ExpiredToken},
		{name: "unsigned x-cos header", method: "PUT", body: body, url: "/k",
			mutate: func(r *http.Request) { r.Header.Set("x-cos-copy-source", "other/key") }, err: errCOSHeadersNotSigned},
		{name: "unsigned x-amz header", method: "PUT", body: body, url: "/k",
			mutate: func(r *http.Request) { r.Header.Set("X-Amz-Copy-Source", "/bkt/secret") }, err: errHeadersNotSigned},
		{name: "unsigned parameter", method: "GET", url: "/k",
			mutate: func(r *http.Request) { r.URL.RawQuery = "acl" }, err: errCOSParamsNotSigned},
		{name: "changed parameter value", method: "GET", url: "/?prefix=a",
			mutate: func(r *http.Request) { r.URL.RawQuery = "prefix=b" }, err: errs.SignatureDoesNotMatch},
		{name: "changed path", method: "GET", url: "/k",
			mutate: func(r *http.Request) { r.URL.Path = "/other" }, err: errs.SignatureDoesNotMatch},
		{name: "changed host (another bucket)", method: "GET", url: "http://bkt-1250000000.cos.test/k",
			mutate: func(r *http.Request) { r.Host = "evil-1250000000.cos.test" }, err: errs.SignatureDoesNotMatch},
		{name: "changed signed header", method: "PUT", body: body, url: "/k",
			headers: map[string]string{"x-cos-server-side-encryption": "AES256"},
			mutate:  func(r *http.Request) { r.Header.Set("x-cos-server-side-encryption", "SM4") }, err: errs.SignatureDoesNotMatch},
		{name: "host not signed", method: "GET", url: "/k",
			mutate: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "q-header-list=host", "q-header-list=", 1))
			}, err: errCOSHostNotSigned},
		{name: "md5 algorithm", method: "GET", url: "/k",
			mutate: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "q-sign-algorithm=sha1", "q-sign-algorithm=md5", 1))
			}, err: errs.AuthorizationHeaderMalformed},
		{name: "short signature", method: "GET", url: "/k",
			mutate: func(r *http.Request) {
				r.Header.Set("Authorization", r.Header.Get("Authorization")[:len(r.Header.Get("Authorization"))-2])
			},
			err: errs.AuthorizationHeaderMalformed},
		{name: "bad time", method: "GET", url: "/k",
			mutate: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "q-sign-time=", "q-sign-time=x", 1))
			}, err: errs.AuthorizationHeaderMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := c.url
			if strings.HasPrefix(u, "/") {
				u = h.url + u
			}
			var rd *strings.Reader
			if c.body != "" {
				rd = strings.NewReader(c.body)
			}
			var r *http.Request
			var err error
			if rd != nil {
				r, err = http.NewRequest(c.method, u, rd)
			} else {
				r, err = http.NewRequest(c.method, u, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, val := range c.headers {
				r.Header.Set(k, val)
			}
			if c.prep != nil {
				c.prep(r)
			}
			if c.body != "" {
				r.Header.Set("Content-Length", "17")
			}
			ak, sk, auth := cosAK, cosSecret, c.auth
			if c.ak != "" {
				ak = c.ak
			}
			if c.sk != "" {
				sk = c.sk
			}
			if auth == nil {
				auth = hour
			}
			cl := cosClient(h, ak, sk, auth)
			cl.Transport.(*cosSignTransport).mutate = c.mutate
			resp, err := cl.Do(r)
			if err == nil {
				resp.Body.Close()
			}
			var o outcome
			select {
			case o = <-h.out:
			case <-time.After(10 * time.Second):
				t.Fatalf("no request reached the handler (client error: %v)", err)
			}
			wantErr(t, o.err, c.err)
			if c.err != nil {
				return
			}
			if o.res.Scheme != SchemeCOS || o.res.AccessKeyID != cosAK || o.res.Presigned {
				t.Fatalf("result = %+v", o.res)
			}
			if string(o.body) != c.body {
				t.Fatalf("body = %q, want %q", o.body, c.body)
			}
		})
	}
}

func TestCOSPresignedRoundTrip(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	v := &Verifier{Creds: creds{cosAK: cosSecret}, Now: at(now)}
	h := newHarness(t, v)
	bu, _ := url.Parse("http://bkt-1250000000.cos.test")
	c := cossdk.NewClient(&cossdk.BaseURL{BucketURL: bu}, nil)
	ctx := context.Background()

	presign := func(t *testing.T, key string, opt any, signHost ...bool) string {
		t.Helper()
		u, err := c.Object.GetPresignedURL(ctx, http.MethodGet, key, cosAK, cosSecret, time.Hour, opt, signHost...)
		if err != nil {
			t.Fatal(err)
		}
		return u.String()
	}
	get := func(t *testing.T, u string, mutate func(*http.Request)) outcome {
		t.Helper()
		r, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			mutate(r)
		}
		return h.do(t, r)
	}

	t.Run("GET", func(t *testing.T) {
		o := get(t, presign(t, "dir/a b+c=é.txt", nil), nil)
		wantErr(t, o.err, nil)
		if o.res.Scheme != SchemeCOSQuery || !o.res.Presigned || o.res.AccessKeyID != cosAK {
			t.Fatalf("result = %+v", o.res)
		}
		if d := o.res.Expires.Sub(now); d < 59*time.Minute || d > 61*time.Minute {
			t.Fatalf("expires in %s", d)
		}
	})
	t.Run("with signed query", func(t *testing.T) {
		opt := &cossdk.PresignedURLOptions{Query: &url.Values{"response-content-type": {"text/plain; a=b"}}}
		wantErr(t, get(t, presign(t, "k", opt), nil).err, nil)
	})
	t.Run("added parameter", func(t *testing.T) {
		o := get(t, presign(t, "k", nil), func(r *http.Request) { r.URL.RawQuery += "&acl" })
		wantErr(t, o.err, errCOSParamsNotSigned)
	})
	t.Run("added x-cos header", func(t *testing.T) {
		o := get(t, presign(t, "k", nil), func(r *http.Request) { r.Header.Set("x-cos-server-side-encryption-customer-algorithm", "AES256") })
		wantErr(t, o.err, errCOSHeadersNotSigned)
	})
	t.Run("other key", func(t *testing.T) {
		o := get(t, presign(t, "k", nil), func(r *http.Request) { r.URL.Path = "/k2" })
		wantErr(t, o.err, errs.SignatureDoesNotMatch)
	})
	t.Run("expired", func(t *testing.T) {
		opt := &cossdk.PresignedURLOptions{AuthTime: authTime(now.Add(-time.Hour), now.Add(-time.Minute))}
		wantErr(t, get(t, presign(t, "k", opt), nil).err, errs.ExpiredToken)
	})
	t.Run("host not signed", func(t *testing.T) {
		wantErr(t, get(t, presign(t, "k", nil, false), nil).err, errCOSHostNotSigned)
	})
	// A presigned window may be as long as S3's (7 days), no longer; its
	// start may be long past (unlike the header form's).
	for _, w := range []struct {
		name       string
		start, end time.Time
		err        *errs.Error
	}{
		{"7-day window", now, now.Add(7 * 24 * time.Hour), nil},
		{"7-day window started 6 days ago", now.Add(-6 * 24 * time.Hour), now.Add(24 * time.Hour), nil},
		{"7 days and a second", now, now.Add(7*24*time.Hour + time.Second), errCOSWindowTooLong},
		{"10-year window", now.Add(-time.Minute), now.AddDate(10, 0, 0), errCOSWindowTooLong},
		{"starts in an hour", now.Add(time.Hour), now.Add(2 * time.Hour), errNotYetValid},
	} {
		t.Run(w.name, func(t *testing.T) {
			opt := &cossdk.PresignedURLOptions{AuthTime: authTime(w.start, w.end)}
			wantErr(t, get(t, presign(t, "k", opt), nil).err, w.err)
		})
	}
	t.Run("duplicate field", func(t *testing.T) {
		o := get(t, presign(t, "k", nil), func(r *http.Request) { r.URL.RawQuery += "&q-ak=other" })
		wantErr(t, o.err, errs.AuthorizationQueryMalformed)
	})
}

// TestCOSEncode pins the percent-encoding to the SDK's.
func TestCOSEncode(t *testing.T) {
	for in, want := range map[string]string{
		"abcXYZ019-_.~":  "abcXYZ019-_.~",
		"a b+c/é!'()*;:": "a%20b%2Bc%2F%C3%A9%21%27%28%29%2A%3B%3A",
		"":               "",
	} {
		if got := cosEncode(in); got != want {
			t.Errorf("cosEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
