// Package e2esse proves server-side encryption end to end: every test
// starts real strongroom nodes over HTTPS on loopback (internal/testnode)
// and drives them with aws-sdk-go-v2, minio-go v7 (and its SSE helpers)
// and raw SigV4-signed requests where no SDK can express a case.
//
// Besides the functional tables (modes, errors, ranges, copies, multipart,
// presigned URLs, bucket defaults, bucket keys) it holds the security
// proofs: no plaintext canary and no SSE-C key on disk or in the logs, no
// key in any response, and no altered byte ever served from a tampered
// blob. The package holds tests only.
package e2esse

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
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

const (
	region  = "us-east-1"
	KiB     = 1 << 10
	MiB     = 1 << 20
	seg     = 64 * KiB // sealed segment size (sealed.DefaultSegmentSize)
	partMin = 5 * MiB  // S3 minimum for every part but the last
)

// TestMain clears the AWS environment before any test runs: this machine
// sets AWS_CA_BUNDLE (which breaks SDK config loading with a custom HTTP
// client), and AWS_ENDPOINT_URL / AWS_PROFILE would point the SDK
// elsewhere. t.Setenv cannot be used here because the tests run in
// parallel; unsetting once, before them, has the same effect.
func TestMain(m *testing.M) { e2eutil.Main(m) }

// ---------------------------------------------------------------------------
// Environment: one HTTPS node, its logs, and clients.

// env is one TLS node with a Debug-level log buffer and an SDK client.
type env struct {
	t    *testing.T
	node *testnode.Node
	logs *syncBuffer
	wire *leakCheck
	c    *s3.Client
	ctx  context.Context
}

type envOptions struct {
	plainHTTP    bool     // no TLS (SSE-C must be refused)
	insecureSSEC bool     // ... unless the operator allows it
	dataDir      string   // reuse a data directory (restart)
	dialects     []string // vendor listeners (testnode.Options.Dialects)
}

func newEnv(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	node := testnode.Start(t, testnode.Options{TLS: !o.plainHTTP, Logger: logger, InsecureSSEC: o.insecureSSEC, DataDir: o.dataDir, Dialects: o.dialects})
	base := node.Client.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	if tr, ok := base.(*http.Transport); ok {
		tr.MaxIdleConnsPerHost = 32 // concurrent tests reuse TLS connections
	}
	e := &env{t: t, node: node, logs: logs, ctx: context.Background()}
	e.wire = &leakCheck{base: base}
	// Every request of this package goes through the node's own client; its
	// transport additionally checks every response for leaked key material.
	node.Client.Transport = e.wire
	e.c = e.client(node.AccessKey, node.SecretKey)
	t.Cleanup(func() {
		e.wire.verify(t)
		e.scanSecrets(t)
		// Runs before the node's own cleanup: drop idle connections so its
		// graceful shutdown does not wait on connections that were dialed
		// but never used (the server counts those as active for 5 s).
		if tr, ok := base.(interface{ CloseIdleConnections() }); ok {
			tr.CloseIdleConnections()
		}
	})
	return e
}

// scanSecrets proves, for every test, that no SSE-C key it used (raw,
// base64) nor its MD5 (raw, base64, hex) reached a file under the data
// directory or the logs.
func (e *env) scanSecrets(t *testing.T) {
	t.Helper()
	var needles [][]byte
	for _, s := range e.wire.snapshot() {
		needles = append(needles, s.raw, s.b64, s.md5raw, s.md5b64, s.md5hex)
	}
	if len(needles) == 0 {
		return
	}
	for path := range findInFiles(t, e.node.DataDir, needles) {
		t.Errorf("SSE-C key material found in %s", path)
	}
	logs := e.logs.Bytes()
	for _, nd := range needles {
		if bytes.Contains(logs, nd) {
			t.Errorf("SSE-C key material found in the logs")
			break
		}
	}
}

// client builds an SDK client from s3.Options directly, with the checksum
// policy config.LoadDefaultConfig would give ("when supported") and no
// retries (so KMS call counts and error statuses are exact).
func (e *env) client(ak, sk string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     region,
		BaseEndpoint:               aws.String(e.node.URL),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(ak, sk, ""),
		HTTPClient:                 e.node.Client,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		Retryer:                    aws.NopRetryer{},
	})
}

// bucket creates a fresh bucket.
func (e *env) bucket(prefix string) string {
	e.t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, uniq.Add(1))
	if _, err := e.c.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		e.t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

