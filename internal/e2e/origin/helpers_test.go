// Package e2eorigin proves back-to-source (origin pull) end to end through
// the vendors' SDKs: COS `?origin` (cos-go-sdk-v5), OSS website mirror
// rules (OSS v2 SDK) and the S3 dialect's `?x-strongroom-origin`
// extension (aws-sdk-go-v2), against an origin HTTP server in the test on
// 127.0.0.1, which the nodes allow explicitly (`--origin-allow`).
//
// The package holds tests only.
package e2eorigin

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func TestMain(m *testing.M) { e2eutil.Main(m) }

// originObject is what the origin serves at a path.
type originObject struct {
	body        []byte
	contentType string
	contentMD5  string            // sent as Content-MD5 when set
	status      int               // answered instead of the body when set
	location    string            // with status 3xx
	headerDelay time.Duration     // before the headers
	bodyDelay   time.Duration     // between the headers and the body
	truncate    bool              // announce the whole length, send half, cut
	meta        map[string]string // extra response headers (user metadata)
}

// origin is the test's origin server: it counts requests per path and
// keeps the headers of the last one.
type origin struct {
	srv     *httptest.Server
	mu      sync.Mutex
	objects map[string]originObject
	hits    map[string]int
	last    http.Header
	lastURL string
}

func newOrigin(t *testing.T) *origin {
	o := &origin{objects: map[string]originObject{}, hits: map[string]int{}}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) host() string { return o.srv.Listener.Addr().String() }

func (o *origin) set(path string, obj originObject) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[path] = obj
}

func (o *origin) hitsOf(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

func (o *origin) lastRequest() (http.Header, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last, o.lastURL
}

func (o *origin) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.hits[r.URL.Path]++
	o.last, o.lastURL = r.Header.Clone(), r.URL.String()
	obj, ok := o.objects[r.URL.Path]
	o.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	time.Sleep(obj.headerDelay)
	if obj.status != 0 {
		if obj.location != "" {
			w.Header().Set("Location", obj.location)
		}
		w.WriteHeader(obj.status)
		return
	}
	if obj.contentType != "" {
		w.Header().Set("Content-Type", obj.contentType)
	}
	if obj.contentMD5 != "" {
		w.Header().Set("Content-MD5", obj.contentMD5)
	}
	for k, v := range obj.meta {
		w.Header().Set(k, v)
	}
	w.Header().Set("Cache-Control", "max-age=60")
	w.Header().Set("Content-Length", strconv.Itoa(len(obj.body)))
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	time.Sleep(obj.bodyDelay)
	if obj.truncate {
		w.Write(obj.body[:len(obj.body)/2])
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.Write(obj.body)
}

// startNode starts a node with COS, OSS and OBS listeners that allows origins
// on 127.0.0.1, with a 1 s header timeout and a 1 MiB size bound.
func startNode(t *testing.T) *testnode.Node {
	t.Helper()
	return testnode.Start(t, testnode.Options{
		Domains:             []string{"cos=" + cosDomain},
		Dialects:            []string{"cos", "oss", "obs"},
		OriginAllow:         []string{"127.0.0.1"},
		OriginHeaderTimeout: time.Second,
		OriginMaxSize:       1 << 20,
	})
}

const (
	cosDomain = "cos.localhost"
	appID     = "1250000000"
)

var uniq atomic.Int64

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// dialTo sends every host to addr (a wildcard DNS entry for the COS
// domain).
func dialTo(addr string) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConnsPerHost: 32,
	}
}

var root = service.Principal{User: "root", Root: true}

// stored returns the raw metadata record of bucket/key, or nil when the
// key holds nothing.
func stored(t *testing.T, n *testnode.Node, bucket, key string) *meta.Object {
	t.Helper()
	o, _, err := n.Service.HeadObject(context.Background(), root, service.GetObjectInput{Bucket: bucket, Key: key})
	if errors.Is(err, errs.NoSuchKey) {
		return nil
	}
	if err != nil {
		t.Fatalf("head %s/%s: %v", bucket, key, err)
	}
	return o
}

// onDisk reports whether b appears in any file of the node's data
// directory (the database included).
func onDisk(t *testing.T, n *testnode.Node, b []byte) bool {
	t.Helper()
	found := false
	err := filepath.Walk(n.DataDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, b) {
			found = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// canary is a recognizable plaintext (repeated, so a fragment is found).
func canary(n int) []byte {
	c := bytes.Repeat([]byte("ORIGIN-CANARY-"), n/14+1)
	return c[:n]
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
