// Package e2eaccess proves access control end to end: two users, bucket
// policies, user policies and canned ACLs, driven through real SDKs over
// loopback.
package e2eaccess

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func TestMain(m *testing.M) { e2eutil.Main(m) }

func s3Client(n *testnode.Node, ak, sk string) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint:               aws.String(n.URL),
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider(ak, sk, ""),
		UsePathStyle:               true,
		HTTPClient:                 n.Client,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		RetryMaxAttempts:           1,
	})
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

type users struct {
	node       *testnode.Node
	alice, bob *s3.Client
}

func setup(t *testing.T) *users {
	t.Helper()
	n := testnode.Start(t, testnode.Options{TLS: true})
	ctx := context.Background()
	a, err := n.IAM.CreateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.IAM.CreateUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	return &users{node: n, alice: s3Client(n, a.AccessKey, a.SecretKey), bob: s3Client(n, b.AccessKey, b.SecretKey)}
}

// TestBucketPolicyGrantsEncryptionConfig: a non-owner gets 403 on
// Get/Put/DeleteBucketEncryption until the owner grants the actions by
// bucket policy; then the same calls succeed; removing the policy takes the
// grant away again.
func TestBucketPolicyGrantsEncryptionConfig(t *testing.T) {
	t.Parallel()
	u := setup(t)
	ctx := context.Background()
	b := "alices"
	if _, err := u.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	cfg := &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
		ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256},
	}}}
	ops := map[string]func() error{
		"put": func() error {
			_, err := u.bob.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &b, ServerSideEncryptionConfiguration: cfg})
			return err
		},
		"get": func() error {
			_, err := u.bob.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &b})
			return err
		},
		"delete": func() error {
			_, err := u.bob.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: &b})
			return err
		},
	}
	for _, name := range []string{"put", "get", "delete"} {
		wantCode(t, ops[name](), "AccessDenied")
	}
	// Bob may not set the policy himself.
	grant := `{"Version":"2012-10-17","Statement":[{"Sid":"bob-encryption","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::strongroom:user/bob"]},"Action":["s3:GetEncryptionConfiguration","s3:PutEncryptionConfiguration"],"Resource":"arn:aws:s3:::alices"}]}`
	_, err := u.bob.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &grant})
	wantCode(t, err, "AccessDenied")
	if _, err := u.alice.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &grant}); err != nil {
		t.Fatal(err)
	}
	got, err := u.alice.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &b})
	if err != nil || aws.ToString(got.Policy) != grant {
		t.Fatalf("GetBucketPolicy = %v, %v", got, err)
	}
	for _, name := range []string{"put", "get", "delete"} {
		if err := ops[name](); err != nil {
			t.Fatalf("%s after the grant: %v", name, err)
		}
	}
	// The grant names only these actions: bob still cannot read objects.
	_, err = u.bob.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b})
	wantCode(t, err, "AccessDenied")
	if _, err := u.alice.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, ops["get"](), "AccessDenied")
	_, err = u.alice.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &b})
	wantCode(t, err, "NoSuchBucketPolicy")

	bad := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObjekt","Resource":"*"}]}`
	_, err = u.alice.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &bad})
	wantCode(t, err, "MalformedPolicy")
}

