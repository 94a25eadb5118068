// Package e2evendors proves access control end to end in the OSS, COS and
// OBS dialects, through each vendor's official Go SDK (the S3 dialect is
// proven through aws-sdk-go-v2 in the parent package): two users, bucket
// policies written in the dialect's own policy language and put with the
// SDK's policy API, the deny-unencrypted-PUT policy with the dialect's
// condition keys, and canned ACLs read back with the SDK's ACL API and
// checked with unsigned requests.
//
// Every test starts a real strongroom node over HTTPS on loopback
// (internal/testnode). The package holds tests only.
package e2evendors

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestMain clears the SDKs' environment (credentials, endpoints, proxies
// the machine may set) before any test runs.
func TestMain(m *testing.M) { e2eutil.Main(m) }

const (
	KiB = 1 << 10
	MiB = 1 << 20
)

// users is a node with two users: alice owns the buckets, bob does not.
type users struct {
	node       *testnode.Node
	ctx        context.Context
	alice, bob *iam.Credentials
}

func startUsers(t *testing.T, o testnode.Options) *users {
	t.Helper()
	o.TLS = true
	n := testnode.Start(t, o)
	u := &users{node: n, ctx: context.Background()}
	var err error
	if u.alice, err = n.IAM.CreateUser(u.ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if u.bob, err = n.IAM.CreateUser(u.ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	return u
}

// kmsKeys creates KMS keys on the node's keyring, usable by alice and bob.
func (u *users) kmsKeys(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := u.node.Keyring.CreateKey(u.ctx, n); err != nil {
			t.Fatal(err)
		}
		u.node.GrantKey(t, n, "alice", "bob")
	}
}

// s3Client is an aws-sdk-go-v2 client of the node's S3 dialect.
func (u *users) s3Client(c *iam.Credentials) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(u.node.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey, ""),
		UsePathStyle: true,
		HTTPClient:   u.node.Client,
		Retryer:      aws.NopRetryer{},
	})
}

// dialTo is a transport that sends every host to addr (what a wildcard
// DNS entry does in a deployment), trusting the node's certificate.
func dialTo(addr string) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConnsPerHost: 8,
	}
}

// anonymous sends an unsigned request: nothing but method, URL and body.
func anonymous(t *testing.T, c *http.Client, method, url string) (int, []byte) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPut {
		body = strings.NewReader("anonymous write")
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// errorCode is the Code of an XML error document.
func errorCode(b []byte) string {
	var doc struct {
		Code string
	}
	xml.Unmarshal(b, &doc)
	return doc.Code
}

// checkPublicRead asserts what an anonymous client may do with a bucket
// holding the public-read object "open" (body "hello open") and the
// private object "closed": read "open", and nothing else.
func checkPublicRead(t *testing.T, c *http.Client, bucketURL string) {
	t.Helper()
	if st, b := anonymous(t, c, http.MethodGet, bucketURL+"/open"); st != http.StatusOK || string(b) != "hello open" {
		t.Fatalf("anonymous GET of the public-read object: %d %q", st, b)
	}
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/closed"},
		{http.MethodHead, "/closed"},
		{http.MethodGet, "/"},
		{http.MethodGet, "/missing"},
		{http.MethodPut, "/new"},
		{http.MethodPut, "/open"},
		{http.MethodDelete, "/open"},
		{http.MethodGet, "/open?acl"},
	} {
		st, b := anonymous(t, c, tc.method, bucketURL+tc.path)
		if st != http.StatusForbidden || tc.method != http.MethodHead && errorCode(b) != "AccessDenied" {
			t.Errorf("anonymous %s %s: %d %s; want 403 AccessDenied", tc.method, tc.path, st, b)
		}
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
