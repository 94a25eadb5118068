// Package e2eobs proves the Huawei Cloud OBS dialect end to end with the
// official SDK (github.com/huaweicloud/huaweicloud-sdk-go-obs), used as a
// user would, against a real strongroom node over HTTPS on loopback.
//
// Every test runs in the SDK's three signing modes:
//
//	v2   AWS V2 signature (the SDK default), x-amz-* headers, IP endpoint of
//	     the node's OBS listener (path style)
//	v4   the SDK's SigV4 variant, same endpoint
//	obs  native OBS signature, x-obs-* headers, host-name endpoint
//	     (virtual-hosted style) on the domain obs=obs.localhost
//
// The S3-compatible modes look like S3 on the wire, which is why the node
// has a listener pinned to the OBS dialect (dialects.md §1.3). Clients never
// retry (obs.WithMaxRetryCount(0)), so status codes are exact.
//
// The package holds tests only.
package e2eobs

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

const (
	KiB = 1 << 10
	MiB = 1 << 20
)

// TestMain clears the AWS environment (for the cross-dialect tests'
// aws-sdk-go-v2 clients: this machine sets AWS_CA_BUNDLE) before any test
// runs in parallel.
func TestMain(m *testing.M) { e2eutil.Main(m) }

// mode is one way the SDK signs and addresses requests.
type mode struct {
	name string
	sig  obs.SignatureType
	// native: host-name endpoint, virtual-hosted style, x-obs-* headers.
	native bool
}

var modes = []mode{
	{name: "v2", sig: obs.SignatureV2},
	{name: "v4", sig: obs.SignatureV4},
	{name: "obs", sig: obs.SignatureObs, native: true},
}

// eachMode runs f as a parallel subtest per mode.
func eachMode(t *testing.T, f func(t *testing.T, m mode)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f(t, m)
		})
	}
}

// env is one TLS node with an OBS listener and the OBS domain.
type env struct {
	t    *testing.T
	node *testnode.Node
	ctx  context.Context
}

const obsDomain = "obs.localhost"

func newEnv(t *testing.T) *env {
	t.Helper()
	node := testnode.Start(t, testnode.Options{TLS: true, Dialects: []string{"obs"}, Domains: []string{"obs=" + obsDomain}})
	return &env{t: t, node: node, ctx: context.Background()}
}

// transport dials addr whatever the host name, trusting the node's
// self-signed certificate. check, when set, sees every request the SDK sends
// (through the Proxy hook, which the transport calls per request).
func transport(addr string, check func(*http.Request)) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		Proxy: func(r *http.Request) (*url.URL, error) {
			if check != nil {
				check(r)
			}
			return nil, nil
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConnsPerHost: 8,
	}
}

// endpoint is what a user would configure for mode m: the OBS listener's
// address (an IP: the SDK then uses path style) or the OBS domain with the
// main listener's port (virtual-hosted style, required for the native
// signature).
func (e *env) endpoint(m mode) (endpoint, addr string) {
	if m.native {
		_, port, _ := net.SplitHostPort(e.node.Addr)
		return "https://" + obsDomain + ":" + port, e.node.Addr
	}
	return e.node.DialectURL["obs"], e.node.DialectAddr["obs"]
}

// client is an OBS SDK client for mode m with the root credentials.
func (e *env) client(t *testing.T, m mode) *obs.ObsClient {
	return e.clientAs(t, m, e.node.AccessKey, e.node.SecretKey)
}

// clientAs is an OBS SDK client for mode m. Every request it sends must be
// signed and addressed the way the mode says (checked when t ends), so a
// test cannot pass by quietly falling back to another scheme.
func (e *env) clientAs(t *testing.T, m mode, ak, sk string) *obs.ObsClient {
	t.Helper()
	ep, addr := e.endpoint(m)
	want := map[obs.SignatureType]string{obs.SignatureV2: "AWS ", obs.SignatureV4: "AWS4-HMAC-SHA256 ", obs.SignatureObs: "OBS "}[m.sig]
	wantQuery := map[obs.SignatureType]string{obs.SignatureV2: "AWSAccessKeyId", obs.SignatureV4: "X-Amz-Algorithm", obs.SignatureObs: "AccessKeyId"}[m.sig]
	var mu sync.Mutex
	var bad []string
	n := 0
	check := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n++
		authz := r.Header.Get("Authorization")
		vhost := strings.HasSuffix(r.URL.Hostname(), "."+obsDomain) || r.URL.Hostname() == obsDomain
		q := r.URL.Query()
		signed := strings.HasPrefix(authz, want) || authz == "" && q.Has(wantQuery) && !(m.sig == obs.SignatureObs && q.Has("AWSAccessKeyId"))
		if !signed || vhost != m.native {
			bad = append(bad, fmt.Sprintf("%s %s (Authorization %.20q)", r.Method, r.URL, authz))
		}
	}
	c, err := obs.New(ak, sk, ep,
		obs.WithSignature(m.sig),
		obs.WithMaxRetryCount(0),
		obs.WithHttpTransport(transport(addr, check)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		mu.Lock()
		defer mu.Unlock()
		if len(bad) > 0 {
			t.Errorf("%d of %d requests not in mode %s: %s", len(bad), n, m.name, strings.Join(bad, "; "))
		}
	})
	return c
}