// kmsKey creates a KMS master key on the node's builtin keyring.
func (e *env) kmsKey(name string) {
	e.t.Helper()
	if _, err := e.node.Keyring.CreateKey(e.ctx, name); err != nil {
		e.t.Fatalf("create KMS key %s: %v", name, err)
	}
}

// customerKey returns a fresh SSE-C key, registered as a secret the
// transport and the final scans look for.
func (e *env) customerKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	e.wire.addSecret(k)
	return k
}

var uniq atomic.Int64

// syncBuffer is the node's log sink, with helpers for the assertions.
type syncBuffer struct{ e2eutil.LogBuffer }

// errorLines returns the log lines at level ERROR.
func (s *syncBuffer) errorLines() []string {
	var out []string
	for _, l := range strings.Split(string(s.Bytes()), "\n") {
		if strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Secrets on the wire.

// secret is one SSE-C key in every form that must not leak.
type secret struct {
	raw, b64, md5raw, md5b64, md5hex []byte
}

func newSecret(key []byte) secret {
	sum := md5.Sum(key)
	return secret{
		raw:    bytes.Clone(key),
		b64:    []byte(base64.StdEncoding.EncodeToString(key)),
		md5raw: sum[:],
		md5b64: []byte(base64.StdEncoding.EncodeToString(sum[:])),
		md5hex: []byte(hex.EncodeToString(sum[:])),
	}
}

// leakCheck wraps the node client's transport. For every response it
// checks that no header and no body byte carries an SSE-C key (raw or
// base64), and that no error response (status >= 300: headers and body)
// carries a key's MD5. Bodies are scanned as the client reads them.
type leakCheck struct {
	base     http.RoundTripper
	mu       sync.Mutex
	secrets  []secret
	problems []string
	n        atomic.Int64
}

func (l *leakCheck) addSecret(k []byte) {
	l.mu.Lock()
	l.secrets = append(l.secrets, newSecret(k))
	l.mu.Unlock()
}

func (l *leakCheck) snapshot() []secret {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]secret(nil), l.secrets...)
}

func (l *leakCheck) report(format string, args ...any) {
	l.mu.Lock()
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// needles are the forms of the secrets a response must not contain.
func (l *leakCheck) needles(errorResponse bool) [][]byte {
	var out [][]byte
	for _, s := range l.snapshot() {
		out = append(out, s.raw, s.b64)
		if errorResponse {
			out = append(out, s.md5b64, s.md5hex)
		}
	}
	return out
}

func (l *leakCheck) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	l.n.Add(1)
	what := r.Method + " " + r.URL.Path
	needles := l.needles(resp.StatusCode >= 300)
	for name, vs := range resp.Header {
		for _, v := range vs {
			for _, nd := range needles {
				if strings.Contains(v, string(nd)) {
					l.report("%s -> %d: header %s carries SSE-C key material", what, resp.StatusCode, name)
				}
			}
		}
	}
	if len(needles) > 0 && resp.Body != nil {
		resp.Body = &scanBody{rc: resp.Body, needles: needles, onHit: func() {
			l.report("%s -> %d: body carries SSE-C key material", what, resp.StatusCode)
		}}
	}
	return resp, nil
}

func (l *leakCheck) verify(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.problems {
		t.Error("leak: " + p)
	}
}

// scanBody looks for needles in a body as it is read, across read
// boundaries (it keeps the last maxLen-1 bytes).
type scanBody struct {
	rc      io.ReadCloser
	needles [][]byte
	onHit   func()
	tail    []byte
	hit     bool
}

func (s *scanBody) Read(p []byte) (int, error) {
	n, err := s.rc.Read(p)
	if n > 0 && !s.hit {
		maxLen := 0
		for _, nd := range s.needles {
			maxLen = max(maxLen, len(nd))
		}
		win := append(s.tail, p[:n]...)
		for _, nd := range s.needles {
			if bytes.Contains(win, nd) {
				s.hit = true
				s.onHit()
				break
			}
		}
		if keep := maxLen - 1; len(win) > keep {
			win = win[len(win)-keep:]
		}
		s.tail = append(s.tail[:0], win...)
	}
	return n, err
}

func (s *scanBody) Close() error { return s.rc.Close() }

// ---------------------------------------------------------------------------
// Encryption modes.

type kind int

const (
	kNone kind = iota
	kS3        // SSE-S3: x-amz-server-side-encryption: AES256
	kKMS       // SSE-KMS: aws:kms, with or without a key id
	kSSEC      // SSE-C
)