// TestDenyUnencryptedPut: the classic policy refuses a plain PUT (and an
// SSE-S3 one) and allows SSE-KMS with the named key, also on the parts of
// an upload that was started with it.
func TestDenyUnencryptedPut(t *testing.T) {
	t.Parallel()
	u := setup(t)
	ctx := context.Background()
	if _, err := u.node.Keyring.CreateKey(ctx, "key-x"); err != nil {
		t.Fatal(err)
	}
	u.node.GrantKey(t, "key-x", "alice")
	b := "kmsonly"
	if _, err := u.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"DenyNotKMS","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::kmsonly/*",
	  "Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}},
	 {"Sid":"DenyOtherKey","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::kmsonly/*",
	  "Condition":{"StringNotEqualsIfExists":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"key-x"}}},
	 {"Sid":"DenyNoKey","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::kmsonly/*",
	  "Condition":{"Null":{"s3:x-amz-server-side-encryption-aws-kms-key-id":"true"}}}]}`
	if _, err := u.alice.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &policy}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, in *s3.PutObjectInput) error {
		in.Bucket, in.Key, in.Body = &b, &key, strings.NewReader("data")
		_, err := u.alice.PutObject(ctx, in)
		return err
	}
	wantCode(t, put("plain", &s3.PutObjectInput{}), "AccessDenied")
	wantCode(t, put("sse-s3", &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAes256}), "AccessDenied")
	wantCode(t, put("kms-default", &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAwsKms}), "AccessDenied")
	if err := put("kms-x", &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("key-x")}); err != nil {
		t.Fatalf("SSE-KMS with key-x: %v", err)
	}
	// Multipart: UploadPart carries no SSE headers; it inherits the
	// upload's encryption, so an upload started with key-x may proceed and
	// one started in the clear never got that far.
	_, err := u.alice.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp-plain")})
	wantCode(t, err, "AccessDenied")
	up, err := u.alice.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("key-x")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := u.alice.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	if err != nil {
		t.Fatalf("UploadPart of a key-x upload: %v", err)
	}
	if _, err := u.alice.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	// The owner is bound by an explicit Deny like anyone, but may always
	// remove the policy.
	if _, err := u.alice.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	if err := put("plain", &s3.PutObjectInput{}); err != nil {
		t.Fatalf("plain PUT after the policy is gone: %v", err)
	}
}

// TestRootBoundByDenyUnencrypted: a bucket policy's explicit Deny binds
// the root account too (as in AWS), so a deny-unencrypted guardrail holds
// for everyone; root can still read, replace and delete the policy, and
// with it gone may write in the clear again.
func TestRootBoundByDenyUnencrypted(t *testing.T) {
	t.Parallel()
	u := setup(t)
	ctx := context.Background()
	root := s3Client(u.node, u.node.AccessKey, u.node.SecretKey)
	b := "guarded"
	if _, err := u.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"DenyUnencrypted","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::guarded/*",
	  "Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}]}`
	if _, err := root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &policy}); err != nil {
		t.Fatal(err)
	}
	put := func(c *s3.Client, in *s3.PutObjectInput) error {
		in.Bucket, in.Key, in.Body = &b, aws.String("k"), strings.NewReader("data")
		_, err := c.PutObject(ctx, in)
		return err
	}
	for name, c := range map[string]*s3.Client{"root": root, "owner": u.alice} {
		wantCode(t, put(c, &s3.PutObjectInput{}), "AccessDenied")
		if err := put(c, &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAes256}); err != nil {
			t.Fatalf("%s: encrypted PUT: %v", name, err)
		}
	}
	if _, err := root.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &b}); err != nil {
		t.Fatalf("root reading the policy: %v", err)
	}
	if _, err := root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &policy}); err != nil {
		t.Fatalf("root replacing the policy: %v", err)
	}
	if _, err := root.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &b}); err != nil {
		t.Fatalf("root deleting the policy: %v", err)
	}
	if err := put(root, &s3.PutObjectInput{}); err != nil {
		t.Fatalf("root, plain PUT after the policy is gone: %v", err)
	}
}

