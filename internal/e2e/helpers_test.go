package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

const (
	MiB     = 1 << 20
	partMiB = 5 * MiB // the S3 minimum for every part but the last
	region  = "us-east-1"
)

// TestMain clears the AWS environment: this machine sets AWS_CA_BUNDLE,
// which makes config.LoadDefaultConfig fail with a custom HTTP client, and
// any AWS_ENDPOINT_URL / AWS_PROFILE would point the SDK elsewhere.
func TestMain(m *testing.M) { e2eutil.Main(m) }

// payload returns n pseudo-random bytes from one shared buffer (generated
// once), starting at off, so big tests do not each generate megabytes.
func payload(off, n int) []byte {
	bigOnce.Do(func() {
		bigBuf = make([]byte, 12*MiB)
		rand.Read(bigBuf)
	})
	return bigBuf[off : off+n]
}

var (
	bigOnce sync.Once
	bigBuf  []byte
)

var uniq atomic.Int64

// bucketName returns a fresh, valid bucket name.
func bucketName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, uniq.Add(1))
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func md5b64(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func sha256b64(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// multipartETag computes an S3 multipart ETag independently of the server:
// hex MD5 of the concatenated binary part MD5s, a dash, the part count.
func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		s := md5.Sum(p)
		h.Write(s[:])
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(parts))
}

func quoted(s string) string { return `"` + s + `"` }

// wireCheck wraps a client transport and records every response that
// breaks a rule that holds for all S3 responses: an x-amz-request-id
// header, and no body on a HEAD error.
// It also counts how requests were framed, so a mode can prove it sent
// what it claims (aws-chunked trailers over HTTPS, bucket.localhost hosts).
type wireCheck struct {
	base     http.RoundTripper
	n        atomic.Int64
	mu       sync.Mutex
	problems []string
	seen     map[string]int // payload modes, checksum headers, vhost requests
}

func (w *wireCheck) note(r *http.Request) {
	var kinds []string
	switch v := r.Header.Get("X-Amz-Content-Sha256"); {
	case v == "":
	case len(v) == 64 && strings.Trim(v, "0123456789abcdef") == "":
		kinds = append(kinds, "payload:hex")
	default:
		kinds = append(kinds, "payload:"+v)
	}
	if r.Header.Get("X-Amz-Checksum-Crc32") != "" {
		kinds = append(kinds, "header:x-amz-checksum-crc32")
	}
	if v := r.Header.Get("X-Amz-Trailer"); v != "" {
		kinds = append(kinds, "trailer:"+strings.ToLower(v))
	}
	if r.Method == http.MethodPut && r.ContentLength > 0 && r.Header.Get("X-Amz-Copy-Source") == "" && !r.URL.Query().Has("uploadId") {
		kinds = append(kinds, "put-object")
	}
	if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		kinds = append(kinds, "content-encoding:aws-chunked")
	}
	if h, _, _ := strings.Cut(r.URL.Host, ":"); strings.HasSuffix(h, ".localhost") {
		kinds = append(kinds, "vhost")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil {
		w.seen = map[string]int{}
	}
	for _, k := range kinds {
		w.seen[k]++
	}
}

// saw reports how many requests had a property recorded by note.
func (w *wireCheck) saw(kind string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[kind]
}

func (w *wireCheck) RoundTrip(r *http.Request) (*http.Response, error) {
	w.note(r)
	resp, err := w.base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	w.n.Add(1)
	var bad []string
	if resp.Header.Get("X-Amz-Request-Id") == "" {
		bad = append(bad, fmt.Sprintf("%s %s -> %d: no x-amz-request-id", r.Method, r.URL.Path, resp.StatusCode))
	}
	if r.Method == http.MethodHead && resp.StatusCode >= 300 && resp.ContentLength > 0 {
		bad = append(bad, fmt.Sprintf("HEAD %s -> %d announces a %d-byte body", r.URL.Path, resp.StatusCode, resp.ContentLength))
	}
	if len(bad) > 0 {
		w.mu.Lock()
		w.problems = append(w.problems, bad...)
		w.mu.Unlock()
	}
	return resp, nil
}

// verify fails t if any response broke the rules; call it from a Cleanup
// registered before the subtests, so it runs after all of them.
func (w *wireCheck) verify(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.problems {
		t.Error(p)
	}
	if w.n.Load() == 0 {
		t.Error("wire check saw no responses")
	}
}

// env is one node and how clients reach it in one mode.
type env struct {
	name      string
	node      *testnode.Node
	endpoint  string
	pathStyle bool
	tls       bool
	wire      *wireCheck
	http      *http.Client
}

// mode describes how SDK clients talk to a node.
type mode struct {
	name  string
	tls   bool
	vhost bool // virtual-hosted style: endpoint http://localhost:PORT, every host dialed to the node
}

