// Package e2ecos proves the Tencent Cloud COS dialect end to end with the
// official Go SDK (github.com/tencentyun/cos-go-sdk-v5), used as a user
// would: every test starts a real strongroom node on loopback
// (internal/testnode) and points COS clients at it by virtual host
// ("<name-appid>.cos.localhost", every host dialled to the node), the only
// addressing COS has.
//
// Covered: bucket encryption for every algorithm (AES256, SM4, KMS with
// and without a key, KMS with SM4) and every error of the seeds; object
// encryption under the bucket default and under request headers; SSE-C
// (put, get without / with a wrong / with the right key, ranges, copies);
// multipart uploads whose combined CRC-64 the SDK checks; presigned URLs;
// addressing variants; and reads across the COS and S3 dialects.
//
// The package holds tests only.
package e2ecos

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/tencentyun/cos-go-sdk-v5"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

const (
	cosDomain = "cos.localhost" // pinned to the COS dialect
	vhDomain  = "vh.localhost"  // no dialect: detected from the signature
	appID     = "1250000000"
	MiB       = 1 << 20
)

var uniq atomic.Int64

// env is one node (HTTPS unless plain) with the COS domain, a domain
// without a dialect and a COS listener.
type env struct {
	t      *testing.T
	node   *testnode.Node
	ctx    context.Context
	scheme string
	port   string
	tr     *http.Transport // dials every host to the node's main listener
}

func newEnv(t *testing.T, plain ...bool) *env {
	t.Helper()
	tlsOn := len(plain) == 0 || !plain[0]
	node := testnode.Start(t, testnode.Options{
		TLS:      tlsOn,
		Domains:  []string{"cos=" + cosDomain, vhDomain},
		Dialects: []string{"cos"},
	})
	e := &env{t: t, node: node, ctx: context.Background(), scheme: "http"}
	if tlsOn {
		e.scheme = "https"
	}
	_, e.port, _ = net.SplitHostPort(node.Addr)
	e.tr = dialTo(node.Addr)
	t.Cleanup(e.tr.CloseIdleConnections)
	return e
}

// dialTo is a transport that sends every host to addr (what a wildcard
// DNS entry for *.cos.<domain> does in a deployment).
func dialTo(addr string) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConnsPerHost: 16,
	}
}

// bucketName is a fresh COS bucket name: name-appid.
func bucketName(prefix string) string {
	return fmt.Sprintf("%s%d-%s", prefix, uniq.Add(1), appID)
}

// bucketURL is the virtual-hosted URL of a bucket under domain.
func (e *env) bucketURL(bucket, domain string) *url.URL {
	u, err := url.Parse(fmt.Sprintf("%s://%s.%s:%s", e.scheme, bucket, domain, e.port))
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// clientFor is a COS client of bucket for the given credentials, as a
// user configures it: BucketURL on the COS domain, the dialling transport
// under the SDK's signing transport, no retries (exact statuses).
func (e *env) clientFor(bucket, ak, sk string) *cos.Client {
	return e.clientAt(e.bucketURL(bucket, cosDomain), ak, sk, e.tr)
}

func (e *env) clientAt(u *url.URL, ak, sk string, tr http.RoundTripper) *cos.Client {
	c := cos.NewClient(&cos.BaseURL{BucketURL: u}, &http.Client{
		Transport: &cos.AuthorizationTransport{SecretID: ak, SecretKey: sk, Transport: tr},
	})
	c.Conf.RetryOpt.Count = 1
	return c
}

// client is the root user's client of bucket.
func (e *env) client(bucket string) *cos.Client {
	return e.clientFor(bucket, e.node.AccessKey, e.node.SecretKey)
}

// bucket creates a fresh bucket through COS and returns its client.
func (e *env) bucket(prefix string) (string, *cos.Client) {
	e.t.Helper()
	name := bucketName(prefix)
	c := e.client(name)
	resp, err := c.Bucket.Put(e.ctx, nil)
	if err != nil {
		e.t.Fatalf("create bucket %s: %v", name, err)
	}
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("create bucket %s: status %d", name, resp.StatusCode)
	}
	return name, c
}

// kmsKey creates a KMS master key on the node's keyring.
func (e *env) kmsKey(name string) string {
	e.t.Helper()
	if _, err := e.node.Keyring.CreateKey(e.ctx, name); err != nil {
		e.t.Fatalf("create KMS key %s: %v", name, err)
	}
	return name
}

// s3Client is an aws-sdk-go-v2 client of the node's S3 dialect (path
// style on the main listener).
func (e *env) s3Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(e.node.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(e.node.AccessKey, e.node.SecretKey, ""),
		HTTPClient:   &http.Client{Transport: e.tr},
		Retryer:      aws.NopRetryer{},
	})
}

// ---------------------------------------------------------------------------
// Objects.

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func crc(b []byte) string {
	return strconv.FormatUint(crc64.Checksum(b, crc64.MakeTable(crc64.ECMA)), 10)
}

