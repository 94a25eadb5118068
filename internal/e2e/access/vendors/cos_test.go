package e2evendors

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tencentyun/cos-go-sdk-v5"

	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

const (
	cosDomain   = "cos.localhost" // pinned to the COS dialect
	cosAppID    = "1250000000"
	cosAllUsers = "http://cam.qcloud.com/groups/global/AllUsers"
)

var cosSeq atomic.Int64

// cosEnv is a node with two users and the COS domain, which COS clients
// reach by virtual host (<name-appid>.cos.localhost dialled to the node).
type cosEnv struct {
	*users
	tr *http.Transport
}

func newCOSEnv(t *testing.T) *cosEnv {
	u := startUsers(t, testnode.Options{Domains: []string{"cos=" + cosDomain}})
	e := &cosEnv{users: u, tr: dialTo(u.node.Addr)}
	t.Cleanup(e.tr.CloseIdleConnections)
	return e
}

// bucketURL is the virtual-hosted URL of a COS bucket.
func (e *cosEnv) bucketURL(t *testing.T, bucket string) string {
	_, port, _ := net.SplitHostPort(e.node.Addr)
	return "https://" + bucket + "." + cosDomain + ":" + port
}

// client is the COS SDK client of bucket as user c, without retries.
func (e *cosEnv) client(t *testing.T, bucket string, c *iam.Credentials) *cos.Client {
	u, err := url.Parse(e.bucketURL(t, bucket))
	if err != nil {
		t.Fatal(err)
	}
	cl := cos.NewClient(&cos.BaseURL{BucketURL: u}, &http.Client{
		Transport: &cos.AuthorizationTransport{SecretID: c.AccessKey, SecretKey: c.SecretKey, Transport: e.tr},
	})
	cl.Conf.RetryOpt.Count = 1
	return cl
}

// bucket creates a fresh name-appid bucket owned by alice and returns the
// clients of alice and bob.
func (e *cosEnv) bucket(t *testing.T, prefix string) (name string, alice, bob *cos.Client) {
	t.Helper()
	name = fmt.Sprintf("%s%d-%s", prefix, cosSeq.Add(1), cosAppID)
	alice, bob = e.client(t, name, e.alice), e.client(t, name, e.bob)
	if _, err := alice.Bucket.Put(e.ctx, nil); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name, alice, bob
}

// wantCOSErr asserts a COS error response with status and code.
func wantCOSErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	e, ok := cos.IsCOSError(err)
	if !ok {
		t.Fatalf("got %v (%T); want COS error %d %s", err, err, status, code)
	}
	if e.Response == nil || e.Response.StatusCode != status || e.Code != code || e.RequestID == "" {
		t.Fatalf("got %v; want %d %s with a request id", err, status, code)
	}
}

// cosKMS are COS SSE-KMS request headers (the SDK has no typed key-id
// field).
func cosKMS(mode, keyID string) *cos.ObjectPutHeaderOptions {
	h := http.Header{}
	if mode != "" {
		h.Set("x-cos-server-side-encryption", mode)
	}
	if keyID != "" {
		h.Set("x-cos-server-side-encryption-cos-kms-key-id", keyID)
	}
	return &cos.ObjectPutHeaderOptions{XOptionHeader: &h}
}