// TestPublicRead: a public-read object is readable with an unsigned
// request, and nothing else is: not its private neighbour, not a listing,
// not a write.
func TestPublicRead(t *testing.T) {
	t.Parallel()
	u := setup(t)
	ctx := context.Background()
	b := "pub"
	if _, err := u.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	for key, acl := range map[string]types.ObjectCannedACL{"open": types.ObjectCannedACLPublicRead, "closed": ""} {
		if _, err := u.alice.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String(key), Body: strings.NewReader("hello " + key), ACL: acl}); err != nil {
			t.Fatal(err)
		}
	}
	anon := func(method, path string, body io.Reader) (int, []byte) {
		req, _ := http.NewRequest(method, u.node.URL+path, body)
		resp, err := u.node.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, data
	}
	if st, body := anon("GET", "/pub/open", nil); st != 200 || string(body) != "hello open" {
		t.Fatalf("anonymous GET of public-read object: %d %q", st, body)
	}
	for _, tc := range []struct{ method, path string }{
		{"GET", "/pub/closed"}, {"GET", "/pub"}, {"PUT", "/pub/new"}, {"DELETE", "/pub/open"}, {"GET", "/pub/missing"}, {"GET", "/"},
	} {
		st, body := anon(tc.method, tc.path, bytes.NewReader(nil))
		if st != http.StatusForbidden || !bytes.Contains(body, []byte("<Code>AccessDenied</Code>")) {
			t.Errorf("anonymous %s %s: %d %s, want 403 AccessDenied", tc.method, tc.path, st, body)
		}
	}
	// Bob, authenticated but not the owner, is no better off than anyone.
	if _, err := u.bob.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("open")}); err != nil {
		t.Fatalf("bob reading a public-read object: %v", err)
	}
	_, err := u.bob.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("closed")})
	wantCode(t, err, "AccessDenied")

	// ACL documents: GetObjectAcl shows the AllUsers READ grant; turning
	// the object private closes it.
	acl, err := u.alice.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: &b, Key: aws.String("open")})
	if err != nil {
		t.Fatal(err)
	}
	allUsers := false
	for _, g := range acl.Grants {
		if g.Grantee != nil && aws.ToString(g.Grantee.URI) == "http://acs.amazonaws.com/groups/global/AllUsers" && g.Permission == types.PermissionRead {
			allUsers = true
		}
	}
	if !allUsers {
		t.Fatalf("GetObjectAcl of a public-read object: %+v", acl.Grants)
	}
	if _, err := u.alice.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: &b, Key: aws.String("open"), ACL: types.ObjectCannedACLPrivate}); err != nil {
		t.Fatal(err)
	}
	if st, _ := anon("GET", "/pub/open", nil); st != http.StatusForbidden {
		t.Fatalf("anonymous GET after PutObjectAcl private: %d", st)
	}
	// A public-read bucket opens listing, not its (private) objects.
	if _, err := u.alice.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: &b, ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	if st, body := anon("GET", "/pub?list-type=2", nil); st != 200 || !bytes.Contains(body, []byte("<Key>closed</Key>")) {
		t.Fatalf("anonymous listing of a public-read bucket: %d %s", st, body)
	}
	if st, _ := anon("GET", "/pub/closed", nil); st != http.StatusForbidden {
		t.Fatalf("anonymous GET of a private object in a public-read bucket: %d", st)
	}
}

// TestUserPolicies: a canned readonly policy lets bob read alice's bucket
// but not write it; detaching it takes the access away.
func TestUserPolicies(t *testing.T) {
	t.Parallel()
	u := setup(t)
	ctx := context.Background()
	b := "shared"
	if _, err := u.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	if _, err := u.alice.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("doc"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	_, err := u.bob.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("doc")})
	wantCode(t, err, "AccessDenied")
	if _, err := u.node.IAM.SetPolicies(ctx, "bob", []string{"readonly"}); err != nil {
		t.Fatal(err)
	}
	if _, err := u.bob.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("doc")}); err != nil {
		t.Fatalf("bob with readonly: %v", err)
	}
	_, err = u.bob.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("doc"), Body: strings.NewReader("y")})
	wantCode(t, err, "AccessDenied")
	// readonly grants s3:GetBucketLocation (what SDKs ask first), not
	// s3:CreateBucket: bob can't make a bucket and then own it.
	if _, err := u.bob.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: &b}); err != nil {
		t.Fatalf("bob with readonly, GetBucketLocation: %v", err)
	}
	_, err = u.bob.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bobs")})
	wantCode(t, err, "AccessDenied")
	// A bucket policy's explicit Deny beats the user's Allow.
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}`
	if _, err := u.alice.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &deny}); err != nil {
		t.Fatal(err)
	}
	_, err = u.bob.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("doc")})
	wantCode(t, err, "AccessDenied")
	if _, err := u.alice.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	if _, err := u.node.IAM.SetPolicies(ctx, "bob", nil); err != nil {
		t.Fatal(err)
	}
	_, err = u.bob.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("doc")})
	wantCode(t, err, "AccessDenied")
}

// TestConcurrentPolicyUpdates: requests racing policy updates (run with
// -race) see either the old or the new policy, never an error of another
// kind, and the final policy is the one in force.
func TestConcurrentPolicyUpdates(t *testing.T) {
	t.Parallel()
	u := setup(t)
	ctx := context.Background()
	b := "racy"
	if _, err := u.alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	if _, err := u.alice.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("o"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::racy/*"}]}`
	done := make(chan struct{})
	errc := make(chan error, 8)
	go func() {
		defer close(done)
		for i := range 40 {
			var err error
			if i%2 == 0 {
				_, err = u.alice.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &grant})
			} else {
				_, err = u.alice.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: &b})
			}
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	readers := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { readers <- struct{}{} }()
			for {
				select {
				case <-done:
					return
				default:
				}
				_, err := u.bob.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("o")})
				var ae smithy.APIError
				if err != nil && (!errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied") {
					errc <- err
					return
				}
			}
		}()
	}
	<-done
	for range 4 {
		<-readers
	}
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	// 40 updates ending with a delete: bob is out.
	_, err := u.bob.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("o")})
	wantCode(t, err, "AccessDenied")
}