// mode is how a request asks for encryption. Its headers come from
// minio-go's SSE helpers (encrypt.NewSSE / NewSSEKMS / NewSSEC), and are
// mapped onto the SDK's input fields.
type mode struct {
	name      string
	kind      kind
	keyID     string            // SSE-KMS key id as the client names it ("" = default)
	context   map[string]string // SSE-KMS encryption context
	bucketKey bool              // x-amz-server-side-encryption-bucket-key-enabled: true
	key       []byte            // SSE-C key
}

var (
	none  = mode{name: "none", kind: kNone}
	sseS3 = mode{name: "SSE-S3", kind: kS3}
)

func sseKMS(keyID string) mode {
	name := "SSE-KMS"
	if keyID != "" {
		name += "(" + keyID + ")"
	}
	return mode{name: name, kind: kKMS, keyID: keyID}
}

func sseC(key []byte, name string) mode { return mode{name: name, kind: kSSEC, key: key} }

// headers marshals the mode's request headers with minio-go's helpers.
func (m mode) headers() http.Header {
	h := http.Header{}
	var s encrypt.ServerSide
	var err error
	switch m.kind {
	case kNone:
		return h
	case kS3:
		s = encrypt.NewSSE()
	case kKMS:
		var c any
		if m.context != nil {
			c = m.context
		}
		s, err = encrypt.NewSSEKMS(m.keyID, c)
	case kSSEC:
		s, err = encrypt.NewSSEC(m.key)
	}
	if err != nil {
		panic(err)
	}
	s.Marshal(h)
	if m.bucketKey {
		h.Set("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled", "true")
	}
	return h
}

// copySourceHeaders are the x-amz-copy-source-server-side-encryption-
// customer-* headers for an SSE-C source (empty for other modes).
func (m mode) copySourceHeaders() http.Header {
	h := http.Header{}
	if m.kind == kSSEC {
		s, err := encrypt.NewSSEC(m.key)
		if err != nil {
			panic(err)
		}
		encrypt.SSECopy(s).Marshal(h)
	}
	return h
}

func hp(h http.Header, name string) *string {
	if v := h.Get(name); v != "" {
		return aws.String(v)
	}
	return nil
}

// customer returns the SSE-C triple (nil pointers for other modes).
func (m mode) customer() (alg, key, md5 *string) {
	h := m.headers()
	return hp(h, encrypt.SseCustomerAlgorithm), hp(h, encrypt.SseCustomerKey), hp(h, encrypt.SseCustomerKeyMD5)
}

func (m mode) copySource() (alg, key, md5 *string) {
	h := m.copySourceHeaders()
	return hp(h, encrypt.SseCopyCustomerAlgorithm), hp(h, encrypt.SseCopyCustomerKey), hp(h, encrypt.SseCopyCustomerKeyMD5)
}

// writeFields are the fields every SDK write input shares.
type writeFields struct {
	sse                 types.ServerSideEncryption
	kmsKeyID, kmsCtx    *string
	bucketKey           *bool
	calg, ckey, ckeyMD5 *string
}

func (m mode) write() writeFields {
	h := m.headers()
	w := writeFields{
		sse:      types.ServerSideEncryption(h.Get(encrypt.SseGenericHeader)),
		kmsKeyID: hp(h, encrypt.SseKmsKeyID),
		kmsCtx:   hp(h, encrypt.SseEncryptionContext),
	}
	if m.bucketKey {
		w.bucketKey = aws.Bool(true)
	}
	w.calg, w.ckey, w.ckeyMD5 = m.customer()
	return w
}

func (m mode) put(in *s3.PutObjectInput) *s3.PutObjectInput {
	w := m.write()
	in.ServerSideEncryption, in.SSEKMSKeyId, in.SSEKMSEncryptionContext, in.BucketKeyEnabled = w.sse, w.kmsKeyID, w.kmsCtx, w.bucketKey
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = w.calg, w.ckey, w.ckeyMD5
	return in
}

func (m mode) create(in *s3.CreateMultipartUploadInput) *s3.CreateMultipartUploadInput {
	w := m.write()
	in.ServerSideEncryption, in.SSEKMSKeyId, in.SSEKMSEncryptionContext, in.BucketKeyEnabled = w.sse, w.kmsKeyID, w.kmsCtx, w.bucketKey
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = w.calg, w.ckey, w.ckeyMD5
	return in
}

