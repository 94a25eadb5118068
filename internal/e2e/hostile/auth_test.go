package hostile

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	cossdk "github.com/tencentyun/cos-go-sdk-v5"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// Authentication edges: signatures that live too long, unsigned headers
// that change what a signed request means, and a disabled key that kept
// working through the bucket-key cache.

var root = service.Principal{User: "root", Root: true}

// authNode starts a node with COS and OBS listeners and one bucket.
func authNode(t *testing.T, bucket string) *testnode.Node {
	t.Helper()
	n := testnode.Start(t, testnode.Options{Dialects: []string{"cos", "obs"}})
	if _, err := n.Service.CreateBucket(context.Background(), root, bucket, "", ""); err != nil {
		t.Fatal(err)
	}
	return n
}

type authReply struct {
	status int
	code   string
	header http.Header
}

func send(t *testing.T, n *testnode.Node, r *http.Request) authReply {
	t.Helper()
	resp, err := n.Client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct{ Code string }
	xml.Unmarshal(b, &e)
	return authReply{resp.StatusCode, e.Code, resp.Header}
}

func (r authReply) want(t *testing.T, what string, status int, code string) {
	t.Helper()
	if r.status != status || r.code != code {
		t.Fatalf("%s: %d %s, want %d %s", what, r.status, r.code, status, code)
	}
}

