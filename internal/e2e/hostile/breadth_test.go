package hostile

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// Bad input to the issue-10 calls (tagging, CORS, Block Public Access,
// GetObjectAttributes, preflight): every answer is a 4xx error document,
// never a 5xx or a dropped connection. A PublicAccessBlock document once
// crashed its handler (an XML decode into an unexported embedded struct
// panics), so every well-formed PUT of it dropped the connection.

func signed(t *testing.T, n *testnode.Node, method, path, query string, body []byte, hdr http.Header) *http.Request {
	t.Helper()
	u := n.URL + path
	if query != "" {
		u += "?" + query
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		sum := md5.Sum(body)
		req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	h := sha256.Sum256(body)
	ph := hex.EncodeToString(h[:])
	req.Header.Set("X-Amz-Content-Sha256", ph)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: n.AccessKey, SecretAccessKey: n.SecretKey}, req, ph, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

func roundTrip(t *testing.T, n *testnode.Node, req *http.Request) (int, string) {
	t.Helper()
	resp, err := n.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v (connection dropped?)", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBreadthDocuments(t *testing.T) {
	t.Parallel()
	n := testnode.Start(t, testnode.Options{})
	if st, body := roundTrip(t, n, signed(t, n, http.MethodPut, "/hbx", "", nil, nil)); st != 200 {
		t.Fatalf("create bucket: %d %s", st, body)
	}
	if st, body := roundTrip(t, n, signed(t, n, http.MethodPut, "/hbx/k", "", []byte("x"), nil)); st != 200 {
		t.Fatalf("put: %d %s", st, body)
	}
	deep := strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000)
	garbage := []string{
		"", "not xml", "<", deep, "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"e\">]><x>&e;</x>",
		"<Tagging><TagSet><Tag><Key>" + strings.Repeat("k", 100000) + "</Key></Tag></TagSet></Tagging>",
		"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>99999999999999999999</MaxAgeSeconds></CORSRule></CORSConfiguration>",
		"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule></CORSConfiguration>",
		"<PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls></PublicAccessBlockConfiguration>",
		"<Other/>",
	}
	for _, target := range []struct{ path, query string }{
		{"/hbx/k", "tagging="}, {"/hbx", "tagging="}, {"/hbx", "cors="}, {"/hbx", "publicAccessBlock="},
	} {
		for _, doc := range garbage {
			st, body := roundTrip(t, n, signed(t, n, http.MethodPut, target.path, target.query, []byte(doc), nil))
			if st < 400 || st >= 500 || !strings.Contains(body, "<Code>") {
				t.Errorf("PUT %s?%s %.40q: %d %.200s", target.path, target.query, doc, st, body)
			}
		}
	}
	// Well-formed documents must not crash anything either.
	pab := []byte("<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>")
	if st, body := roundTrip(t, n, signed(t, n, http.MethodPut, "/hbx", "publicAccessBlock=", pab, nil)); st != 200 {
		t.Errorf("PutPublicAccessBlock: %d %s", st, body)
	}
	for _, h := range []http.Header{
		{"X-Amz-Tagging": {strings.Repeat("a=b&", 5000)}},
		{"X-Amz-Tagging": {"%"}},
		{"X-Amz-Tagging": {"=&=&="}},
	} {
		if st, body := roundTrip(t, n, signed(t, n, http.MethodPut, "/hbx/t", "", []byte("x"), h)); st < 400 || st >= 500 {
			t.Errorf("PUT with %v: %d %.200s", h, st, body)
		}
	}
	for _, h := range []http.Header{
		{}, {"X-Amz-Object-Attributes": {",,,"}}, {"X-Amz-Object-Attributes": {"ETag"}, "X-Amz-Max-Parts": {"-1"}},
		{"X-Amz-Object-Attributes": {"ETag"}, "X-Amz-Part-Number-Marker": {"99999999999999999999"}},
	} {
		if st, body := roundTrip(t, n, signed(t, n, http.MethodGet, "/hbx/k", "attributes=", nil, h)); st != 400 {
			t.Errorf("GetObjectAttributes with %v: %d %.200s", h, st, body)
		}
	}
	// Unsigned preflights with odd headers.
	for _, h := range []http.Header{
		{"Origin": {strings.Repeat("o", 8000)}, "Access-Control-Request-Method": {"GET"}},
		{"Origin": {"x"}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {strings.Repeat(",", 4000)}},
	} {
		req, _ := http.NewRequest(http.MethodOptions, n.URL+"/hbx/k", nil)
		for k, v := range h {
			req.Header[k] = v
		}
		if st, body := roundTrip(t, n, req); st != 403 {
			t.Errorf("preflight %.60v: %d %.200s", h, st, body)
		}
	}
}