var uniq atomic.Int64

// bucket creates a fresh bucket through c.
func (e *env) bucket(t *testing.T, c *obs.ObsClient, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d", prefix, uniq.Add(1))
	out, err := c.CreateBucket(&obs.CreateBucketInput{Bucket: name})
	if err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	wantRequestID(t, out)
	return name
}

// kmsKey creates a CMK on the node's builtin keyring and returns its id.
func (e *env) kmsKey(name string) string {
	e.t.Helper()
	k, err := e.node.Keyring.CreateKey(e.ctx, name)
	if err != nil {
		e.t.Fatalf("create KMS key %s: %v", name, err)
	}
	return k.ID
}

// wantObsErr asserts that err is an OBS error with exactly status and code.
func wantObsErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	var oe obs.ObsError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T); want OBS %d %s", err, err, status, code)
	}
	if oe.StatusCode != status || oe.Code != code {
		t.Fatalf("OBS error %d %q (%s); want %d %s", oe.StatusCode, oe.Code, oe.Message, status, code)
	}
	if oe.RequestId == "" {
		t.Fatalf("OBS error without request id: %v", oe)
	}
}

func wantRequestID(t *testing.T, b *obs.BaseModel) {
	t.Helper()
	if b.RequestId == "" {
		t.Fatalf("no request id in response (headers %v)", b.ResponseHeaders)
	}
}

// header returns a response header as the SDK exposes it (prefix x-obs- or
// x-amz- stripped, lowercased).
func header(b *obs.BaseModel, name string) string {
	if v := b.ResponseHeaders[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// sse is the encryption a response reports.
type sse struct {
	mode, data, keyID, project, custAlg, custMD5 string
}

func sseOf(b *obs.BaseModel) sse {
	return sse{
		mode:    header(b, "server-side-encryption"),
		data:    header(b, "server-side-data-encryption"),
		keyID:   header(b, "server-side-encryption-kms-key-id"),
		project: header(b, "sse-kms-key-project-id"),
		custAlg: header(b, "server-side-encryption-customer-algorithm"),
		custMD5: header(b, "server-side-encryption-customer-key-md5"),
	}
}

func wantSSE(t *testing.T, what string, b *obs.BaseModel, want sse) {
	t.Helper()
	if got := sseOf(b); got != want {
		t.Fatalf("%s: encryption %+v; want %+v", what, got, want)
	}
}

// customerKey is an SSE-C key as the SDK takes it.
type customerKey struct {
	b64, md5 string
}

func newCustomerKey() customerKey {
	k := make([]byte, 32)
	rand.Read(k)
	sum := md5.Sum(k)
	return customerKey{b64: base64.StdEncoding.EncodeToString(k), md5: base64.StdEncoding.EncodeToString(sum[:])}
}

func (k customerKey) header() obs.SseCHeader {
	return obs.SseCHeader{Encryption: "AES256", Key: k.b64, KeyMD5: k.md5}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func putInput(bucket, key string, body []byte) *obs.PutObjectInput {
	in := &obs.PutObjectInput{Body: bytes.NewReader(body)}
	in.Bucket, in.Key = bucket, key
	in.ContentLength = int64(len(body))
	return in
}

// get reads a whole object (optionally with an SSE-C key) and checks it.
func get(t *testing.T, c *obs.ObsClient, bucket, key string, sseHeader obs.ISseHeader, want []byte) *obs.GetObjectOutput {
	t.Helper()
	in := &obs.GetObjectInput{}
	in.Bucket, in.Key, in.SseHeader = bucket, key, sseHeader
	out, err := c.GetObject(in)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	body, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatalf("reading %s/%s: %v", bucket, key, err)
	}
	if !bytes.Equal(body, want) {
		t.Fatalf("get %s/%s: %d bytes differ from the %d written", bucket, key, len(body), len(want))
	}
	return out
}

func head(t *testing.T, c *obs.ObsClient, bucket, key string, sseHeader obs.ISseHeader) *obs.GetObjectMetadataOutput {
	t.Helper()
	out, err := c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: bucket, Key: key, SseHeader: sseHeader})
	if err != nil {
		t.Fatalf("head %s/%s: %v", bucket, key, err)
	}
	return out
}

// withHeaders calls an SDK operation with custom request headers
// (obs.WithCustomHeader), the SDK's way to send what its inputs have no
// field for. E is the SDK's unexported extension type, inferred from f.
func withHeaders[I, O, E any](f func(I, ...E) (O, error), in I, headers map[string]string) (O, error) {
	var ext []E
	for k, v := range headers {
		ext = append(ext, any(obs.WithCustomHeader(k, v)).(E))
	}
	return f(in, ext...)
}
