package e2eoss

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	osssdk "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// raw sends a request signed by the v2 SDK's own signer (V4, or V1 when
// v1), for what the SDK clients do not let a test see: exact bodies,
// headers and status lines.
func raw(t *testing.T, n *testnode.Node, v1 bool, method, bucket, key, query string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	u := n.DialectURL["oss"] + "/" + bucket + "/" + key
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sc := &signer.SigningContext{
		Product: oss2.Ptr("oss"), Region: oss2.Ptr(region), Bucket: &bucket, Request: req,
		Credentials: &credentials.Credentials{AccessKeyID: n.AccessKey, AccessKeySecret: n.SecretKey},
	}
	if key != "" {
		sc.Key = &key
	}
	if query != "" {
		k, _, _ := strings.Cut(query, "=")
		sc.SubResource = []string{k}
	}
	var s signer.Signer = &signer.SignerV4{}
	if v1 {
		s = &signer.SignerV1{}
	}
	if err := s.Sign(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	resp, err := n.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("x-oss-request-id") == "" {
		t.Errorf("%s %s?%s: no x-oss-request-id", method, u, query)
	}
	return resp, b
}

type errorDoc struct {
	XMLName                                      xml.Name `xml:"Error"`
	Code, Message, RequestId, HostId, BucketName string
	EC                                           string `xml:"EC"`
}

// TestWire checks the documents and headers themselves: the encryption
// rule document (root ServerSideEncryptionRule, no namespace), the seed's
// own request example (an empty KMSMasterKeyID with AES256), exact status
// codes, the error document (Code, Message, RequestId, HostId, BucketName,
// EC, and x-oss-ec), and HEAD errors carried base64-encoded in x-oss-err.
func TestWire(t *testing.T) {
	n := startNode(t)
	for _, v1 := range []bool{false, true} {
		b := bucketName("wire")
		resp, _ := raw(t, n, v1, "PUT", b, "", "", nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PutBucket: %d", resp.StatusCode)
		}

		// Seed 004's request example, verbatim apart from the XML
		// declaration's spacing; sent without Content-MD5, as the v1 SDK does.
		seed := `<?xml version="1.0" encoding="UTF-8"?>
<ServerSideEncryptionRule>
  <ApplyServerSideEncryptionByDefault>
    <SSEAlgorithm>AES256</SSEAlgorithm>
    <KMSMasterKeyID></KMSMasterKeyID>
  </ApplyServerSideEncryptionByDefault>
</ServerSideEncryptionRule>`
		resp, body := raw(t, n, v1, "PUT", b, "", "encryption", []byte(seed), map[string]string{"Content-Type": "application/xml"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PutBucketEncryption (seed example): %d %s", resp.StatusCode, body)
		}
		resp, body = raw(t, n, v1, "GET", b, "", "encryption", nil, nil)
		want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`
		if resp.StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("GetBucketEncryption: %d\n%s\nwant\n%s", resp.StatusCode, body, want)
		}

		// A Content-MD5 that is sent is checked.
		doc := []byte(`<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>KMS</SSEAlgorithm><KMSDataEncryption>SM4</KMSDataEncryption></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>`)
		sum := md5.Sum(append(doc, ' '))
		resp, body = raw(t, n, v1, "PUT", b, "", "encryption", doc, map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])})
		wantErrDoc(t, resp, body, http.StatusBadRequest, "InvalidDigest", "")
		sum = md5.Sum(doc)
		resp, body = raw(t, n, v1, "PUT", b, "", "encryption", doc, map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])})
		if resp.StatusCode != http.StatusOK {
			t.Errorf("PutBucketEncryption with Content-MD5: %d %s", resp.StatusCode, body)
		}
		// S3's document is not OSS's.
		s3doc := `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`
		resp, body = raw(t, n, v1, "PUT", b, "", "encryption", []byte(s3doc), nil)
		wantErrDoc(t, resp, body, http.StatusBadRequest, "MalformedXML", "0016-00000608")

		resp, _ = raw(t, n, v1, "DELETE", b, "", "encryption", nil, nil)
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("DeleteBucketEncryption: %d", resp.StatusCode)
		}
		resp, body = raw(t, n, v1, "GET", b, "", "encryption", nil, nil)
		e := wantErrDoc(t, resp, body, http.StatusNotFound, "NoSuchServerSideEncryptionRule", "0005-00000004")
		if e.BucketName != b {
			t.Errorf("BucketName %q", e.BucketName)
		}

		missing := bucketName("missing")
		resp, body = raw(t, n, v1, "GET", missing, "", "encryption", nil, nil)
		e = wantErrDoc(t, resp, body, http.StatusNotFound, "NoSuchBucket", "0015-00000101")
		if e.BucketName != missing || e.Message != "The specified bucket does not exist." {
			t.Errorf("NoSuchBucket document %+v", e)
		}

		// HEAD: no body; the document is in x-oss-err.
		resp, body = raw(t, n, v1, "HEAD", b, "no such key", "", nil, nil)
		if resp.StatusCode != http.StatusNotFound || len(body) != 0 {
			t.Fatalf("HEAD missing key: %d, %d body bytes", resp.StatusCode, len(body))
		}
		dec, err := base64.StdEncoding.DecodeString(resp.Header.Get("x-oss-err"))
		if err != nil {
			t.Fatalf("x-oss-err: %v", err)
		}
		var hd errorDoc
		if err := xml.Unmarshal(dec, &hd); err != nil || hd.Code != "NoSuchKey" || hd.EC != "0026-00000001" || resp.Header.Get("x-oss-ec") != hd.EC {
			t.Errorf("x-oss-err %s (%v), x-oss-ec %q", dec, err, resp.Header.Get("x-oss-ec"))
		}
	}
}

func wantErrDoc(t *testing.T, resp *http.Response, body []byte, status int, code, ec string) errorDoc {
	t.Helper()
	var e errorDoc
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("error document %q: %v", body, err)
	}
	if resp.StatusCode != status || e.Code != code || e.EC != ec || resp.Header.Get("x-oss-ec") != ec {
		t.Errorf("got %d %+v, x-oss-ec %q; want %d %s EC %q", resp.StatusCode, e, resp.Header.Get("x-oss-ec"), status, code, ec)
	}
	if e.Message == "" || e.RequestId == "" || e.RequestId != resp.Header.Get("x-oss-request-id") || e.HostId == "" {
		t.Errorf("error document fields: %+v", e)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("error Content-Type %q", ct)
	}
	return e
}

// TestPresignExpiry: expired presigned URLs of both versions are refused
// with 403 AccessDenied.
func TestPresignExpiry(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	c := newV1(t, n, n.AccessKey, n.SecretKey, osssdk.AuthV1)
	b := bucketName("exp")
	must(t, c.createBucket(b, sseOpt{}))
	_, err := c.put(b, "k", []byte("data"), sseOpt{})
	must(t, err)
	presign := func(s signer.Signer, until time.Time) *http.Request {
		req, _ := http.NewRequest("GET", n.DialectURL["oss"]+"/"+b+"/k", nil)
		key := "k"
		must(t, s.Sign(context.Background(), &signer.SigningContext{
			Product: oss2.Ptr("oss"), Region: oss2.Ptr(region), Bucket: &b, Key: &key, Request: req,
			Credentials:     &credentials.Credentials{AccessKeyID: n.AccessKey, AccessKeySecret: n.SecretKey},
			AuthMethodQuery: true, Time: until,
		}))
		return req
	}
	do := func(req *http.Request) (*http.Response, []byte) {
		resp, err := n.Client.Do(req)
		must(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, body
	}
	// V1: Expires is an instant.
	resp, body := do(presign(&signer.SignerV1{}, time.Now().Add(-time.Second)))
	wantErrDoc(t, resp, body, http.StatusForbidden, "AccessDenied", "")
	// V4: x-oss-date plus x-oss-expires seconds.
	v4 := presign(&signer.SignerV4{}, time.Now().Add(time.Second))
	if v4.URL.Query().Get("x-oss-expires") != "1" {
		t.Fatalf("x-oss-expires %q", v4.URL.Query().Get("x-oss-expires"))
	}
	time.Sleep(2100 * time.Millisecond)
	resp, body = do(v4)
	wantErrDoc(t, resp, body, http.StatusForbidden, "AccessDenied", "")
}

// TestCannedACL: x-oss-acl on buckets, x-oss-object-acl on objects
// ("default" follows the bucket, the OSS default for new objects); the
// ACL documents; anonymous reads follow them.
func TestCannedACL(t *testing.T) {
	n := startNode(t)
	c := newV1(t, n, n.AccessKey, n.SecretKey, osssdk.AuthV4)
	b := bucketName("acl")
	must(t, c.c.CreateBucket(b, osssdk.ACL(osssdk.ACLPrivate)))
	bk := c.bucket(b)
	must(t, bk.PutObject("inherit", strings.NewReader("i")))
	must(t, bk.PutObject("public", strings.NewReader("p"), osssdk.ObjectACL(osssdk.ACLPublicRead)))
	anon := func(k string) int {
		resp, err := n.Client.Get(n.DialectURL["oss"] + "/" + b + "/" + k)
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := anon("inherit"); got != http.StatusForbidden {
		t.Errorf("anonymous GET under a private bucket: %d", got)
	}
	if got := anon("public"); got != http.StatusOK {
		t.Errorf("anonymous GET of a public-read object: %d", got)
	}
	oa, err := bk.GetObjectACL("inherit")
	must(t, err)
	if oa.ACL != "default" {
		t.Errorf("object ACL %q, want default", oa.ACL)
	}
	must(t, c.c.SetBucketACL(b, osssdk.ACLPublicRead))
	ba, err := c.c.GetBucketACL(b)
	must(t, err)
	if ba.ACL != "public-read" || ba.Owner.ID == "" {
		t.Errorf("bucket ACL %+v", ba)
	}
	if got := anon("inherit"); got != http.StatusOK {
		t.Errorf("anonymous GET of a default-ACL object under a public-read bucket: %d", got)
	}
	must(t, bk.SetObjectACL("inherit", osssdk.ACLPrivate))
	if got := anon("inherit"); got != http.StatusForbidden {
		t.Errorf("anonymous GET of a private object under a public-read bucket: %d", got)
	}
	err = bk.SetObjectACL("inherit", "authenticated-read")
	wantErr(t, err, http.StatusBadRequest, "InvalidArgument")
}

// TestPresignedListing: a bucket-level presigned URL (ListObjects) in both
// versions; the signature parameters are not taken for sub-resources.
func TestPresignedListing(t *testing.T) {
	n := startNode(t)
	c := newV2(t, n, n.AccessKey, n.SecretKey, oss2.SignatureVersionV4)
	b := bucketName("plist")
	must(t, c.createBucket(b, sseOpt{}))
	_, err := c.put(b, "dir/a b+c", []byte("x"), sseOpt{})
	must(t, err)
	for _, v1 := range []bool{true, false} {
		req, _ := http.NewRequest("GET", n.DialectURL["oss"]+"/"+b+"/?prefix=dir%2Fa%20b", nil)
		sc := &signer.SigningContext{
			Product: oss2.Ptr("oss"), Region: oss2.Ptr(region), Bucket: &b, Request: req,
			Credentials:     &credentials.Credentials{AccessKeyID: n.AccessKey, AccessKeySecret: n.SecretKey},
			AuthMethodQuery: true, Time: time.Now().Add(time.Minute),
		}
		var s signer.Signer = &signer.SignerV4{}
		if v1 {
			s = &signer.SignerV1{}
		}
		must(t, s.Sign(context.Background(), sc))
		resp, err := n.Client.Do(req)
		must(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<Key>dir/a b+c</Key>") {
			t.Errorf("v1=%v presigned listing: %d %s", v1, resp.StatusCode, body)
		}
	}
}

// TestForbidOverwrite: x-oss-forbid-overwrite: true refuses to replace an
// existing object and leaves it unchanged; a new key is written.
func TestForbidOverwrite(t *testing.T) {
	n := startNode(t)
	c := newV1(t, n, n.AccessKey, n.SecretKey, osssdk.AuthV4)
	b := bucketName("nooverwrite")
	must(t, c.c.CreateBucket(b))
	bk := c.bucket(b)
	must(t, bk.PutObject("k", strings.NewReader("first"), osssdk.ForbidOverWrite(true)))
	err := bk.PutObject("k", strings.NewReader("second"), osssdk.ForbidOverWrite(true))
	wantErr(t, err, http.StatusPreconditionFailed, "PreconditionFailed")
	r, err := bk.GetObject("k")
	must(t, err)
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "first" {
		t.Fatalf("object after a forbidden overwrite: %q", got)
	}
	must(t, bk.PutObject("k", strings.NewReader("third"), osssdk.ForbidOverWrite(false)))
}