func newEnv(t *testing.T, m mode) *env {
	t.Helper()
	opts := testnode.Options{TLS: m.tls}
	if m.vhost {
		opts.Domains = []string{"localhost"}
	}
	node := testnode.Start(t, opts)
	base := http.DefaultTransport.(*http.Transport).Clone()
	if tr, ok := node.Client.Transport.(*http.Transport); ok && tr != nil {
		base = tr.Clone()
	}
	base.MaxIdleConnsPerHost = 16
	e := &env{name: m.name, node: node, endpoint: node.URL, pathStyle: true, tls: m.tls}
	if m.vhost {
		// bucket.localhost must reach the node whatever the resolver does.
		_, port, _ := net.SplitHostPort(node.Addr)
		var d net.Dialer
		base.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, node.Addr)
		}
		scheme := "http"
		if m.tls {
			scheme = "https"
		}
		e.endpoint = scheme + "://localhost:" + port
		e.pathStyle = false
	}
	e.wire = &wireCheck{base: base}
	e.http = &http.Client{Transport: e.wire}
	t.Cleanup(func() { e.wire.verify(t) })
	return e
}

// s3Client builds an SDK client the way applications do
// (config.LoadDefaultConfig), pointed at the node.
func (e *env) s3Client(t testing.TB, ak, sk string) *s3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ak, sk, "")),
		config.WithHTTPClient(e.http),
		config.WithSharedConfigFiles([]string{}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithRetryMaxAttempts(1),
		config.WithLogger(logging.Nop{}),
	)
	if err != nil {
		t.Fatalf("loading SDK config: %v", err)
	}
	if cfg.Region != region {
		t.Fatalf("SDK config region %q", cfg.Region)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(e.endpoint)
		o.UsePathStyle = e.pathStyle
	})
}

func (e *env) root(t testing.TB) *s3.Client {
	return e.s3Client(t, e.node.AccessKey, e.node.SecretKey)
}

// user creates a user on the node and returns its credentials.
func (e *env) user(t testing.TB, name string) (ak, sk string) {
	t.Helper()
	c, err := e.node.IAM.CreateUser(context.Background(), name)
	if err != nil {
		t.Fatalf("creating user %s: %v", name, err)
	}
	return c.AccessKey, c.SecretKey
}

// status returns the HTTP status of a successful SDK call.
func status(t testing.TB, md middleware.Metadata) int {
	t.Helper()
	r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok {
		t.Fatal("no raw response in metadata")
	}
	return r.StatusCode
}

// wantAPIError asserts an SDK error's HTTP status and S3 error code.
func wantAPIError(t testing.TB, err error, wantStatus int, wantCode string) {
	t.Helper()
	if err == nil {
		t.Errorf("succeeded, want %d %s", wantStatus, wantCode)
		return
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("want API error %d %s, got %v", wantStatus, wantCode, err)
		return
	}
	if ae.ErrorCode() != wantCode {
		t.Errorf("error code %q, want %q (%v)", ae.ErrorCode(), wantCode, err)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		t.Errorf("no HTTP response in %v", err)
		return
	}
	if re.HTTPStatusCode() != wantStatus {
		t.Errorf("HTTP status %d, want %d (%v)", re.HTTPStatusCode(), wantStatus, err)
	}
}

// must returns v, failing the test if err is set:
// must(c.ListBuckets(ctx, in))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// readAll drains an SDK body; a checksum the SDK validates fails here.
func readAll(t testing.TB, rc io.ReadCloser) []byte {
	t.Helper()
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return b
}

// signedRequest builds a raw request signed with SigV4 like the SDK signs
// S3 requests. payloadHash is the x-amz-content-sha256 value ("" for the
// hex SHA-256 of body). path is the escaped path; rawQuery is appended.
func signedRequest(t testing.TB, baseURL, ak, sk, method, path, rawQuery string, body []byte, hdr http.Header, payloadHash string) *http.Request {
	t.Helper()
	return signedRequestAt(t, time.Now(), baseURL, ak, sk, method, path, rawQuery, body, hdr, payloadHash)
}

// signedRequestAt is signedRequest with a chosen signing time.
func signedRequestAt(t testing.TB, at time.Time, baseURL, ak, sk, method, path, rawQuery string, body []byte, hdr http.Header, payloadHash string) *http.Request {
	t.Helper()
	u := baseURL + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body = http.NoBody
		req.ContentLength = 0
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if cl := hdr.Get("Content-Length"); cl != "" {
		var n int64
		fmt.Sscan(cl, &n)
		req.ContentLength = n
		req.Header.Del("Content-Length")
	}
	if payloadHash == "" {
		payloadHash = sha256hex(body)
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, req, payloadHash, "s3", region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

// do runs a raw request and returns status, headers and body.
func do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s %s: %v", req.Method, req.URL, err)
	}
	return resp, b
}

// tamper flips one byte of the bodies of the requests match selects, at
// offset off of the body as sent (framing included): a body changed in
// transit after the client signed and checksummed it.
type tamper struct {
	base  http.RoundTripper
	match func(*http.Request) bool
	off   int64
	hits  atomic.Int64
}

func (tp *tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody && tp.match(r) {
		tp.hits.Add(1)
		r = r.Clone(r.Context())
		r.Body = &flipReader{rc: r.Body, at: tp.off}
	}
	return tp.base.RoundTrip(r)
}

type flipReader struct {
	rc  io.ReadCloser
	pos int64
	at  int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.rc.Read(p)
	if f.at >= f.pos && f.at < f.pos+int64(n) {
		p[f.at-f.pos] ^= 0x01
	}
	f.pos += int64(n)
	return n, err
}

func (f *flipReader) Close() error { return f.rc.Close() }
