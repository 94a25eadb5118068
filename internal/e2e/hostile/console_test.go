package hostile

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// consoleLogin signs in to a node's console and returns a client that
// sends its session cookie.
func consoleLogin(t *testing.T, n *testnode.Node, extra *http.Cookie) (*http.Cookie, *http.Client) {
	t.Helper()
	hc := &http.Client{Transport: n.Client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"access_key": {n.AccessKey}, "secret_key": {n.SecretKey}}
	req, _ := http.NewRequest(http.MethodPost, n.ConsoleURL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", n.ConsoleURL)
	if extra != nil {
		req.AddCookie(extra)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cs := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cs) != 1 {
		t.Fatalf("console login: %d, cookies %v", resp.StatusCode, cs)
	}
	return cs[0], hc
}

func consoleGet(t *testing.T, hc *http.Client, u string, c *http.Cookie) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.AddCookie(c)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestConsoleStoredXSS: what an outsider puts in a refused request (an
// object key, a claimed access key) reaches the operator's denials page
// escaped, never as markup.
func TestConsoleStoredXSS(t *testing.T) {
	n := testnode.Start(t, testnode.Options{Console: true})
	if _, err := n.Service.CreateBucket(context.Background(), service.Principal{User: iam.RootUser, Root: true}, "victim", "", ""); err != nil {
		t.Fatal(err)
	}
	const payload = `<script>alert(1)</script>`
	// An anonymous write, refused.
	req, _ := http.NewRequest(http.MethodPut, n.URL+"/victim/"+url.PathEscape(payload), strings.NewReader("x"))
	resp, err := n.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous PUT: %d, want 403", resp.StatusCode)
	}
	// A signature that does not verify, claiming a key made of markup.
	req, _ = http.NewRequest(http.MethodGet, n.URL+"/victim", nil)
	req.Header.Set("Authorization", `AWS4-HMAC-SHA256 Credential=<img src=x onerror=alert(2)>/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`)
	req.Header.Set("X-Amz-Date", "20260101T000000Z")
	if resp, err = n.Client.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	c, hc := consoleLogin(t, n, nil)
	status, body := consoleGet(t, hc, n.ConsoleURL+"/denials", c)
	if status != http.StatusOK {
		t.Fatalf("denials page: %d", status)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the refused key is not on the denials page, escaped:\n%s", body)
	}
	for _, raw := range []string{"<script", "<img"} {
		if strings.Contains(body, raw) {
			t.Errorf("the denials page carries raw markup %q from a request", raw)
		}
	}
}

// TestConsoleSessionFixation: a session id the browser brings to the login
// (planted by someone else) is not adopted; the login issues a fresh one,
// and the planted one opens nothing.
func TestConsoleSessionFixation(t *testing.T) {
	n := testnode.Start(t, testnode.Options{Console: true})
	planted := &http.Cookie{Name: "strongroom-console", Value: "attacker-chosen-session-id-0123456789abcdef"}
	c, hc := consoleLogin(t, n, planted)
	if c.Value == planted.Value {
		t.Fatal("the login adopted the planted session id")
	}
	if status, _ := consoleGet(t, hc, n.ConsoleURL+"/buckets", planted); status != http.StatusSeeOther {
		t.Fatalf("the planted id opened a page: %d", status)
	}
	if status, _ := consoleGet(t, hc, n.ConsoleURL+"/buckets", c); status != http.StatusOK {
		t.Fatalf("the issued session: %d", status)
	}
}
