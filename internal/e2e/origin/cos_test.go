package e2eorigin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentyun/cos-go-sdk-v5"

	"github.com/strongroom-dev/strongroom/internal/sse"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// cosEnv is a node and a COS bucket (default encryption AES256) whose
// client is the SDK's.
type cosEnv struct {
	t      *testing.T
	node   *testnode.Node
	origin *origin
	bucket string
	c      *cos.Client
	ctx    context.Context
}

func newCOSEnv(t *testing.T) *cosEnv {
	t.Helper()
	n := startNode(t)
	e := &cosEnv{t: t, node: n, origin: newOrigin(t), ctx: context.Background()}
	e.bucket = fmt.Sprintf("origin%d-%s", uniq.Add(1), appID)
	_, port, _ := strings.Cut(n.Addr, ":")
	u, _ := url.Parse(fmt.Sprintf("http://%s.%s:%s", e.bucket, cosDomain, port))
	tr := dialTo(n.Addr)
	t.Cleanup(tr.CloseIdleConnections)
	e.c = cos.NewClient(&cos.BaseURL{BucketURL: u}, &http.Client{
		Transport: &cos.AuthorizationTransport{SecretID: n.AccessKey, SecretKey: n.SecretKey, Transport: tr},
	})
	e.c.Conf.RetryOpt.Count = 1
	if _, err := e.c.Bucket.Put(e.ctx, nil); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	if _, err := e.c.Bucket.PutEncryption(e.ctx, &cos.BucketPutEncryptionOptions{
		Rule: &cos.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"},
	}); err != nil {
		t.Fatalf("put bucket encryption: %v", err)
	}
	return e
}

// rule is a COS rule for the test origin.
func (e *cosEnv) rule(prio int, typ, prefix string) cos.BucketOriginRule {
	return cos.BucketOriginRule{
		RulePriority:    prio,
		OriginType:      typ,
		OriginCondition: &cos.BucketOriginCondition{HTTPStatusCode: "404", Prefix: prefix},
		OriginParameter: &cos.BucketOriginParameter{Protocol: "HTTP", FollowQueryString: ptr(true), FollowRedirection: ptr(true)},
		OriginInfo:      &cos.BucketOriginInfo{HostInfo: &cos.BucketOriginHostInfo{HostName: e.origin.host()}},
	}
}

