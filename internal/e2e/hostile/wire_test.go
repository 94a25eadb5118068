package hostile

// Wire-level attacks and the clients they used to break: refusals of
// requests whose body is held back (Expect: 100-continue) or still being
// written, bodies that never arrive, oversized headers, duplicate
// Authorization headers and one client holding many connections.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

//go:embed testdata/early_error.py
var earlyErrorPy string

const region = "us-east-1"

// s3Client is an aws-sdk-go-v2 client of the node: path style, one attempt.
func s3Client(n *testnode.Node) *s3.Client {
	return s3.New(s3.Options{
		Region:           region,
		BaseEndpoint:     aws.String(n.URL),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""),
		HTTPClient:       n.Client,
		RetryMaxAttempts: 1,
		Logger:           logging.Nop{},
	})
}

func createBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("creating bucket %s: %v", name, err)
	}
}

// earlyErrorCases are PUTs refused before their body is read, with the
// S3 error code each must get.
var earlyErrorCases = map[string]string{"ssec": "InvalidArgument", "kms": "KMS.NotFoundException", "nobucket": "NoSuchBucket"}

// TestEarlyErrorBoto3 sends PUTs the server refuses before reading their
// body from boto3, with and without Expect: 100-continue, and wants the
// error code at once: not ConnectionClosedError after the client's timeout
// (a body of <= 256 KiB held back for "100 Continue"), nor an SSL EOF (a
// large body the server stopped reading).
func TestEarlyErrorBoto3(t *testing.T) {
	const python = "/usr/bin/python3" // Debian's, with python3-boto3 (a pyenv python3 may shadow it)
	n := testnode.Start(t, testnode.Options{TLS: true})
	createBucket(t, s3Client(n), "early")
	script := filepath.Join(t.TempDir(), "early_error.py")
	if err := os.WriteFile(script, []byte(earlyErrorPy), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script, n.URL, n.AccessKey, n.SecretKey, "early", "100000,1100000,12000000")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, stderr.String())
	}
	var results []struct {
		Case   string  `json:"case"`
		Size   int     `json:"size"`
		Expect bool    `json:"expect"`
		Result string  `json:"result"`
		Secs   float64 `json:"secs"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("boto3 script output %q: %v", out, err)
	}
	if len(results) != 18 {
		t.Fatalf("boto3 script gave %d results, want 18", len(results))
	}
	for _, r := range results {
		if want := earlyErrorCases[r.Case]; r.Result != want || r.Secs > 5 {
			t.Errorf("%s, %d bytes, expect=%v: got %q after %.1fs, want %s at once", r.Case, r.Size, r.Expect, r.Result, r.Secs, want)
		}
	}
}

// TestEarlyErrorSDKGo is the same with aws-sdk-go-v2 and bodies over
// net/http's 256 KiB drain (the SDK sends Expect: 100-continue from 2 MiB).
func TestEarlyErrorSDKGo(t *testing.T) {
	n := testnode.Start(t, testnode.Options{TLS: true})
	c := s3Client(n)
	createBucket(t, c, "early")
	key := bytes.Repeat([]byte("k"), 32)
	inputs := map[string]func(body []byte) *s3.PutObjectInput{
		"ssec": func(b []byte) *s3.PutObjectInput {
			return &s3.PutObjectInput{Bucket: aws.String("early"), Key: aws.String("o"), Body: bytes.NewReader(b),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(b64(key)), SSECustomerKeyMD5: aws.String(b64(key[:16]))}
		},
		"kms": func(b []byte) *s3.PutObjectInput {
			return &s3.PutObjectInput{Bucket: aws.String("early"), Key: aws.String("o"), Body: bytes.NewReader(b),
				ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("no-such-key")}
		},
		"nobucket": func(b []byte) *s3.PutObjectInput {
			return &s3.PutObjectInput{Bucket: aws.String("early-missing"), Key: aws.String("o"), Body: bytes.NewReader(b)}
		},
	}
	for _, size := range []int{300 << 10, 3 << 20, 20 << 20} {
		body := bytes.Repeat([]byte("a"), size)
		for name, in := range inputs {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := c.PutObject(ctx, in(body))
			cancel()
			wantCode(t, fmt.Sprintf("%s, %d bytes", name, size), err, earlyErrorCases[name])
		}
	}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("%s: got %v, want %s", what, err, code)
	}
}

// rawConn is a hand-driven client connection.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, n *testnode.Node, local string) *rawConn {
	t.Helper()
	c, err := dial(n, local)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dial connects from the local address (any if empty), TLS if the node
// serves it.
func dial(n *testnode.Node, local string) (*rawConn, error) {
	d := &net.Dialer{Timeout: 30 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	var c net.Conn
	var err error
	if strings.HasPrefix(n.URL, "https:") {
		c, err = tls.DialWithDialer(d, "tcp", n.Addr, &tls.Config{InsecureSkipVerify: true})
	} else {
		c, err = d.Dial("tcp", n.Addr)
	}
	if err != nil {
		return nil, err
	}
	return &rawConn{Conn: c, br: bufio.NewReader(c)}, nil
}

// requestHead is a request line and header section; signed with the
// node's root key (UNSIGNED-PAYLOAD) unless anonymous.
func requestHead(t *testing.T, n *testnode.Node, method, path string, size int64, anonymous bool, extra http.Header) string {
	t.Helper()
	req, err := http.NewRequest(method, n.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range extra {
		req.Header[k] = vs
	}
	req.ContentLength = size
	if !anonymous {
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		creds := aws.Credentials{AccessKeyID: n.AccessKey, SecretAccessKey: n.SecretKey}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", method, req.URL.RequestURI(), req.Host, size)
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	return b.String() + "\r\n"
}

// response reads one response and its body; the error is the connection's.
func (c *rawConn) response(timeout time.Duration) (*http.Response, string, error) {
	c.SetReadDeadline(time.Now().Add(timeout))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// closedWithin reports whether the server closes the connection within d.
func (c *rawConn) closedWithin(d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c.br)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func errorCode(body string) string {
	_, rest, _ := strings.Cut(body, "<Code>")
	code, _, _ := strings.Cut(rest, "</Code>")
	return code
}

// TestSlowBody: a body that stops arriving fails with RequestTimeout once
// the body-read timeout passes without a byte, and the connection closes;
// a refusal (anonymous) is answered at once without waiting for the body;
// a body that keeps arriving, however slowly, is not cut off.
func TestSlowBody(t *testing.T) {
	const timeout = 2 * time.Second
	n := testnode.Start(t, testnode.Options{TLS: true, BodyReadTimeout: timeout})
	createBucket(t, s3Client(n), "slow")

	t.Run("nothing", func(t *testing.T) {
		c := dialRaw(t, n, "")
		io.WriteString(c, requestHead(t, n, "PUT", "/slow/nothing", 1<<20, false, nil))
		start := time.Now()
		resp, body, err := c.response(3 * timeout)
		if err != nil || resp.StatusCode != 400 || errorCode(body) != "RequestTimeout" {
			t.Fatalf("got %v %q %v, want 400 RequestTimeout", resp, body, err)
		}
		if d := time.Since(start); d < timeout-100*time.Millisecond || d > timeout+time.Second {
			t.Errorf("answered after %v, want about %v", d, timeout)
		}
		if !c.closedWithin(time.Second) {
			t.Error("connection still open")
		}
	})
	t.Run("trickle then stop", func(t *testing.T) {
		c := dialRaw(t, n, "")
		io.WriteString(c, requestHead(t, n, "PUT", "/slow/trickle", 1<<20, false, nil))
		for range 3 {
			time.Sleep(timeout / 2)
			c.Write(bytes.Repeat([]byte("x"), 10))
		}
		resp, body, err := c.response(3 * timeout)
		if err != nil || resp.StatusCode != 400 || errorCode(body) != "RequestTimeout" {
			t.Fatalf("got %v %q %v, want 400 RequestTimeout", resp, body, err)
		}
	})
	t.Run("slow but steady", func(t *testing.T) {
		// 2.5 timeouts in all, never one without data: not a total timeout.
		c := dialRaw(t, n, "")
		const size = 10 * 64 << 10
		io.WriteString(c, requestHead(t, n, "PUT", "/slow/steady", size, false, nil))
		for range 10 {
			time.Sleep(timeout / 4)
			if _, err := c.Write(bytes.Repeat([]byte("y"), 64<<10)); err != nil {
				t.Fatalf("writing body: %v", err)
			}
		}
		resp, body, err := c.response(3 * timeout)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v %q %v, want 200", resp, body, err)
		}
	})
	t.Run("anonymous", func(t *testing.T) {
		// Over net/http's 256 KiB: refused at once, then closed.
		c := dialRaw(t, n, "")
		io.WriteString(c, requestHead(t, n, "PUT", "/slow/anon", 1<<20, true, nil))
		resp, body, err := c.response(timeout / 2)
		if err != nil || resp.StatusCode != 403 || errorCode(body) != "AccessDenied" {
			t.Fatalf("got %v %q %v, want 403 AccessDenied before the body timeout", resp, body, err)
		}
		if !resp.Close {
			t.Error("no Connection: close")
		}
		if !c.closedWithin(timeout + time.Second) {
			t.Error("connection still open")
		}
	})
	t.Run("anonymous small body", func(t *testing.T) {
		// Up to 256 KiB the body is read before the answer (some clients
		// cannot take one while writing), but not longer than the timeout.
		c := dialRaw(t, n, "")
		io.WriteString(c, requestHead(t, n, "PUT", "/slow/anon", 100<<10, true, nil))
		resp, body, err := c.response(timeout + time.Second)
		if err != nil || resp.StatusCode != 403 || errorCode(body) != "AccessDenied" {
			t.Fatalf("got %v %q %v, want 403 AccessDenied within the body timeout", resp, body, err)
		}
		if !c.closedWithin(time.Second) {
			t.Error("connection still open")
		}
	})
	t.Run("anonymous expecting 100-continue", func(t *testing.T) {
		c := dialRaw(t, n, "")
		io.WriteString(c, requestHead(t, n, "PUT", "/slow/anon", 100<<10, true, http.Header{"Expect": {"100-continue"}}))
		resp, body, err := c.response(timeout / 2)
		if err != nil || resp.StatusCode != 403 || errorCode(body) != "AccessDenied" {
			t.Fatalf("got %v %q %v, want 403 AccessDenied at once", resp, body, err)
		}
		if !c.closedWithin(timeout + time.Second) {
			t.Error("connection still open")
		}
	})
}

// TestSlowBodyMany re-runs the class: 200 connections at once that declare
// a body and send none, signed and anonymous, are all answered and closed
// within the timeout, and the server's goroutines return to their number
// before.
func TestSlowBodyMany(t *testing.T) {
	const (
		timeout = 2 * time.Second
		conns   = 200
	)
	n := testnode.Start(t, testnode.Options{TLS: true, BodyReadTimeout: timeout, MaxConnsPerClient: 2 * conns})
	createBucket(t, s3Client(n), "slow")
	n.Client.CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()

	for _, anonymous := range []bool{false, true} {
		want, wantCode := 400, "RequestTimeout"
		if anonymous {
			want, wantCode = 403, "AccessDenied"
		}
		heads := make([]string, conns)
		for i := range heads {
			heads[i] = requestHead(t, n, "PUT", "/slow/o"+strconv.Itoa(i), 1<<20, anonymous, nil)
		}
		// Connect (and shake hands) first, then all declare their bodies
		// at once.
		cs := make([]*rawConn, conns)
		var wg sync.WaitGroup
		errc := make(chan error, conns)
		for i := range cs {
			wg.Go(func() {
				c, err := dial(n, "")
				if err != nil {
					errc <- err
					return
				}
				cs[i] = c
			})
		}
		wg.Wait()
		start := time.Now()
		for i, c := range cs {
			if c == nil {
				continue
			}
			wg.Go(func() {
				defer c.Close()
				if _, err := io.WriteString(c, heads[i]); err != nil {
					errc <- err
					return
				}
				// Generous slack: 200 TLS connections under the race
				// detector on a loaded machine; without the timeout
				// they would never be answered at all.
				resp, body, err := c.response(timeout + 10*time.Second)
				switch {
				case err != nil:
					errc <- err
				case resp.StatusCode != want || errorCode(body) != wantCode:
					errc <- fmt.Errorf("got %d %s, want %d %s", resp.StatusCode, errorCode(body), want, wantCode)
				case !c.closedWithin(timeout + 10*time.Second):
					errc <- errors.New("connection still open")
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Errorf("anonymous=%v: %v", anonymous, err)
		}
		t.Logf("anonymous=%v: %d connections answered and closed in %v", anonymous, conns, time.Since(start))
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+5 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+5 {
		t.Errorf("%d goroutines, %d before the slow connections", g, before)
	}
}

// TestConnectionsPerClient: one client address holding its cap of idle
// connections gets no more, while another address (127.0.0.2) is served;
// a released slot is usable again.
func TestConnectionsPerClient(t *testing.T) {
	const max = 8
	n := testnode.Start(t, testnode.Options{MaxConnsPerClient: max})
	held := make([]*rawConn, max)
	for i := range held {
		held[i] = dialRaw(t, n, "127.0.0.1")
		// A request the server is still waiting on: its body never comes.
		io.WriteString(held[i], requestHead(t, n, "PUT", "/b/o", 10, false, nil))
	}
	health := "GET /_strongroom/health HTTP/1.1\r\nHost: x\r\n\r\n"
	served := func(local string) bool {
		c := dialRaw(t, n, local)
		defer c.Close()
		io.WriteString(c, health)
		resp, _, err := c.response(2 * time.Second)
		return err == nil && resp.StatusCode == 200
	}
	if served("127.0.0.1") {
		t.Errorf("connection %d from 127.0.0.1 served, want refused at the cap of %d", max+1, max)
	}
	if !served("127.0.0.2") {
		t.Error("127.0.0.2 refused while 127.0.0.1 holds its cap")
	}
	held[0].Close()
	deadline := time.Now().Add(2 * time.Second)
	for !served("127.0.0.1") {
		if time.Now().After(deadline) {
			t.Fatal("127.0.0.1 still refused after closing one of its connections")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHeaderLimits: S3's 8 KiB header section and 2 KiB of user metadata,
// with S3's errors, while what real clients send (an SDK PUT with the most
// metadata allowed, a presigned URL for a long key) still works.
func TestHeaderLimits(t *testing.T) {
	n := testnode.Start(t, testnode.Options{TLS: true})
	c := s3Client(n)
	createBucket(t, c, "hdr")
	ctx := context.Background()
	put := func(in *s3.PutObjectInput) error {
		in.Bucket = aws.String("hdr")
		if in.Key == nil {
			in.Key = aws.String("o")
		}
		in.Body = strings.NewReader("data")
		_, err := c.PutObject(ctx, in)
		return err
	}
	// 2 KiB of metadata (names and values), the most S3 allows.
	meta := map[string]string{}
	for i := range 8 {
		meta[fmt.Sprintf("k%02d", i)] = strings.Repeat("v", 256-3)
	}
	if err := put(&s3.PutObjectInput{Metadata: meta, ContentType: aws.String("text/plain"), CacheControl: aws.String("no-cache")}); err != nil {
		t.Errorf("PUT with 2 KiB of metadata: %v", err)
	}
	meta["k99"] = "x"
	wantCode(t, "PUT with 2 KiB + 4 bytes of metadata", put(&s3.PutObjectInput{Metadata: meta}), "MetadataTooLarge")
	wantCode(t, "PUT with an 8 KiB Cache-Control", put(&s3.PutObjectInput{CacheControl: aws.String(strings.Repeat("c", 8<<10))}), "RequestHeaderSectionTooLarge")
	wantCode(t, "PUT with two 5 KB headers", put(&s3.PutObjectInput{
		CacheControl: aws.String(strings.Repeat("c", 5000)), ContentDisposition: aws.String(strings.Repeat("d", 5000)),
	}), "RequestHeaderSectionTooLarge")
	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("hdr"), Key: aws.String("o")}, func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, smithyhttpHeader("X-Pad", strings.Repeat("p", 9000)))
	})
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Errorf("HEAD with a 9 KB header: %v, want 400", err)
	}

	// A presigned URL for a 1024-byte key: the URL is not part of the
	// header section.
	long := strings.Repeat("é", 512)
	if err := put(&s3.PutObjectInput{Key: aws.String(long)}); err != nil {
		t.Fatalf("PUT of a 1024-byte key: %v", err)
	}
	ps, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("hdr"), Key: aws.String(long)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps.URL) < 3000 {
		t.Fatalf("presigned URL of %d bytes, want a long one", len(ps.URL))
	}
	resp, err := n.Client.Get(ps.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET of a %d-byte presigned URL: %d", len(ps.URL), resp.StatusCode)
	}
}

// TestDuplicateAuthorization: two Authorization headers are refused as two
// auth mechanisms (S3's InvalidArgument), whichever one would verify.
func TestDuplicateAuthorization(t *testing.T) {
	n := testnode.Start(t, testnode.Options{})
	c := dialRaw(t, n, "")
	head := requestHead(t, n, "GET", "/", 0, false, nil)
	authz := head[strings.Index(head, "Authorization: "):]
	authz = authz[:strings.Index(authz, "\r\n")+2]
	io.WriteString(c, strings.Replace(head, authz, authz+"Authorization: AWS4-HMAC-SHA256 Credential=other\r\n", 1))
	resp, body, err := c.response(5 * time.Second)
	if err != nil || resp.StatusCode != 400 || errorCode(body) != "InvalidArgument" {
		t.Fatalf("got %v %q %v, want 400 InvalidArgument", resp, body, err)
	}
	if !strings.Contains(body, "Only one auth mechanism allowed") {
		t.Errorf("message: %s", body)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// smithyhttpHeader adds a (signed) request header to an SDK call.
func smithyhttpHeader(name, value string) func(*middleware.Stack) error {
	return smithyhttp.AddHeaderValue(name, value)
}