// TestCOSSignatureWindowsBounded: a COS header signature with a 10-year
// window, captured 16 minutes ago, no longer replaces the object with
// another body (it did for the whole window); a fresh one still works. A
// presigned URL may not span more than 7 days.
func TestCOSSignatureWindowsBounded(t *testing.T) {
	t.Parallel()
	n := authNode(t, "cos-1250000000")
	base := n.DialectURL["cos"] + "/cos-1250000000/obj"
	put := func(body string, start time.Time) authReply {
		r, _ := http.NewRequest(http.MethodPut, base, strings.NewReader(body))
		cossdk.AddAuthorizationHeader(n.AccessKey, n.SecretKey, "", r, &cossdk.AuthTime{
			SignStartTime: start, SignEndTime: start.AddDate(10, 0, 0), KeyStartTime: start, KeyEndTime: start.AddDate(10, 0, 0)})
		return send(t, n, r)
	}
	put("original", time.Now()).want(t, "fresh 10-year header signature", 200, "")
	put("replaced", time.Now().Add(-16*time.Minute)).want(t, "the same signature 16 minutes on", 403, "RequestTimeTooSkewed")
	put("replaced", time.Now().AddDate(-1, 0, 0)).want(t, "the same signature a year on", 403, "RequestTimeTooSkewed")

	// Path style on the pinned listener: the bucket is the key's first
	// segment, as for the SDK's own path-style use.
	c := cossdk.NewClient(&cossdk.BaseURL{BucketURL: mustURL(t, n.DialectURL["cos"])}, nil)
	for _, tc := range []struct {
		days   int
		status int
		code   string
	}{{7, 200, ""}, {3650, 403, "AccessDenied"}} {
		start := time.Now()
		u, err := c.Object.GetPresignedURL(context.Background(), http.MethodGet, "cos-1250000000/obj", n.AccessKey, n.SecretKey, 0,
			&cossdk.PresignedURLOptions{AuthTime: &cossdk.AuthTime{SignStartTime: start, SignEndTime: start.AddDate(0, 0, tc.days),
				KeyStartTime: start, KeyEndTime: start.AddDate(0, 0, tc.days)}})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := http.NewRequest(http.MethodGet, u.String(), nil)
		send(t, n, r).want(t, fmt.Sprintf("presigned URL valid for %d days", tc.days), tc.status, tc.code)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// signV2 signs r with AWS Signature Version 2 (as the OBS SDK's default
// mode does): only x-amz-* headers are covered; set unsigned headers
// after.
func signV2(r *http.Request, ak, sk, resource string) {
	date := time.Now().UTC().Format(http.TimeFormat)
	r.Header.Set("Date", date)
	var names []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") {
			names = append(names, lk)
		}
	}
	slices.Sort(names)
	sts := r.Method + "\n\n" + r.Header.Get("Content-Type") + "\n" + date + "\n"
	for _, k := range names {
		sts += k + ":" + r.Header.Get(k) + "\n"
	}
	m := hmac.New(sha1.New, []byte(sk))
	m.Write([]byte(sts + resource))
	r.Header.Set("Authorization", "AWS "+ak+":"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
}

// TestOBSUnsignedHeadersCannotOverride: under SigV2 an x-obs-* header is
// outside the signature. The OBS tolerance for the SDK's encryption
// headers let such a header override the signed x-amz-server-side-
// encryption (downgrading SSE-KMS to SSE-OBS), pick the key of a signed
// aws:kms, and switch an S3 request to the OBS dialect. Now each is 403
// AccessDenied, while the SDK's own use (filling in an unsigned choice on
// the OBS listener) still works.
func TestOBSUnsignedHeadersCannotOverride(t *testing.T) {
	t.Parallel()
	n := authNode(t, "obsb")
	if _, err := n.Keyring.CreateKey(context.Background(), "attacker-key"); err != nil {
		t.Fatal(err)
	}
	put := func(base string, signed, unsigned map[string]string) authReply {
		r, _ := http.NewRequest(http.MethodPut, base+"/obsb/k", strings.NewReader("data"))
		for k, v := range signed {
			r.Header.Set(k, v)
		}
		signV2(r, n.AccessKey, n.SecretKey, "/obsb/k")
		for k, v := range unsigned {
			r.Header.Set(k, v)
		}
		return send(t, n, r)
	}
	obsURL := n.DialectURL["obs"]
	kms := map[string]string{"x-amz-server-side-encryption": "aws:kms"}
	put(obsURL, kms, map[string]string{"x-obs-server-side-encryption": "AES256"}).want(t, "unsigned AES256 over signed aws:kms", 403, "AccessDenied")
	put(obsURL, kms, map[string]string{"x-obs-server-side-encryption-kms-key-id": "attacker-key"}).want(t, "unsigned key id beside signed aws:kms", 403, "AccessDenied")
	put(obsURL, nil, map[string]string{"x-obs-server-side-encryption-customer-algorithm": "AES256"}).want(t, "unsigned SSE-C", 403, "AccessDenied")

	// Filling in what nothing signed (the SDK's custom headers) still works.
	r := put(obsURL, nil, map[string]string{"x-obs-server-side-encryption": "kms"})
	r.want(t, "unsigned method, nothing signed, OBS listener", 200, "")
	if got := r.header.Get("x-obs-server-side-encryption"); got != "kms" {
		t.Fatalf("OBS listener: encryption %q, want kms", got)
	}

	// On the auto-detecting listener the unsigned header no longer makes the
	// request an OBS one (an S3 authReply, no x-obs-request-id), and S3, which
	// does not read it, refuses it rather than storing the object plain.
	r = put(n.URL, nil, map[string]string{"x-obs-server-side-encryption": "kms"})
	r.want(t, "unsigned x-obs header on the main listener", 403, "AccessDenied")
	if r.header.Get("x-obs-request-id") != "" || r.header.Get("x-amz-request-id") == "" {
		t.Fatalf("the unsigned header switched the dialect: %v", r.header)
	}
	o, _, err := n.Service.HeadObject(context.Background(), root, service.GetObjectInput{Bucket: "obsb", Key: "k"})
	if err != nil || o.Encryption == nil || o.Encryption.KeyID == "attacker-key" || sse.Mode(o.Encryption.Mode) != sse.KMS {
		t.Fatalf("stored object: %+v, %v", o, err)
	}
}

// TestDisabledKeyRefusedAtOnce: on a bucket whose default is SSE-KMS with
// bucket keys, disabling the key through the admin API (what the CLI does
// against a running node) refuses the very next PUT and GET with
// KMS.DisabledException; they kept working for the bucket-key cache's
// lifetime.
func TestDisabledKeyRefusedAtOnce(t *testing.T) {
	t.Parallel()
	n := authNode(t, "bkeys")
	ctx := context.Background()
	if _, err := n.Keyring.CreateKey(ctx, "bk-key"); err != nil {
		t.Fatal(err)
	}
	if err := n.Service.PutBucketEncryption(ctx, root, "bkeys", &sse.Config{Mode: sse.KMS, KeyID: "bk-key", BucketKey: true}); err != nil {
		t.Fatal(err)
	}
	do := func(method, key, body string) authReply {
		r, _ := http.NewRequest(method, n.URL+"/bkeys/"+key, strings.NewReader(body))
		sum := sha256.Sum256([]byte(body))
		auth.SignV4(r, n.AccessKey, n.SecretKey, "us-east-1", time.Now(), hex.EncodeToString(sum[:]))
		return send(t, n, r)
	}
	do(http.MethodPut, "a", "one").want(t, "PUT", 200, "")
	do(http.MethodGet, "a", "").want(t, "GET", 200, "")

	r, _ := http.NewRequest(http.MethodPost, n.URL+server.AdminPrefix+"keys/disable?name=bk-key", nil)
	empty := sha256.Sum256(nil)
	auth.SignV4(r, n.AccessKey, n.SecretKey, "us-east-1", time.Now(), hex.EncodeToString(empty[:]))
	if resp, err := n.Client.Do(r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin disable: %v %v", resp, err)
	}
	do(http.MethodPut, "b", "two").want(t, "PUT right after disabling", 400, "KMS.DisabledException")
	do(http.MethodGet, "a", "").want(t, "GET right after disabling", 400, "KMS.DisabledException")
}