// copyDst sets the destination encryption of a copy.
func (m mode) copyDst(in *s3.CopyObjectInput) *s3.CopyObjectInput {
	w := m.write()
	in.ServerSideEncryption, in.SSEKMSKeyId, in.SSEKMSEncryptionContext, in.BucketKeyEnabled = w.sse, w.kmsKeyID, w.kmsCtx, w.bucketKey
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = w.calg, w.ckey, w.ckeyMD5
	return in
}

// copySrc sets the copy-source SSE-C key of a copy.
func (m mode) copySrc(in *s3.CopyObjectInput) *s3.CopyObjectInput {
	in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = m.copySource()
	return in
}

func (m mode) get(in *s3.GetObjectInput) *s3.GetObjectInput {
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = m.customer()
	return in
}

func (m mode) head(in *s3.HeadObjectInput) *s3.HeadObjectInput {
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = m.customer()
	return in
}

func (m mode) part(in *s3.UploadPartInput) *s3.UploadPartInput {
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = m.customer()
	return in
}

func (m mode) partCopy(dst mode, in *s3.UploadPartCopyInput) *s3.UploadPartCopyInput {
	in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = m.copySource()
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = dst.customer()
	return in
}

func (m mode) complete(in *s3.CompleteMultipartUploadInput) *s3.CompleteMultipartUploadInput {
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = m.customer()
	return in
}

// echo says which SSE response headers a mode's object carries.
type echo struct {
	keyMD5 bool // SSE-C: the request sent the key, so its MD5 is echoed
}

// checkHeaders asserts the exact SSE response headers of an object stored
// under m: algorithm, KMS key id exactly as the client gave it (the
// default key's id when none was given), encryption context, bucket key,
// SSE-C algorithm and key MD5 — and never the SSE-C key itself.
func (m mode) checkHeaders(t testing.TB, what string, h http.Header, ex echo) {
	t.Helper()
	want := map[string]string{}
	switch m.kind {
	case kS3:
		want["X-Amz-Server-Side-Encryption"] = "AES256"
	case kKMS:
		want["X-Amz-Server-Side-Encryption"] = "aws:kms"
		want["X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"] = m.keyID
		if m.keyID == "" {
			want["X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"] = defaultKMSKey
		}
		if m.context != nil {
			want["X-Amz-Server-Side-Encryption-Context"] = m.headers().Get(encrypt.SseEncryptionContext)
		}
		if m.bucketKey {
			want["X-Amz-Server-Side-Encryption-Bucket-Key-Enabled"] = "true"
		}
	case kSSEC:
		want["X-Amz-Server-Side-Encryption-Customer-Algorithm"] = "AES256"
		if ex.keyMD5 {
			want["X-Amz-Server-Side-Encryption-Customer-Key-Md5"] = md5b64(m.key)
		}
	}
	for _, name := range []string{
		"X-Amz-Server-Side-Encryption",
		"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id",
		"X-Amz-Server-Side-Encryption-Context",
		"X-Amz-Server-Side-Encryption-Bucket-Key-Enabled",
		"X-Amz-Server-Side-Encryption-Customer-Algorithm",
		"X-Amz-Server-Side-Encryption-Customer-Key-Md5",
		"X-Amz-Server-Side-Encryption-Customer-Key",
	} {
		got, ok := h[name]
		w, wantOK := want[name]
		switch {
		case wantOK && (!ok || len(got) != 1 || got[0] != w):
			t.Errorf("%s (%s): header %s = %q, want %q", what, m.name, name, got, w)
		case !wantOK && ok:
			t.Errorf("%s (%s): unexpected header %s = %q", what, m.name, name, got)
		}
	}
}

// defaultKMSKey is the canonical id of the keyring's default key, echoed
// for aws:kms without a key id (as S3 echoes the aws/s3 key's ARN).
const defaultKMSKey = "strongroom-default"

// ---------------------------------------------------------------------------
// SDK helpers.

// raw returns the raw HTTP response of a successful SDK call.
func raw(t testing.TB, md middleware.Metadata) *http.Response {
	t.Helper()
	r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok {
		t.Fatal("no raw response in metadata")
	}
	return r.Response
}

// wantAPIError asserts an SDK error's HTTP status and S3 error code.
func wantAPIError(t testing.TB, what string, err error, wantStatus int, wantCode string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want %d %s", what, wantStatus, wantCode)
		return
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("%s: want API error %d %s, got %v", what, wantStatus, wantCode, err)
		return
	}
	if ae.ErrorCode() != wantCode {
		t.Errorf("%s: error code %q, want %q (%v)", what, ae.ErrorCode(), wantCode, err)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		t.Errorf("%s: no HTTP response in %v", what, err)
		return
	}
	if re.HTTPStatusCode() != wantStatus {
		t.Errorf("%s: HTTP status %d, want %d (%v)", what, re.HTTPStatusCode(), wantStatus, err)
	}
}

