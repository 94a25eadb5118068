package console_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/console"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

var root = service.Principal{User: iam.RootUser, Root: true}

// browser is a minimal cookie-keeping client that does not follow
// redirects, so each answer's status and cookies can be checked.
type browser struct {
	t      *testing.T
	base   string
	hc     *http.Client
	cookie *http.Cookie // the session cookie, once set
	csrf   string       // the last page's CSRF token
}

func newBrowser(t *testing.T, n *testnode.Node) *browser {
	hc := &http.Client{Transport: n.Client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: t, base: n.ConsoleURL, hc: hc}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			b.cookie = nil
		} else {
			b.cookie = c
		}
	}
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

// post sends a form from origin ("" sends no Origin header).
func (b *browser) post(path string, form url.Values, origin string) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

func (b *browser) login(ak, sk string) *http.Response {
	resp, _ := b.post("/login", url.Values{"access_key": {ak}, "secret_key": {sk}}, b.base)
	return resp
}

func startNode(t *testing.T, tls bool) *testnode.Node {
	return testnode.Start(t, testnode.Options{Console: true, TLS: tls})
}

func TestLogin(t *testing.T) {
	n := startNode(t, false)
	user, err := n.IAM.CreateUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		ak, sk   string
		status   int
		loggedIn bool
	}{
		{"wrong secret", n.AccessKey, n.SecretKey + "x", http.StatusUnauthorized, false},
		{"secret prefix", n.AccessKey, n.SecretKey[:len(n.SecretKey)-1], http.StatusUnauthorized, false},
		{"unknown key", "NOSUCHKEY0000000", n.SecretKey, http.StatusUnauthorized, false},
		{"empty", "", "", http.StatusUnauthorized, false},
		{"not an administrator", user.AccessKey, user.SecretKey, http.StatusForbidden, false},
		{"root", n.AccessKey, n.SecretKey, http.StatusSeeOther, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBrowser(t, n)
			resp := b.login(tc.ak, tc.sk)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if (b.cookie != nil) != tc.loggedIn {
				t.Fatalf("session cookie %v, want one: %v", b.cookie, tc.loggedIn)
			}
			resp, body := b.get("/buckets")
			if tc.loggedIn {
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Encryption coverage") {
					t.Fatalf("GET /buckets after login: %d\n%s", resp.StatusCode, body)
				}
			} else if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
				t.Fatalf("GET /buckets without a session: %d to %q, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	// The refusals are on the denials page, without the secrets tried.
	b := newBrowser(t, n)
	b.login(n.AccessKey, n.SecretKey)
	_, body := b.get("/denials")
	for _, want := range []string{"console login", "NOSUCHKEY0000000", user.AccessKey, "the console is the root account&#39;s"} {
		if !strings.Contains(body, want) {
			t.Errorf("denials page lacks %q", want)
		}
	}
	for _, secret := range []string{n.SecretKey, user.SecretKey} {
		if strings.Contains(body, secret) {
			t.Errorf("denials page shows a secret")
		}
	}
}

func TestCookieFlags(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			n := startNode(t, tls)
			b := newBrowser(t, n)
			if resp := b.login(n.AccessKey, n.SecretKey); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %d", resp.StatusCode)
			}
			c := b.cookie
			wantName := map[bool]string{false: "strongroom-console", true: "__Host-strongroom-console"}[tls]
			if c.Name != wantName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != tls || c.Path != "/" || c.Domain != "" {
				t.Fatalf("cookie %s=… HttpOnly=%v SameSite=%v Secure=%v Path=%q Domain=%q; want %s, HttpOnly, Strict, Secure=%v, Path /",
					c.Name, c.HttpOnly, c.SameSite, c.Secure, c.Path, c.Domain, wantName, tls)
			}
			if len(c.Value) < 43 {
				t.Fatalf("session id %d characters, want 32 random bytes", len(c.Value))
			}
			// A second login gets another id.
			first := c.Value
			b2 := newBrowser(t, n)
			b2.login(n.AccessKey, n.SecretKey)
			if b2.cookie.Value == first {
				t.Fatal("two logins got the same session id")
			}
		})
	}
}

