package hostile

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestHostileVersionIDs: version IDs are attacker input on every object
// operation. Malformed ones are a 400, never a 500 or a stack of work; a
// version ID of one key names nothing under another; and a stranger learns
// nothing about which versions exist (AccessDenied either way).
func TestHostileVersionIDs(t *testing.T) {
	t.Parallel()
	n := testnode.Start(t, testnode.Options{})
	root := verSigner{n: n, ak: n.AccessKey, sk: n.SecretKey}
	root.must(t, http.MethodPut, "/hver", "", nil, 200)
	root.must(t, http.MethodPut, "/hver", "versioning", []byte("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"), 200)
	resp, _ := root.do(t, http.MethodPut, "/hver/k", "", []byte("secret"))
	id := resp.Header.Get("x-amz-version-id")
	if id == "" {
		t.Fatal("no version ID")
	}
	bad := []string{
		"x", "null\x00", "../../etc/passwd", strings.Repeat("A", 4096), "%ff%fe", id + "=", id[:len(id)-1],
		"AAAAAAAAAAAAAAAAAAAAAA", "////////////////////////", "-_-_-_-_-_-_-_-_-_-_-_",
	}
	for _, v := range bad {
		q := "versionId=" + url.QueryEscape(v)
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodDelete} {
			resp, body := root.do(t, m, "/hver/k", q, nil)
			// 204: deleting a well-formed version that does not exist
			// succeeds, as in S3.
			if resp.StatusCode != 400 && resp.StatusCode != 404 && !(m == http.MethodDelete && resp.StatusCode == 204) {
				t.Errorf("%s versionId=%.40q: %d %s", m, v, resp.StatusCode, body)
			}
		}
		resp, body := root.do(t, http.MethodGet, "/hver", "versions=&key-marker=k&version-id-marker="+url.QueryEscape(v), nil)
		if resp.StatusCode != 400 && resp.StatusCode != 200 {
			t.Errorf("list with version-id-marker %.40q: %d %s", v, resp.StatusCode, body)
		}
	}
	// The object is untouched by all of that.
	if resp, body := root.do(t, http.MethodGet, "/hver/k", "versionId="+id, nil); resp.StatusCode != 200 || string(body) != "secret" {
		t.Fatalf("after the probes: %d %q", resp.StatusCode, body)
	}
	// A real ID under another key names nothing.
	root.must(t, http.MethodPut, "/hver/other", "", []byte("x"), 200)
	if resp, _ := root.do(t, http.MethodGet, "/hver/other", "versionId="+id, nil); resp.StatusCode != 404 {
		t.Errorf("version of k read through other: %d", resp.StatusCode)
	}
	// A stranger gets AccessDenied for real and invented versions alike.
	creds, err := n.IAM.CreateUser(context.Background(), "stranger")
	if err != nil {
		t.Fatal(err)
	}
	stranger := verSigner{n: n, ak: creds.AccessKey, sk: creds.SecretKey}
	for _, v := range []string{id, "AAAAAAAAAAAAAAAAAAAAAA", "null"} {
		for _, m := range []string{http.MethodGet, http.MethodDelete} {
			if resp, body := stranger.do(t, m, "/hver/k", "versionId="+v, nil); resp.StatusCode != 403 {
				t.Errorf("stranger %s versionId=%s: %d %s", m, v, resp.StatusCode, body)
			}
		}
	}
	if resp, _ := stranger.do(t, http.MethodGet, "/hver", "versions=", nil); resp.StatusCode != 403 {
		t.Errorf("stranger listed versions: %d", resp.StatusCode)
	}
	if resp, _ := stranger.do(t, http.MethodPut, "/hver", "versioning", []byte("<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>")); resp.StatusCode != 403 {
		t.Errorf("stranger changed versioning: %d", resp.StatusCode)
	}
}

type verSigner struct {
	n      *testnode.Node
	ak, sk string
}

func (s verSigner) do(t *testing.T, method, path, query string, body []byte) (*http.Response, []byte) {
	t.Helper()
	u := s.n.URL + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	auth.SignV4(req, s.ak, s.sk, "us-east-1", time.Now(), "")
	resp, err := s.n.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (s verSigner) must(t *testing.T, method, path, query string, body []byte, status int) {
	t.Helper()
	if resp, b := s.do(t, method, path, query, body); resp.StatusCode != status {
		t.Fatalf("%s %s?%s: %d %s", method, path, query, resp.StatusCode, b)
	}
}
