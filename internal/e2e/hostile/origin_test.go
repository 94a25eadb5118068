package hostile

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// Back-to-source is a server-side request a bucket owner points anywhere:
// the guard refuses loopback, link-local, private and metadata-service
// addresses, checked on the address actually dialled (redirects and DNS
// included), unless the operator allows them (--origin-allow).

// countingOrigin serves "pulled" at every path on addr and counts hits.
func countingOrigin(t *testing.T, addr string, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("pulled")) })
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("listen %s: %v", addr, err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &hits
}

// originDoc is a Mirror rule for keys under m/ pointing at host.
func originDoc(host string) []byte {
	return []byte(`<OriginConfiguration><OriginRule><RulePriority>1</RulePriority><OriginType>Mirror</OriginType>` +
		`<OriginCondition><HTTPStatusCode>404</HTTPStatusCode><Prefix>m/</Prefix></OriginCondition>` +
		`<OriginParameter><Protocol>HTTP</Protocol><FollowQueryString>true</FollowQueryString><FollowRedirection>true</FollowRedirection></OriginParameter>` +
		`<OriginInfo><HostInfo><HostName>` + host + `</HostName></HostInfo></OriginInfo></OriginRule></OriginConfiguration>`)
}

func putOrigin(t *testing.T, c *rawNode, bucket, host string) {
	t.Helper()
	doc := originDoc(host)
	c.do(t, http.MethodPut, "/"+bucket, "x-strongroom-origin", doc, http.Header{"Content-MD5": {md5b64(doc)}}).want(t, "put origin", 200, "")
}

func TestOriginGuardRefusesInternalAddresses(t *testing.T) {
	logs := &e2eutil.LogBuffer{}
	c := &rawNode{n: testnode.Start(t, testnode.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})} // no --origin-allow
	srv, hits := countingOrigin(t, "127.0.0.1:0", nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, host := range []string{
		srv.Listener.Addr().String(), // loopback by address
		"localhost:" + port,          // loopback by name: checked after resolution
		"169.254.169.254",            // the metadata service
		"10.0.0.1:" + port,           // RFC 1918
		"[::1]:" + port,
		"[fd00:ec2::254]", // the IPv6 metadata service
	} {
		b := c.bucket(t)
		putOrigin(t, c, b, host)
		r := c.do(t, http.MethodGet, "/"+b+"/m/x", "token=SECRET-QUERY-VALUE", nil, nil)
		r.want(t, "GET via "+host, 424, "FailedDependency")
		if !strings.Contains(r.err.Message, "not allowed") {
			t.Errorf("GET via %s: message %q does not say the origin was refused", host, r.err.Message)
		}
		c.do(t, http.MethodHead, "/"+b+"/m/x", "", nil, nil).want(t, "HEAD via "+host, 424, "")
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the refused origin was reached %d times", n)
	}
	if strings.Contains(logs.String(), "SECRET-QUERY-VALUE") {
		t.Error("the client's query string reached the log")
	}
}

func TestOriginGuardAllowAndRedirects(t *testing.T) {
	// Only 127.0.0.1 is allowed; 127.0.0.2 (also loopback) is not.
	c := &rawNode{n: testnode.Start(t, testnode.Options{OriginAllow: []string{"127.0.0.1"}})}
	inner, innerHits := countingOrigin(t, "127.0.0.2:0", nil)
	srv, hits := countingOrigin(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/m/hop" {
			http.Redirect(w, r, "http://"+inner.Listener.Addr().String()+"/m/x", http.StatusFound)
			return
		}
		w.Write([]byte("pulled"))
	}))
	b := c.bucket(t)
	putOrigin(t, c, b, srv.Listener.Addr().String())

	r := c.do(t, http.MethodGet, "/"+b+"/m/ok", "", nil, nil)
	if r.status != 200 || string(r.body) != "pulled" {
		t.Fatalf("allowed origin: %d %q", r.status, r.body)
	}
	// A redirect from the allowed origin to a refused address is refused
	// at dial time.
	r = c.do(t, http.MethodGet, "/"+b+"/m/hop", "", nil, nil)
	r.want(t, "redirect to a refused address", 424, "FailedDependency")
	if hits.Load() != 2 || innerHits.Load() != 0 {
		t.Fatalf("hits: allowed %d (want 2), refused %d (want 0)", hits.Load(), innerHits.Load())
	}

	// Allowing a host name lets that name through whatever it resolves
	// to, and nothing else.
	c2 := &rawNode{n: testnode.Start(t, testnode.Options{OriginAllow: []string{"localhost"}})}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	b2 := c2.bucket(t)
	putOrigin(t, c2, b2, "localhost:"+port)
	if r := c2.do(t, http.MethodGet, "/"+b2+"/m/by-name", "", nil, nil); r.status != 200 {
		t.Fatalf("allowed host name: %d %s", r.status, r.body)
	}
	b3 := c2.bucket(t)
	putOrigin(t, c2, b3, srv.Listener.Addr().String())
	c2.do(t, http.MethodGet, "/"+b3+"/m/by-address", "", nil, nil).want(t, "address of an allowed name", 424, "FailedDependency")
}