// TestCSRF: the one write refuses a form without the session's token, or
// from another origin, and leaves the bucket as it was.
func TestCSRF(t *testing.T) {
	ctx := context.Background()
	n := startNode(t, false)
	if _, err := n.Service.CreateBucket(ctx, root, "photos", "", ""); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, n)
	b.login(n.AccessKey, n.SecretKey)
	if resp, _ := b.get("/buckets/photos"); resp.StatusCode != http.StatusOK || b.csrf == "" {
		t.Fatalf("bucket page: %d, token %q", resp.StatusCode, b.csrf)
	}
	form := func(token string) url.Values {
		return url.Values{"mode": {"managed"}, "csrf": {token}}
	}
	refused := []struct {
		name    string
		form    url.Values
		origin  string
		headers map[string]string
	}{
		{"no token", url.Values{"mode": {"managed"}}, b.base, nil},
		{"wrong token", form("x" + b.csrf[1:]), b.base, nil},
		{"cross origin", form(b.csrf), "http://evil.example", nil},
		{"other port", form(b.csrf), "http://127.0.0.1:1", nil},
		{"null origin", form(b.csrf), "null", nil},
		{"no origin nor referer", form(b.csrf), "", nil},
		{"cross-site fetch", form(b.csrf), b.base, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"cross-origin referer", form(b.csrf), "", map[string]string{"Referer": "http://evil.example/page"}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, b.base+"/buckets/photos/encryption", strings.NewReader(tc.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, _ := b.do(req)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
			if _, err := n.Service.GetBucketEncryption(ctx, root, "photos"); !errors.Is(err, errs.NoEncryptionConfig) {
				t.Fatalf("bucket encryption after a refused form: %v", err)
			}
		})
	}
	// A cross-origin login is refused too (login CSRF).
	if resp, _ := newBrowser(t, n).post("/login", url.Values{"access_key": {n.AccessKey}, "secret_key": {n.SecretKey}}, "http://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin login: %d, want 403", resp.StatusCode)
	}
	// The same form with the token, from the console's pages, is taken;
	// a same-origin Referer stands for a missing Origin.
	req, _ := http.NewRequest(http.MethodPost, b.base+"/buckets/photos/encryption", strings.NewReader(form(b.csrf).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", b.base+"/buckets/photos")
	if resp, body := b.do(req); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin form: %d\n%s", resp.StatusCode, body)
	}
	c, err := n.Service.GetBucketEncryption(ctx, root, "photos")
	if err != nil || c.Mode != sse.Managed {
		t.Fatalf("bucket encryption %+v, %v; want SSE-S3", c, err)
	}
}