// isKMSCode reports whether an error code is a KMS error code.
func wantKMSError(t testing.TB, what string, err error) {
	t.Helper()
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if err == nil || !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Errorf("%s: want a 4xx KMS.* error, got %v", what, err)
		return
	}
	if !strings.HasPrefix(ae.ErrorCode(), "KMS.") || re.HTTPStatusCode() < 400 || re.HTTPStatusCode() > 499 {
		t.Errorf("%s: got %d %s, want a 4xx KMS.* error", what, re.HTTPStatusCode(), ae.ErrorCode())
	}
}

func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func readAll(t testing.TB, rc io.ReadCloser) []byte {
	t.Helper()
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return b
}

// putObject writes data under m and returns the raw response.
func (e *env) putObject(t testing.TB, bucket, key string, data []byte, m mode) (*s3.PutObjectOutput, *http.Response) {
	t.Helper()
	out, err := e.c.PutObject(e.ctx, m.put(&s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}))
	if err != nil {
		t.Fatalf("PUT %s/%s (%s): %v", bucket, key, m.name, err)
	}
	return out, raw(t, out.ResultMetadata)
}

// getObject reads an object (or a range of it) with m's SSE-C key.
func (e *env) getObject(t testing.TB, bucket, key, rng string, m mode) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	in := m.get(&s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if rng != "" {
		in.Range = aws.String(rng)
	}
	out, err := e.c.GetObject(e.ctx, in)
	if err != nil {
		t.Fatalf("GET %s/%s %s (%s): %v", bucket, key, rng, m.name, err)
	}
	return readAll(t, out.Body), out
}

// ---------------------------------------------------------------------------
// Raw signed requests.

// signed builds a raw request signed with auth.SignV4 (UNSIGNED-PAYLOAD
// unless body is given, then its SHA-256).
func (e *env) signed(t testing.TB, method, path, rawQuery string, body []byte, hdr http.Header) *http.Request {
	t.Helper()
	u := e.node.URL + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	ph := ""
	if body != nil {
		ph = sha256hex(body)
	}
	auth.SignV4(req, e.node.AccessKey, e.node.SecretKey, region, time.Now(), ph)
	return req
}

// do runs a raw request and returns the response with its body read.
func (e *env) do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := e.node.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s %s: %v", req.Method, req.URL.Path, err)
	}
	return resp, b
}

// wantRawError asserts a raw response's status and S3 error code.
func wantRawError(t testing.TB, what string, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: status %d, want %d (%s)", what, resp.StatusCode, status, body)
	}
	if code != "" && !bytes.Contains(body, []byte("<Code>"+code+"</Code>")) {
		t.Errorf("%s: body %s, want code %s", what, body, code)
	}
}

// ---------------------------------------------------------------------------
// Data and files.

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

func quoted(s string) string { return `"` + s + `"` }

// randBytes returns n random bytes.
func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// multipartETag is the S3 multipart ETag of plaintext parts.
func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		s := md5.Sum(p)
		h.Write(s[:])
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(parts))
}

// blobFiles lists the committed blob files under DataDir/blobs.
func blobFiles(t testing.TB, dataDir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	root := filepath.Join(dataDir, "blobs")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "tmp" {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// newBlobs runs fn and returns the blob files it created.
func newBlobs(t testing.TB, dataDir string, fn func()) []string {
	t.Helper()
	before := blobFiles(t, dataDir)
	fn()
	var out []string
	for p := range blobFiles(t, dataDir) {
		if _, ok := before[p]; !ok {
			out = append(out, p)
		}
	}
	return out
}

// findInFiles returns, for every file under dir, which needles (by
// index) it contains.
func findInFiles(t testing.TB, dir string, needles [][]byte) map[string][]int {
	t.Helper()
	hits := map[string][]int{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a temp file went away while walking
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		for i, nd := range needles {
			if bytes.Contains(b, nd) {
				hits[p] = append(hits[p], i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// forms returns the encodings under which bytes could end up in a file or
// a log line: raw, hex, base64.
func forms(b []byte) [][]byte {
	return [][]byte{bytes.Clone(b), []byte(hex.EncodeToString(b)), []byte(base64.StdEncoding.EncodeToString(b))}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