func (e *cosEnv) putOrigin(rules ...cos.BucketOriginRule) {
	e.t.Helper()
	if _, err := e.c.Bucket.PutOrigin(e.ctx, &cos.BucketPutOriginOptions{Rule: rules}); err != nil {
		e.t.Fatalf("put origin: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// get reads key through the SDK: body, response, error.
func (e *cosEnv) get(key string) ([]byte, *cos.Response, error) {
	resp, err := e.c.Object.Get(e.ctx, key, nil)
	if err != nil {
		return nil, resp, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp, err
}

func wantCOSErr(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	ce, ok := cos.IsCOSError(err)
	if !ok {
		t.Fatalf("%s: %v, want COS error %d %s", what, err, status, code)
	}
	if ce.Response.StatusCode != status || (code != "" && ce.Code != code) {
		t.Fatalf("%s: %d %s (%s), want %d %s", what, ce.Response.StatusCode, ce.Code, ce.Message, status, code)
	}
}

func TestCOSOriginConfiguration(t *testing.T) {
	e := newCOSEnv(t)
	_, _, err := e.c.Bucket.GetOrigin(e.ctx)
	wantCOSErr(t, "get before put", err, 404, "NoSuchOriginConfiguration")

	r := e.rule(1, "Mirror", "m/")
	r.OriginParameter.HttpHeader = &cos.BucketOriginHttpHeader{
		NewHttpHeaders:    []cos.OriginHttpHeader{{Key: "x-origin-set", Value: "v1"}},
		FollowHttpHeaders: []cos.OriginHttpHeader{{Key: "x-follow-me"}},
	}
	r.OriginParameter.CopyOriginData = ptr(true)
	r.OriginInfo.HostInfo.StandbyHostName_N = []string{"standby.example"}
	r.OriginInfo.FileInfo = &cos.BucketOriginFileInfo{PrefixConfiguration: &cos.OriginPrefixConfiguration{Prefix: "src/"}}
	red := e.rule(2, "Redirect", "r/")
	red.OriginParameter.HttpRedirectCode = "301"
	e.putOrigin(r, red)

	got, _, err := e.c.Bucket.GetOrigin(e.ctx)
	if err != nil {
		t.Fatalf("get origin: %v", err)
	}
	if len(got.Rule) != 2 {
		t.Fatalf("get origin: %d rules", len(got.Rule))
	}
	g := got.Rule[0]
	switch {
	case g.RulePriority != 1 || g.OriginType != "Mirror" || g.OriginCondition.Prefix != "m/" || g.OriginCondition.HTTPStatusCode != "404":
		t.Errorf("rule 1 head: %+v %+v", g, g.OriginCondition)
	case g.OriginParameter.Protocol != "HTTP" || !*g.OriginParameter.FollowQueryString || !*g.OriginParameter.FollowRedirection || !*g.OriginParameter.CopyOriginData:
		t.Errorf("rule 1 parameters: %+v", g.OriginParameter)
	case len(g.OriginParameter.HttpHeader.NewHttpHeaders) != 1 || g.OriginParameter.HttpHeader.NewHttpHeaders[0] != (cos.OriginHttpHeader{Key: "x-origin-set", Value: "v1"}) ||
		len(g.OriginParameter.HttpHeader.FollowHttpHeaders) != 1 || g.OriginParameter.HttpHeader.FollowHttpHeaders[0].Key != "x-follow-me":
		t.Errorf("rule 1 headers: %+v", g.OriginParameter.HttpHeader)
	case g.OriginInfo.HostInfo.HostName != e.origin.host() || len(g.OriginInfo.HostInfo.StandbyHostName_N) != 1 || g.OriginInfo.HostInfo.StandbyHostName_N[0] != "standby.example":
		t.Errorf("rule 1 host: %+v", g.OriginInfo.HostInfo)
	case g.OriginInfo.FileInfo == nil || g.OriginInfo.FileInfo.PrefixConfiguration == nil || g.OriginInfo.FileInfo.PrefixConfiguration.Prefix != "src/":
		t.Errorf("rule 1 file info: %+v", g.OriginInfo.FileInfo)
	case got.Rule[1].OriginType != "Redirect" || got.Rule[1].OriginParameter.HttpRedirectCode != "301":
		t.Errorf("rule 2: %+v %+v", got.Rule[1], got.Rule[1].OriginParameter)
	}

	// Invalid documents: the vendor's 400s, and nothing changes.
	bad := e.rule(1, "Teleport", "x/")
	_, err = e.c.Bucket.PutOrigin(e.ctx, &cos.BucketPutOriginOptions{Rule: []cos.BucketOriginRule{bad}})
	wantCOSErr(t, "unknown OriginType", err, 400, "InvalidArgument")
	bad = e.rule(1, "Mirror", "x/")
	bad.OriginParameter.HttpRedirectCode = "302"
	_, err = e.c.Bucket.PutOrigin(e.ctx, &cos.BucketPutOriginOptions{Rule: []cos.BucketOriginRule{bad}})
	wantCOSErr(t, "HttpRedirectCode on Mirror", err, 400, "InvalidArgument")
	bad = e.rule(1, "Mirror", "x/")
	bad.OriginInfo = nil
	_, err = e.c.Bucket.PutOrigin(e.ctx, &cos.BucketPutOriginOptions{Rule: []cos.BucketOriginRule{bad}})
	wantCOSErr(t, "no host", err, 400, "InvalidArgument")
	if got, _, err := e.c.Bucket.GetOrigin(e.ctx); err != nil || len(got.Rule) != 2 {
		t.Fatalf("configuration changed by refused documents: %v", err)
	}

	if _, err := e.c.Bucket.DeleteOrigin(e.ctx); err != nil {
		t.Fatalf("delete origin: %v", err)
	}
	_, _, err = e.c.Bucket.GetOrigin(e.ctx)
	wantCOSErr(t, "get after delete", err, 404, "NoSuchOriginConfiguration")
}

func TestCOSMirrorPull(t *testing.T) {
	e := newCOSEnv(t)
	r := e.rule(1, "Mirror", "m/")
	r.OriginParameter.HttpHeader = &cos.BucketOriginHttpHeader{
		NewHttpHeaders:    []cos.OriginHttpHeader{{Key: "X-Origin-Set", Value: "v1"}},
		FollowHttpHeaders: []cos.OriginHttpHeader{{Key: "X-Follow-Me"}},
	}
	e.putOrigin(r)
	data := canary(300 << 10) // several segments, not inline
	e.origin.set("/m/a.txt", originObject{body: data, contentType: "text/plain; charset=utf-8"})

	resp, err := e.c.Object.Get(e.ctx, "m/a.txt", &cos.ObjectGetOptions{XOptionHeader: &http.Header{"X-Follow-Me": {"yes"}, "X-Not-Passed": {"no"}}})
	if err != nil {
		t.Fatalf("first GET (miss): %v", err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("first GET: %d bytes, err %v; want the origin's %d", len(got), err, len(data))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("first GET Content-Type %q", ct)
	}
	if v := resp.Header.Get("x-cos-server-side-encryption"); v != "AES256" {
		t.Errorf("first GET x-cos-server-side-encryption %q, want AES256 (the bucket default)", v)
	}
	h, _ := e.origin.lastRequest()
	if h.Get("X-Follow-Me") != "yes" || h.Get("X-Origin-Set") != "v1" || h.Get("X-Not-Passed") != "" || h.Get("Authorization") != "" {
		t.Errorf("origin request headers: %v", h)
	}

	// Stored under the bucket default, as the seed says for
	// back-to-source data: the raw record and the disk.
	o := stored(t, e.node, e.bucket, "m/a.txt")
	if o == nil || o.Encryption == nil || sse.Mode(o.Encryption.Mode) != sse.Managed || o.Encryption.Algorithm != "AES256" || len(o.Encryption.WrappedKey) == 0 {
		t.Fatalf("stored record: %+v", o)
	}
	if o.Headers.ContentType != "text/plain; charset=utf-8" || o.Headers.CacheControl != "max-age=60" {
		t.Errorf("stored metadata from the origin's headers: %+v", o.Headers)
	}
	if onDisk(t, e.node, data[:64]) {
		t.Error("the pulled plaintext is on disk")
	}

	// Served locally from now on.
	got, resp, err = e.get("m/a.txt")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("second GET: %v", err)
	}
	if n := e.origin.hitsOf("/m/a.txt"); n != 1 {
		t.Errorf("origin hits %d, want 1", n)
	}
	if resp.Header.Get("ETag") == "" || resp.Header.Get("x-cos-server-side-encryption") != "AES256" {
		t.Errorf("second GET headers: %v", resp.Header)
	}
	hr, err := e.c.Object.Head(e.ctx, "m/a.txt", nil)
	if err != nil || hr.Header.Get("x-cos-server-side-encryption") != "AES256" {
		t.Fatalf("HEAD: %v %v", err, hr)
	}

	// A key outside every rule's prefix stays a plain miss.
	_, _, err = e.get("other/a.txt")
	wantCOSErr(t, "GET outside the rules", err, 404, "NoSuchKey")
	if n := e.origin.hitsOf("/other/a.txt"); n != 0 {
		t.Errorf("origin asked for a key no rule covers (%d)", n)
	}

	// HEAD of a miss pulls too (and then answers from the stored object).
	e.origin.set("/m/h.bin", originObject{body: randBytes(1000), contentType: "application/x-test"})
	hr, err = e.c.Object.Head(e.ctx, "m/h.bin", nil)
	if err != nil || hr.Header.Get("Content-Length") != "1000" || hr.Header.Get("x-cos-server-side-encryption") != "AES256" {
		t.Fatalf("HEAD of a miss: %v %v", err, hr)
	}
	if stored(t, e.node, e.bucket, "m/h.bin") == nil {
		t.Error("HEAD of a miss stored nothing")
	}
}

func TestCOSConcurrentMissesFetchOnce(t *testing.T) {
	e := newCOSEnv(t)
	e.putOrigin(e.rule(1, "Mirror", "m/"))
	data := randBytes(200 << 10)
	e.origin.set("/m/hot", originObject{body: data, bodyDelay: 300 * time.Millisecond})
	const n = 20
	var wg sync.WaitGroup
	errc := make(chan error, n)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got, _, err := e.get("m/hot")
			if err == nil && !bytes.Equal(got, data) {
				err = fmt.Errorf("got %d bytes, not the origin's", len(got))
			}
			errc <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if h := e.origin.hitsOf("/m/hot"); h != 1 {
		t.Fatalf("%d concurrent misses made %d origin fetches, want 1", n, h)
	}
}

func TestCOSOriginFailures(t *testing.T) {
	e := newCOSEnv(t)
	e.putOrigin(e.rule(1, "Mirror", "m/"))
	e.origin.set("/m/e500", originObject{status: 500})
	e.origin.set("/m/slow", originObject{body: []byte("late"), headerDelay: 3 * time.Second})
	e.origin.set("/m/big", originObject{body: randBytes(1<<20 + 1)})
	e.origin.set("/m/cut", originObject{body: randBytes(200 << 10), truncate: true})

	for _, c := range []struct {
		key    string
		status int
		code   string
	}{
		{"m/e500", 424, "FailedDependency"}, // origin non-2xx: COS's 424
		{"m/missing", 404, "NoSuchKey"},     // origin 404 passed through
		{"m/slow", 424, "FailedDependency"}, // no headers within the timeout
		{"m/big", 424, "FailedDependency"},  // over the size bound
	} {
		_, _, err := e.get(c.key)
		wantCOSErr(t, "GET "+c.key, err, c.status, c.code)
		if stored(t, e.node, e.bucket, c.key) != nil {
			t.Errorf("%s: stored after a failed pull", c.key)
		}
	}
	// A body cut short: the client's read fails and nothing partial is
	// stored.
	got, _, err := e.get("m/cut")
	if err == nil && len(got) == 200<<10 {
		t.Fatal("GET of a cut origin body succeeded")
	}
	eventually(t, "cut body's store to end", func() bool { return stored(t, e.node, e.bucket, "m/cut") == nil })
	time.Sleep(100 * time.Millisecond)
	if stored(t, e.node, e.bucket, "m/cut") != nil {
		t.Fatal("a cut origin body was stored")
	}
}

func TestCOSRedirectAndProxy(t *testing.T) {
	e := newCOSEnv(t)
	e.putOrigin(e.rule(1, "Redirect", "r/"), e.rule(2, "Proxy", "p/"))
	e.origin.set("/p/x", originObject{body: []byte("proxied"), contentType: "text/plain"})

	// Redirect: 302 to the origin, nothing fetched or stored. A client
	// that does not follow redirects sees it.
	_, port, _ := strings.Cut(e.node.Addr, ":")
	u := fmt.Sprintf("http://%s.%s:%s/r/x?a=b", e.bucket, cosDomain, port)
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	tr := &cos.AuthorizationTransport{SecretID: e.node.AccessKey, SecretKey: e.node.SecretKey, Transport: dialTo(e.node.Addr)}
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "http://" + e.origin.host() + "/r/x?a=b"; resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
		t.Fatalf("redirect: %d %q, want 302 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if e.origin.hitsOf("/r/x") != 0 || stored(t, e.node, e.bucket, "r/x") != nil {
		t.Fatal("a Redirect rule fetched or stored")
	}

	// Proxy: the origin's bytes, not stored, fetched each time.
	for i := 1; i <= 2; i++ {
		got, _, err := e.get("p/x")
		if err != nil || string(got) != "proxied" {
			t.Fatalf("proxy GET %d: %q %v", i, got, err)
		}
		if h := e.origin.hitsOf("/p/x"); h != i {
			t.Fatalf("proxy GET %d: %d origin hits", i, h)
		}
	}
	hr, err := e.c.Object.Head(e.ctx, "p/x", nil)
	if err != nil || hr.Header.Get("Content-Length") != "7" || hr.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("proxy HEAD: %v %v", err, hr)
	}
	if stored(t, e.node, e.bucket, "p/x") != nil {
		t.Fatal("a Proxy rule stored the object")
	}
}