func TestSetEncryption(t *testing.T) {
	ctx := context.Background()
	n := startNode(t, false)
	for _, name := range []string{"logs"} {
		if _, err := n.Service.CreateBucket(ctx, root, name, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.Keys.CreateKey(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, n)
	b.login(n.AccessKey, n.SecretKey)
	b.get("/buckets/logs")
	resp, body := b.post("/buckets/logs/encryption", url.Values{"mode": {"kms"}, "key": {"ledger"}, "bucket_key": {"on"}, "csrf": {b.csrf}}, b.base)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/buckets/logs?saved=1" {
		t.Fatalf("set SSE-KMS: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	c, err := n.Service.GetBucketEncryption(ctx, root, "logs")
	if err != nil || c.Mode != sse.KMS || c.KeyID != "ledger" || !c.BucketKey {
		t.Fatalf("bucket encryption %+v, %v; want SSE-KMS ledger with a bucket key", c, err)
	}
	_, body = b.get("/buckets/logs?saved=1")
	if !strings.Contains(body, "Default encryption saved") || !strings.Contains(body, "<code>ledger</code>") {
		t.Fatalf("bucket page after saving:\n%s", body)
	}
	// Errors come back as S3 names them, and change nothing.
	resp, body = b.post("/buckets/logs/encryption", url.Values{"mode": {"kms"}, "key": {"no-such-key"}, "csrf": {b.csrf}}, b.base)
	if resp.StatusCode/100 != 4 || !strings.Contains(body, "KMS.NotFoundException") {
		t.Fatalf("unknown key: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = b.post("/buckets/logs/encryption", url.Values{"mode": {"customer"}, "csrf": {b.csrf}}, b.base)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("mode customer: %d, want 400", resp.StatusCode)
	}
	if resp, _ := b.post("/buckets/nope/encryption", url.Values{"mode": {"managed"}, "csrf": {b.csrf}}, b.base); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown bucket: %d, want 404", resp.StatusCode)
	}
	if c2, _ := n.Service.GetBucketEncryption(ctx, root, "logs"); c2.KeyID != "ledger" {
		t.Fatalf("a refused change changed the bucket: %+v", c2)
	}
}

func TestLogout(t *testing.T) {
	n := startNode(t, false)
	b := newBrowser(t, n)
	b.login(n.AccessKey, n.SecretKey)
	b.get("/buckets")
	stolen := b.cookie
	// Logout is a POST with the token like any other.
	if resp, _ := b.post("/logout", url.Values{}, b.base); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without token: %d, want 403", resp.StatusCode)
	}
	resp, _ := b.post("/logout", url.Values{"csrf": {b.csrf}}, b.base)
	if resp.StatusCode != http.StatusSeeOther || b.cookie != nil {
		t.Fatalf("logout: %d, cookie %v; want a redirect clearing the cookie", resp.StatusCode, b.cookie)
	}
	// The session is gone on the server: its cookie, replayed, opens
	// nothing.
	b.cookie = stolen
	if resp, _ := b.get("/keys"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("old session after logout: %d", resp.StatusCode)
	}
	if resp, _ := b.post("/logout", url.Values{"csrf": {b.csrf}}, b.base); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST with an ended session: %d, want 401", resp.StatusCode)
	}
}

func TestLoginThrottle(t *testing.T) {
	n := startNode(t, false)
	b := newBrowser(t, n)
	for range 5 {
		if resp := b.login(n.AccessKey, "wrong-secret"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("bad login: %d", resp.StatusCode)
		}
	}
	if resp := b.login(n.AccessKey, n.SecretKey); resp.StatusCode != http.StatusTooManyRequests || b.cookie != nil {
		t.Fatalf("login after 5 failures: %d, want 429 and no session", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	n := startNode(t, true)
	b := newBrowser(t, n)
	resp, body := b.get("/login")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="secret_key" type="password"`) {
		t.Fatalf("login page: %d\n%s", resp.StatusCode, body)
	}
	for k, want := range map[string]string{
		"X-Frame-Options":           "DENY",
		"X-Content-Type-Options":    "nosniff",
		"Cache-Control":             "no-store",
		"Strict-Transport-Security": "max-age=31536000",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if resp, css := b.get("/static/console.css"); resp.StatusCode != http.StatusOK || !strings.Contains(css, "--accent") {
		t.Fatalf("stylesheet: %d", resp.StatusCode)
	}
}

// TestCountLimit: counts per bucket and key stop at the scan limit and
// say so.
func TestCountLimit(t *testing.T) {
	ctx := context.Background()
	n := startNode(t, false)
	for _, name := range []string{"a-first", "b-second", "c-third"} {
		if _, err := n.Service.CreateBucket(ctx, root, name, "", ""); err != nil {
			t.Fatal(err)
		}
		if name == "c-third" {
			continue
		}
		for _, key := range []string{"1", "2", "3"} {
			in := service.PutObjectInput{Bucket: name, Key: key, Body: service.Body{Reader: strings.NewReader("data"), Size: 4},
				SSE: &sse.Spec{Mode: sse.Managed}}
			if _, err := n.Service.PutObject(ctx, root, in); err != nil {
				t.Fatal(err)
			}
		}
	}
	c, err := console.New(console.Config{Service: n.Service, IAM: n.IAM, Meta: n.Meta(), Keys: n.Keys, Jobs: n.Jobs, ScanLimit: 4})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	b := newBrowser(t, n)
	b.base = srv.URL
	b.login(n.AccessKey, n.SecretKey)
	_, body := b.get("/buckets")
	for _, want := range []string{"stopped after 4 object versions", "≥ 1", "not counted", "SSE-S3", ">6<"} {
		if !strings.Contains(body, want) {
			t.Errorf("buckets page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}

// TestKeysPageCountsWrappingKey: the keys page counts each version under
// the key whose ciphertext wraps it as stored: after a rewrap of the
// default key's objects --to another key, SSE-S3 objects count under
// that key, though their encryption settings name none.
func TestKeysPageCountsWrappingKey(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	n := testnode.Start(t, testnode.Options{Console: true, Now: func() time.Time { return now }})
	if _, err := n.Service.CreateBucket(ctx, root, "wrapped", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Keys.CreateKey(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	put := func(key string, spec *sse.Spec) {
		in := service.PutObjectInput{Bucket: "wrapped", Key: key, Body: service.Body{Reader: strings.NewReader("data"), Size: 4}, SSE: spec}
		if _, err := n.Service.PutObject(ctx, root, in); err != nil {
			t.Fatal(err)
		}
	}
	put("s3-1", &sse.Spec{Mode: sse.Managed})
	put("s3-2", &sse.Spec{Mode: sse.Managed})
	put("kms", &sse.Spec{Mode: sse.KMS, KeyID: "ledger"})
	if err := service.StartKeyJob(ctx, n.Meta(), service.RewrapJob, service.KeyJobRequest{Key: kms.DefaultKeyName, To: "ledger", Requested: now}); err != nil {
		t.Fatal(err)
	}
	if j, err := n.Jobs.RunPass(ctx, service.RewrapJob); err != nil || j.Pass["rewrapped"] != 2 {
		t.Fatalf("rewrap: %v, %v", j, err)
	}
	b := newBrowser(t, n)
	b.login(n.AccessKey, n.SecretKey)
	_, body := b.get("/keys")
	protects := func(key string) string {
		m := regexp.MustCompile(`(?s)<code>` + regexp.QuoteMeta(key) + `</code>.*?<td class="num">([^<]*)</td>\s*</tr>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no row for %s:\n%s", key, body)
		}
		return m[1]
	}
	if got := protects("ledger"); got != "3" {
		t.Errorf("ledger protects %q, want 3", got)
	}
	if got := protects(kms.DefaultKeyName); got != "0" {
		t.Errorf("the default key protects %q, want 0", got)
	}
}
