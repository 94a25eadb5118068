package hostile

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// rawNode sends raw SigV4-signed requests to a node, for the
// bad input no SDK would send.
type rawNode struct {
	n      *testnode.Node
	region string // credential scope region; "" for the server's (us-east-1)
}

func newRawNode(t *testing.T) *rawNode {
	t.Helper()
	return &rawNode{n: testnode.Start(t, testnode.Options{})}
}

// errDoc is an S3 error document.
type errDoc struct {
	Code, Message, Region string
}

// reply is a response, with its error document decoded when it has one.
type reply struct {
	status int
	header http.Header
	body   []byte
	err    errDoc
}

// do sends a root request; hdr may be nil. query is the raw query string.
func (c *rawNode) do(t *testing.T, method, path, query string, body []byte, hdr http.Header) reply {
	t.Helper()
	u := c.n.URL + path
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
	for k, vs := range hdr {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	region := c.region
	if region == "" {
		region = "us-east-1"
	}
	sum := sha256.Sum256(body)
	auth.SignV4(req, c.n.AccessKey, c.n.SecretKey, region, time.Now(), hex.EncodeToString(sum[:]))
	resp, err := c.n.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s %s: %v", method, u, err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, body: rb}
	if resp.StatusCode >= 300 && len(rb) > 0 {
		xml.Unmarshal(rb, &r.err)
	}
	return r
}

// want asserts a status and (for errors with a body) an error code.
func (r reply) want(t *testing.T, what string, status int, code string) {
	t.Helper()
	if r.status != status || r.err.Code != code {
		t.Errorf("%s: %d %q (%s), want %d %q", what, r.status, r.err.Code, r.err.Message, status, code)
	}
}

// bucket creates a bucket with a fresh name.
func (c *rawNode) bucket(t *testing.T) string {
	t.Helper()
	b := randName("b")
	c.do(t, http.MethodPut, "/"+b, "", nil, nil).want(t, "create bucket", 200, "")
	return b
}

func randName(prefix string) string {
	var r [6]byte
	rand.Read(r[:])
	return prefix + "-" + hex.EncodeToString(r[:])
}

func md5b64(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// withMD5 returns a header carrying body's Content-MD5.
func withMD5(body []byte) http.Header {
	return http.Header{"Content-Md5": {md5b64(body)}}
}

func sha256b64(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}