// TestDenialsAudited: every refusal leaves a structured log line naming
// principal, action, resource and why, and no secret.
func TestDenialsAudited(t *testing.T) {
	t.Parallel()
	logs := &e2eutil.LogBuffer{}
	n := testnode.Start(t, testnode.Options{TLS: true, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	ctx := context.Background()
	a, _ := n.IAM.CreateUser(ctx, "alice")
	bc, _ := n.IAM.CreateUser(ctx, "bob")
	alice, bob := s3Client(n, a.AccessKey, a.SecretKey), s3Client(n, bc.AccessKey, bc.SecretKey)
	b := "audited"
	if _, err := alice.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	deny := `{"Version":"2012-10-17","Statement":[{"Sid":"NoBobDeletes","Effect":"Deny","Principal":{"AWS":"bob"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::audited/*"}]}`
	if _, err := alice.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &b, Policy: &deny}); err != nil {
		t.Fatal(err)
	}
	_, err := bob.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("k")})
	wantCode(t, err, "AccessDenied")
	_, err = bob.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k")})
	wantCode(t, err, "AccessDenied")

	type line struct {
		Msg, Principal, Action, Resource, Source string
	}
	var got []line
	for _, l := range strings.Split(logs.String(), "\n") {
		var x line
		if json.Unmarshal([]byte(l), &x) == nil && x.Msg == "access denied" {
			got = append(got, x)
		}
	}
	want := []line{
		{"access denied", "bob", "s3:GetObject", "arn:aws:s3:::audited/k", "no grant (not owner, no policy or ACL allows)"},
		{"access denied", "bob", "s3:DeleteObject", "arn:aws:s3:::audited/k", "explicit deny: bucket policy NoBobDeletes"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("audit lines:\n got %+v\nwant %+v", got, want)
	}
	for _, secret := range []string{a.SecretKey, bc.SecretKey, n.SecretKey} {
		if strings.Contains(logs.String(), secret) {
			t.Fatal("a secret key reached the log")
		}
	}
}

// TestACLDocumentPayloadChecked: an ACL document whose body does not match
// its signed payload hash is refused as such, and the ACL is unchanged.
func TestACLDocumentPayloadChecked(t *testing.T) {
	t.Parallel()
	n := testnode.Start(t, testnode.Options{})
	ctx := context.Background()
	c := s3Client(n, n.AccessKey, n.SecretKey)
	b := "acldoc"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	doc := `<AccessControlPolicy><Owner><ID>root</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`
	signed := sha256.Sum256([]byte(strings.Replace(doc, "READ", "WRITE", 1)))
	req, _ := http.NewRequest("PUT", n.URL+"/"+b+"?acl", strings.NewReader(doc))
	auth.SignV4(req, n.AccessKey, n.SecretKey, "us-east-1", time.Now(), hex.EncodeToString(signed[:]))
	resp, err := n.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !bytes.Contains(body, []byte("<Code>XAmzContentSHA256Mismatch</Code>")) {
		t.Fatalf("tampered ACL document: %d %s", resp.StatusCode, body)
	}
	acl, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: &b})
	if err != nil || len(acl.Grants) != 1 {
		t.Fatalf("bucket ACL after the refused change: %+v, %v", acl, err)
	}
}

// TestHealth: the liveness endpoint answers anonymous GET and HEAD, and
// nothing else there is open.
func TestHealth(t *testing.T) {
	t.Parallel()
	n := testnode.Start(t, testnode.Options{})
	for _, tc := range []struct {
		method string
		want   int
	}{{"GET", 200}, {"HEAD", 200}, {"PUT", 0}, {"DELETE", 0}} { // 0: anything but success
		req, _ := http.NewRequest(tc.method, n.URL+"/_strongroom/health", nil)
		resp, err := n.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if tc.want == 0 && resp.StatusCode < 400 || tc.want != 0 && resp.StatusCode != tc.want {
			t.Errorf("%s /_strongroom/health: %d, want %d (0: an error)", tc.method, resp.StatusCode, tc.want)
		}
	}
}