// put uploads data with opt (the SDK verifies x-cos-hash-crc64ecma).
func (e *env) put(c *cos.Client, key string, data []byte, opt *cos.ObjectPutHeaderOptions) *cos.Response {
	e.t.Helper()
	var o *cos.ObjectPutOptions
	if opt != nil {
		o = &cos.ObjectPutOptions{ObjectPutHeaderOptions: opt}
	}
	resp, err := c.Object.Put(e.ctx, key, bytes.NewReader(data), o)
	if err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
	if got := resp.Header.Get("x-cos-hash-crc64ecma"); got != crc(data) {
		e.t.Fatalf("put %s: x-cos-hash-crc64ecma %q, want %s", key, got, crc(data))
	}
	return resp
}

// get downloads key and returns its body and response.
func (e *env) get(c *cos.Client, key string, opt *cos.ObjectGetOptions) ([]byte, *cos.Response) {
	e.t.Helper()
	resp, err := c.Object.Get(e.ctx, key, opt)
	if err != nil {
		e.t.Fatalf("get %s: %v", key, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("get %s: reading body: %v", key, err)
	}
	return b, resp
}

// wantSSE checks the encryption headers of a response: mode is the
// x-cos-server-side-encryption value ("" none), keyID the KMS key id.
func wantSSE(t *testing.T, h http.Header, mode, keyID string) {
	t.Helper()
	if got := h.Get("x-cos-server-side-encryption"); got != mode {
		t.Fatalf("x-cos-server-side-encryption = %q, want %q", got, mode)
	}
	if got := h.Get("x-cos-server-side-encryption-cos-kms-key-id"); got != keyID {
		t.Fatalf("x-cos-server-side-encryption-cos-kms-key-id = %q, want %q", got, keyID)
	}
}

// ---------------------------------------------------------------------------
// SSE-C.

type customerKey struct{ alg, key, md5 string }

func newCustomerKey() customerKey {
	k := randBytes(32)
	sum := md5.Sum(k)
	return customerKey{"AES256", base64.StdEncoding.EncodeToString(k), base64.StdEncoding.EncodeToString(sum[:])}
}

func (k customerKey) put() *cos.ObjectPutHeaderOptions {
	return &cos.ObjectPutHeaderOptions{XCosSSECustomerAglo: k.alg, XCosSSECustomerKey: k.key, XCosSSECustomerKeyMD5: k.md5}
}

func (k customerKey) get(rng string) *cos.ObjectGetOptions {
	return &cos.ObjectGetOptions{Range: rng, XCosSSECustomerAglo: k.alg, XCosSSECustomerKey: k.key, XCosSSECustomerKeyMD5: k.md5}
}

// ---------------------------------------------------------------------------
// Errors.

// wantCOSErr asserts an SDK error: a COS error response with exactly
// status and code, whose body's RequestId is the x-cos-request-id header.
// HEAD errors have no body: pass code "".
func wantCOSErr(t *testing.T, err error, status int, code string) *cos.ErrorResponse {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %d %s", status, code)
	}
	e, ok := cos.IsCOSError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a COS error; want %d %s", err, err, status, code)
	}
	if e.Response == nil || e.Response.StatusCode != status || e.Code != code {
		t.Fatalf("error = %v; want %d %s", err, status, code)
	}
	id := e.Response.Header.Get("x-cos-request-id")
	if id == "" {
		t.Fatalf("error response without x-cos-request-id")
	}
	if code != "" && (e.RequestID != id || e.TraceID == "" || e.Resource == "" || e.Message == "") {
		t.Fatalf("error body = %+v; want RequestId %s, a TraceId, Resource and Message", e, id)
	}
	return e
}

// raw sends a request signed by the SDK's signer (for what the SDK hides:
// exact bodies and headers) and returns the response with its body read.
func (e *env) raw(method, rawURL string, body []byte, hdr http.Header) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range hdr {
		r.Header[k] = v
	}
	cl := &http.Client{Transport: &cos.AuthorizationTransport{SecretID: e.node.AccessKey, SecretKey: e.node.SecretKey, Transport: e.tr}}
	resp, err := cl.Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// errorDoc is the COS error document as sent.
type errorDoc struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string
	RequestID string `xml:"RequestId"`
	TraceID   string `xml:"TraceId"`
}

func parseError(t *testing.T, b []byte) errorDoc {
	t.Helper()
	var d errorDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	return d
}

// stripCRC removes x-cos-hash-crc64ecma from responses (to show the SDK
// refuses an upload without it).
type stripCRC struct{ next http.RoundTripper }

func (s stripCRC) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err == nil {
		resp.Header.Del("x-cos-hash-crc64ecma")
	}
	return resp, err
}

// hasAll reports whether s contains every part.
func hasAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func md5b64(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func bytesReader(s string) *bytes.Reader { return bytes.NewReader([]byte(s)) }

func asAPIError(err error, target *smithy.APIError) bool { return errors.As(err, target) }