// TestCOSPolicyGrantsEncryptionConfig: bob gets 403 AccessDenied on
// Get/Put/DeleteBucketEncryption until alice grants the COS actions
// (name/cos:...) on the qcs bucket resource to bob's qcs principal with
// Bucket.PutPolicy; then they succeed; GetPolicy returns the document;
// DeletePolicy takes the grant away; a malformed policy is
// InvalidPolicyDocument.
func TestCOSPolicyGrantsEncryptionConfig(t *testing.T) {
	t.Parallel()
	e := newCOSEnv(t)
	name, alice, bob := e.bucket(t, "encpolicy")
	ops := []struct {
		name string
		do   func() error
	}{
		{"PutBucketEncryption", func() error {
			_, err := bob.Bucket.PutEncryption(e.ctx, &cos.BucketPutEncryptionOptions{Rule: &cos.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"}})
			return err
		}},
		{"GetBucketEncryption", func() error {
			res, _, err := bob.Bucket.GetEncryption(e.ctx)
			if err == nil && res.Rule.SSEAlgorithm != "AES256" {
				return fmt.Errorf("GetBucketEncryption: %+v", res.Rule)
			}
			return err
		}},
		{"DeleteBucketEncryption", func() error {
			_, err := bob.Bucket.DeleteEncryption(e.ctx)
			return err
		}},
	}
	for _, op := range ops {
		wantCOSErr(t, op.do(), http.StatusForbidden, "AccessDenied")
	}
	policy := &cos.BucketPutPolicyOptions{Version: "2.0", Statement: []cos.BucketStatement{{
		Principal: map[string][]string{"qcs": {"qcs::cam::uin/strongroom:uin/bob"}},
		Effect:    "allow",
		Action:    []string{"name/cos:GetBucketEncryption", "name/cos:PutBucketEncryption", "name/cos:DeleteBucketEncryption"},
		Resource:  []string{"qcs::cos:ap-guangzhou:uid/" + cosAppID + ":" + name + "/"},
	}}}
	_, err := bob.Bucket.PutPolicy(e.ctx, policy)
	wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")
	if resp, err := alice.Bucket.PutPolicy(e.ctx, policy); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PutPolicy: %v", err)
	}
	got, _, err := alice.Bucket.GetPolicy(e.ctx)
	if err != nil || !reflect.DeepEqual(cos.BucketPutPolicyOptions(*got), *policy) {
		t.Fatalf("GetPolicy = %+v, %v; want %+v", got, err, policy)
	}
	for _, op := range ops {
		if err := op.do(); err != nil {
			t.Fatalf("bob's %s after the grant: %v", op.name, err)
		}
	}
	// Only the named actions: bob still may not list or read.
	_, _, err = bob.Bucket.Get(e.ctx, nil)
	wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")

	if _, err := alice.Bucket.DeletePolicy(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		wantCOSErr(t, op.do(), http.StatusForbidden, "AccessDenied")
	}
	_, _, err = alice.Bucket.GetPolicy(e.ctx)
	wantCOSErr(t, err, http.StatusNotFound, "NoSuchBucketPolicy")

	for what, mutate := range map[string]func(s *cos.BucketStatement){
		"unknown action":  func(s *cos.BucketStatement) { s.Action = []string{"name/cos:GetBucketEncryptionn"} },
		"another service": func(s *cos.BucketStatement) { s.Resource = []string{"qcs::cvm:ap-guangzhou:uid/1:instance/*"} },
		"bad effect":      func(s *cos.BucketStatement) { s.Effect = "maybe" },
		"unknown operator": func(s *cos.BucketStatement) {
			s.Condition = map[string]map[string]interface{}{"string_equals_maybe": {"qcs:ip": "10.0.0.1"}}
		},
		"principal not a user": func(s *cos.BucketStatement) { s.Principal = map[string][]string{"qcs": {"uin/bob"}} },
	} {
		bad := *policy
		bad.Statement = []cos.BucketStatement{policy.Statement[0]}
		mutate(&bad.Statement[0])
		_, err := alice.Bucket.PutPolicy(e.ctx, &bad)
		if e, ok := cos.IsCOSError(err); !ok || e.Code != "InvalidPolicyDocument" || e.Response.StatusCode != http.StatusBadRequest {
			t.Errorf("PutPolicy with %s: %v; want 400 InvalidPolicyDocument", what, err)
		}
	}
}

// TestCOSDenyUnencryptedPut: the deny-unencrypted-PUT policy with COS's
// operators and condition keys (string_not_equal
// cos:x-cos-server-side-encryption "cos/kms",
// string_not_equal_if_exist on the cos/kms key id) refuses plain, SSE-COS
// and other-key writes and lets cos/kms with the key through, including
// the parts of a multipart upload initiated with it.
func TestCOSDenyUnencryptedPut(t *testing.T) {
	t.Parallel()
	e := newCOSEnv(t)
	e.kmsKeys(t, "key-x", "key-y")
	name, alice, _ := e.bucket(t, "kmsonly")
	res := "qcs::cos:ap-guangzhou:uid/" + cosAppID + ":" + name + "/*"
	deny := func(cond map[string]map[string]interface{}) cos.BucketStatement {
		return cos.BucketStatement{Principal: map[string][]string{"qcs": {"qcs::cam::anyone:anyone"}}, Effect: "deny",
			Action: []string{"name/cos:PutObject", "name/cos:InitiateMultipartUpload"}, Resource: []string{res}, Condition: cond}
	}
	policy := &cos.BucketPutPolicyOptions{Version: "2.0", Statement: []cos.BucketStatement{
		deny(map[string]map[string]interface{}{"string_not_equal": {"cos:x-cos-server-side-encryption": "cos/kms"}}),
		deny(map[string]map[string]interface{}{"string_not_equal_if_exist": {"cos:x-cos-server-side-encryption-cos-kms-key-id": "key-x"}}),
	}}
	if _, err := alice.Bucket.PutPolicy(e.ctx, policy); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opt  *cos.ObjectPutHeaderOptions
		ok   bool
	}{
		{"plain", nil, false},
		{"AES256", &cos.ObjectPutHeaderOptions{XCosServerSideEncryption: "AES256"}, false},
		{"cos/kms default key", cosKMS("cos/kms", ""), false},
		{"cos/kms key-y", cosKMS("cos/kms", "key-y"), false},
		{"cos/kms key-x", cosKMS("cos/kms", "key-x"), true},
	} {
		_, err := alice.Object.Put(e.ctx, "obj", strings.NewReader("data"), &cos.ObjectPutOptions{ObjectPutHeaderOptions: tc.opt})
		if tc.ok && err != nil {
			t.Fatalf("PUT %s: %v", tc.name, err)
		}
		if !tc.ok {
			wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")
		}
	}
	multipart := func(key string, opt *cos.ObjectPutHeaderOptions) error {
		up, _, err := alice.Object.InitiateMultipartUpload(e.ctx, key, &cos.InitiateMultipartUploadOptions{ObjectPutHeaderOptions: opt})
		if err != nil {
			return err
		}
		parts := [][]byte{randBytes(MiB), []byte("tail")} // COS parts: 1 MB but the last
		var done []cos.Object
		for i, p := range parts {
			resp, err := alice.Object.UploadPart(e.ctx, key, up.UploadID, i+1, bytes.NewReader(p), nil)
			if err != nil {
				return fmt.Errorf("UploadPart %d: %w", i+1, err)
			}
			done = append(done, cos.Object{PartNumber: i + 1, ETag: resp.Header.Get("ETag")})
		}
		_, resp, err := alice.Object.CompleteMultipartUpload(e.ctx, key, up.UploadID, &cos.CompleteMultipartUploadOptions{Parts: done})
		if err != nil {
			return fmt.Errorf("CompleteMultipartUpload: %w", err)
		}
		if got := resp.Header.Get("x-cos-server-side-encryption"); got != "cos/kms" {
			return fmt.Errorf("CompleteMultipartUpload x-cos-server-side-encryption %q", got)
		}
		return nil
	}
	wantCOSErr(t, multipart("mp-plain", nil), http.StatusForbidden, "AccessDenied")
	if err := multipart("mp", cosKMS("cos/kms", "key-x")); err != nil {
		t.Fatalf("multipart upload with cos/kms key-x: %v", err)
	}
	if _, err := alice.Bucket.DeletePolicy(e.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Object.Put(e.ctx, "obj", strings.NewReader("data"), nil); err != nil {
		t.Fatalf("plain PUT without the policy: %v", err)
	}
}

// TestCOSPublicRead: an object written with x-cos-acl public-read, and one
// made public-read with Object.PutACL, are readable with unsigned
// requests, nothing else is; Object.GetACL reports the ACL (the SDK reads
// it from the AllUsers grant into x-cos-acl); PutACL private closes it.
// The bucket ACL round-trips too.
func TestCOSPublicRead(t *testing.T) {
	t.Parallel()
	e := newCOSEnv(t)
	name, alice, bob := e.bucket(t, "public")
	for _, o := range []struct{ key, acl string }{{"open", "public-read"}, {"closed", ""}, {"later", ""}} {
		opt := &cos.ObjectPutOptions{}
		if o.acl != "" {
			opt.ACLHeaderOptions = &cos.ACLHeaderOptions{XCosACL: o.acl}
		}
		if _, err := alice.Object.Put(e.ctx, o.key, strings.NewReader("hello "+o.key), opt); err != nil {
			t.Fatal(err)
		}
	}
	anon := &http.Client{Transport: e.tr}
	base := e.bucketURL(t, name)
	checkPublicRead(t, anon, base)

	objectACL := func(c *cos.Client, key string) (string, *cos.ACLXml, error) {
		res, resp, err := c.Object.GetACL(e.ctx, key)
		if err != nil {
			return "", nil, err
		}
		return resp.Header.Get("x-cos-acl"), res, nil
	}
	acl, doc, err := objectACL(alice, "open")
	if err != nil || acl != "public-read" {
		t.Fatalf("GetACL of the public-read object: %q, %v", acl, err)
	}
	allUsersRead := false
	for _, g := range doc.AccessControlList {
		allUsersRead = allUsersRead || g.Grantee != nil && g.Grantee.URI == cosAllUsers && g.Permission == "READ"
	}
	if !allUsersRead || doc.Owner == nil || doc.Owner.ID == "" {
		t.Fatalf("GetACL document %+v: want the owner and an AllUsers READ grant", doc)
	}
	if acl, _, err := objectACL(alice, "closed"); err != nil || acl != "private" {
		t.Fatalf("GetACL of the object without an ACL: %q, %v", acl, err)
	}
	_, _, err = objectACL(bob, "open")
	wantCOSErr(t, err, http.StatusForbidden, "AccessDenied")

	// PutACL by header and by document.
	if _, err := alice.Object.PutACL(e.ctx, "later", &cos.ObjectPutACLOptions{Header: &cos.ACLHeaderOptions{XCosACL: "public-read"}}); err != nil {
		t.Fatal(err)
	}
	if st, body := anonymous(t, anon, http.MethodGet, base+"/later"); st != http.StatusOK || string(body) != "hello later" {
		t.Fatalf("anonymous GET after PutACL public-read: %d %q", st, body)
	}
	private := &cos.ACLXml{Owner: doc.Owner, AccessControlList: []cos.ACLGrant{{
		Grantee: &cos.ACLGrantee{Type: "CanonicalUser", ID: doc.Owner.ID}, Permission: "FULL_CONTROL"}}}
	for _, opt := range []*cos.ObjectPutACLOptions{
		{Header: &cos.ACLHeaderOptions{XCosACL: "private"}},
		{Body: private},
	} {
		if _, err := alice.Object.PutACL(e.ctx, "later", &cos.ObjectPutACLOptions{Header: &cos.ACLHeaderOptions{XCosACL: "public-read"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.Object.PutACL(e.ctx, "later", opt); err != nil {
			t.Fatalf("PutACL private: %v", err)
		}
		if acl, _, err := objectACL(alice, "later"); err != nil || acl != "private" {
			t.Fatalf("GetACL after PutACL private: %q, %v", acl, err)
		}
		if st, _ := anonymous(t, anon, http.MethodGet, base+"/later"); st != http.StatusForbidden {
			t.Fatalf("anonymous GET after PutACL private: %d", st)
		}
	}
	public := &cos.ACLXml{Owner: doc.Owner, AccessControlList: append(private.AccessControlList,
		cos.ACLGrant{Grantee: &cos.ACLGrantee{Type: "Group", URI: cosAllUsers}, Permission: "READ"})}
	if _, err := alice.Object.PutACL(e.ctx, "later", &cos.ObjectPutACLOptions{Body: public}); err != nil {
		t.Fatalf("PutACL with an AllUsers READ document: %v", err)
	}
	if st, _ := anonymous(t, anon, http.MethodGet, base+"/later"); st != http.StatusOK {
		t.Fatalf("anonymous GET after PutACL with an AllUsers READ document: %d", st)
	}

	// The bucket ACL: public-read opens the listing, and the objects that
	// follow the bucket's ACL (COS's default for objects written without
	// x-cos-acl), not those made private.
	if _, err := alice.Object.PutACL(e.ctx, "open", &cos.ObjectPutACLOptions{Header: &cos.ACLHeaderOptions{XCosACL: "private"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Bucket.PutACL(e.ctx, &cos.BucketPutACLOptions{Header: &cos.ACLHeaderOptions{XCosACL: "public-read"}}); err != nil {
		t.Fatal(err)
	}
	if _, resp, err := alice.Bucket.GetACL(e.ctx); err != nil || resp.Header.Get("x-cos-acl") != "public-read" {
		t.Fatalf("Bucket.GetACL after public-read: %v", err)
	}
	if st, body := anonymous(t, anon, http.MethodGet, base+"/"); st != http.StatusOK || !bytes.Contains(body, []byte("<Key>closed</Key>")) {
		t.Fatalf("anonymous listing of a public-read bucket: %d %s", st, body)
	}
	if st, _ := anonymous(t, anon, http.MethodGet, base+"/closed"); st != http.StatusOK {
		t.Fatalf("anonymous GET of a default-ACL object in a public-read bucket: %d", st)
	}
	if st, _ := anonymous(t, anon, http.MethodGet, base+"/open"); st != http.StatusForbidden {
		t.Fatalf("anonymous GET of a private object in a public-read bucket: %d", st)
	}
	if st, _ := anonymous(t, anon, http.MethodPut, base+"/new"); st != http.StatusForbidden {
		t.Fatalf("anonymous PUT into a public-read bucket: %d", st)
	}
	if _, err := alice.Bucket.PutACL(e.ctx, &cos.BucketPutACLOptions{Header: &cos.ACLHeaderOptions{XCosACL: "private"}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := anonymous(t, anon, http.MethodGet, base+"/"); st != http.StatusForbidden {
		t.Fatalf("anonymous listing after Bucket.PutACL private: %d", st)
	}
}
