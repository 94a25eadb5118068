package e2evendors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	osssdk "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// ossSSE are a write's x-oss-server-side-encryption parameters.
type ossSSE struct{ alg, keyID string }

// ossClient is one OSS SDK, signing one way, as one user.
type ossClient interface {
	name() string
	createBucket(b string) error
	putEnc(b string) error
	getEnc(b string) error
	delEnc(b string) error
	putPolicy(b, doc string) error
	getPolicy(b string) (string, error)
	delPolicy(b string) error
	list(b string) error
	// put writes data with encryption e and object ACL acl ("": none).
	put(b, k string, data []byte, e ossSSE, acl string) error
	// multipart initiates an upload with e, uploads parts, completes.
	multipart(b, k string, parts [][]byte, e ossSSE) error
	putObjectACL(b, k, acl string) error
	getObjectACL(b, k string) (string, error)
}

// ossClients are both SDKs with both signatures (v2 SDK: V4, its default,
// and V1; v1 SDK: V1, its default, and V4), for alice and bob.
func ossClients(t *testing.T, u *users) (alices, bobs []ossClient) {
	for _, mk := range []func(*iam.Credentials) ossClient{
		func(c *iam.Credentials) ossClient { return newOSSV2(u.node, c, oss2.SignatureVersionV4) },
		func(c *iam.Credentials) ossClient { return newOSSV2(u.node, c, oss2.SignatureVersionV1) },
		func(c *iam.Credentials) ossClient { return newOSSV1(t, u.node, c, osssdk.AuthV1) },
		func(c *iam.Credentials) ossClient { return newOSSV1(t, u.node, c, osssdk.AuthV4) },
	} {
		alices, bobs = append(alices, mk(u.alice)), append(bobs, mk(u.bob))
	}
	return alices, bobs
}

// wantOSSErr asserts a service error of either SDK.
func wantOSSErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e1 osssdk.ServiceError
	var e2 *oss2.ServiceError
	var gotStatus int
	var gotCode, id string
	switch {
	case errors.As(err, &e1):
		gotStatus, gotCode, id = e1.StatusCode, e1.Code, e1.RequestID
	case errors.As(err, &e2):
		gotStatus, gotCode, id = e2.StatusCode, e2.Code, e2.RequestID
	default:
		t.Fatalf("got %v (%T); want OSS error %d %s", err, err, status, code)
	}
	if gotStatus != status || gotCode != code || id == "" {
		t.Fatalf("got %d %s (request id %q): %v; want %d %s", gotStatus, gotCode, id, err, status, code)
	}
}

// TestOSSPolicyGrantsEncryptionConfig: bob gets 403 AccessDenied on
// Get/Put/DeleteBucketEncryption of alice's bucket until alice grants the
// three OSS actions with an OSS bucket policy (Version "1", acs:oss
// resources, a principal array) put through the SDK; then they succeed,
// through the OSS SDK and through aws-sdk-go-v2 (the policy governs every
// dialect); GetBucketPolicy returns the document; DeleteBucketPolicy takes
// the grant away; a malformed policy is InvalidPolicyDocument.
func TestOSSPolicyGrantsEncryptionConfig(t *testing.T) {
	t.Parallel()
	u := startUsers(t, testnode.Options{Dialects: []string{"oss"}})
	bobS3 := u.s3Client(u.bob)
	alices, bobs := ossClients(t, u)
	for i, alice := range alices {
		bob := bobs[i]
		t.Run(alice.name(), func(t *testing.T) {
			t.Parallel()
			b := fmt.Sprintf("enc-policy-%d", i)
			if err := alice.createBucket(b); err != nil {
				t.Fatal(err)
			}
			ops := []struct {
				name string
				do   func() error
			}{
				{"PutBucketEncryption", func() error { return bob.putEnc(b) }},
				{"GetBucketEncryption", func() error { return bob.getEnc(b) }},
				{"DeleteBucketEncryption", func() error { return bob.delEnc(b) }},
			}
			s3Get := func() error {
				_, err := bobS3.GetBucketEncryption(u.ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
				return err
			}
			for _, op := range ops {
				wantOSSErr(t, op.do(), http.StatusForbidden, "AccessDenied")
			}
			wantS3Code(t, s3Get(), "AccessDenied")

			policy := `{"Version":"1","Statement":[{"Effect":"Allow","Principal":["bob"],` +
				`"Action":["oss:GetBucketEncryption","oss:PutBucketEncryption","oss:DeleteBucketEncryption"],` +
				`"Resource":["acs:oss:*:*:` + b + `"]}]}`
			wantOSSErr(t, bob.putPolicy(b, policy), http.StatusForbidden, "AccessDenied")
			if err := alice.putPolicy(b, policy); err != nil {
				t.Fatalf("PutBucketPolicy: %v", err)
			}
			got, err := alice.getPolicy(b)
			if err != nil || got != policy {
				t.Fatalf("GetBucketPolicy = %q, %v; want the document put", got, err)
			}
			for _, op := range ops {
				if err := op.do(); err != nil {
					t.Fatalf("bob's %s after the grant: %v", op.name, err)
				}
			}
			if err := bob.putEnc(b); err != nil {
				t.Fatal(err)
			}
			// The OSS policy governs the S3 dialect too.
			if err := s3Get(); err != nil {
				t.Fatalf("bob's GetBucketEncryption through aws-sdk-go-v2 after the OSS grant: %v", err)
			}
			// Only the named actions: bob still may not list.
			wantOSSErr(t, bob.list(b), http.StatusForbidden, "AccessDenied")

			if err := alice.delPolicy(b); err != nil {
				t.Fatalf("DeleteBucketPolicy: %v", err)
			}
			for _, op := range ops {
				wantOSSErr(t, op.do(), http.StatusForbidden, "AccessDenied")
			}
			wantS3Code(t, s3Get(), "AccessDenied")
			_, err = alice.getPolicy(b)
			wantOSSErr(t, err, http.StatusNotFound, "NoSuchBucketPolicy")

			for _, bad := range []string{
				strings.Replace(policy, "oss:GetBucketEncryption", "oss:GetBucketEncryptionn", 1), // unknown action
				strings.Replace(policy, `"Version":"1"`, `"Version":1`, 1),                        // OSS's own example (0030-00000005)
				strings.Replace(policy, "acs:oss:*:*:", "acs:ecs:*:*:", 1),                        // another service
				`{"Version":"1","Statement":[`,
			} {
				wantOSSErr(t, alice.putPolicy(b, bad), http.StatusBadRequest, "InvalidPolicyDocument")
			}
		})
	}
}

// TestOSSDenyUnencryptedPut: the deny-unencrypted-PUT policy in OSS names
// (oss:x-oss-server-side-encryption "KMS", the KMS key by
// oss:x-oss-server-side-encryption-key-id) refuses plain, AES256 and other
// key writes, and lets SSE-KMS with the key through, including the parts
// of a multipart upload initiated with it.
func TestOSSDenyUnencryptedPut(t *testing.T) {
	t.Parallel()
	u := startUsers(t, testnode.Options{Dialects: []string{"oss"}})
	u.kmsKeys(t, "key-x", "key-y")
	alices, _ := ossClients(t, u)
	for i, alice := range alices {
		t.Run(alice.name(), func(t *testing.T) {
			t.Parallel()
			b := fmt.Sprintf("kms-only-%d", i)
			if err := alice.createBucket(b); err != nil {
				t.Fatal(err)
			}
			policy := `{"Version":"1","Statement":[
			 {"Effect":"Deny","Principal":["*"],"Action":["oss:PutObject"],"Resource":["acs:oss:*:*:` + b + `/*"],
			  "Condition":{"StringNotEquals":{"oss:x-oss-server-side-encryption":"KMS"}}},
			 {"Effect":"Deny","Principal":["*"],"Action":["oss:PutObject"],"Resource":["acs:oss:*:*:` + b + `/*"],
			  "Condition":{"StringNotEqualsIfExists":{"oss:x-oss-server-side-encryption-key-id":"key-x"}}}]}`
			if err := alice.putPolicy(b, policy); err != nil {
				t.Fatal(err)
			}
			data := []byte("data")
			for _, tc := range []struct {
				name string
				sse  ossSSE
				ok   bool
			}{
				{"plain", ossSSE{}, false},
				{"AES256", ossSSE{alg: "AES256"}, false},
				{"SM4", ossSSE{alg: "SM4"}, false},
				{"KMS default key", ossSSE{alg: "KMS"}, false},
				{"KMS key-y", ossSSE{alg: "KMS", keyID: "key-y"}, false},
				{"KMS key-x", ossSSE{alg: "KMS", keyID: "key-x"}, true},
			} {
				err := alice.put(b, "obj", data, tc.sse, "")
				if tc.ok && err != nil {
					t.Fatalf("PUT %s: %v", tc.name, err)
				}
				if !tc.ok {
					wantOSSErr(t, err, http.StatusForbidden, "AccessDenied")
				}
			}
			parts := [][]byte{randBytes(100 * KiB), []byte("tail")}
			wantOSSErr(t, alice.multipart(b, "mp-plain", parts, ossSSE{}), http.StatusForbidden, "AccessDenied")
			if err := alice.multipart(b, "mp", parts, ossSSE{alg: "KMS", keyID: "key-x"}); err != nil {
				t.Fatalf("multipart upload with KMS key-x: %v", err)
			}
			if err := alice.delPolicy(b); err != nil {
				t.Fatal(err)
			}
			if err := alice.put(b, "obj", data, ossSSE{}, ""); err != nil {
				t.Fatalf("plain PUT without the policy: %v", err)
			}
		})
	}
}

// TestOSSPublicRead: an object written with x-oss-object-acl public-read,
// and one made public-read with PutObjectAcl, are readable with unsigned
// requests; nothing else is (the private neighbour, the listing, writes,
// deletes); GetObjectAcl reports the ACL; PutObjectAcl private closes it.
func TestOSSPublicRead(t *testing.T) {
	t.Parallel()
	u := startUsers(t, testnode.Options{Dialects: []string{"oss"}})
	alices, bobs := ossClients(t, u)
	for i, alice := range alices {
		bob := bobs[i]
		t.Run(alice.name(), func(t *testing.T) {
			t.Parallel()
			b := fmt.Sprintf("public-%d", i)
			if err := alice.createBucket(b); err != nil {
				t.Fatal(err)
			}
			for _, o := range []struct{ key, acl string }{{"open", "public-read"}, {"closed", ""}, {"later", ""}} {
				if err := alice.put(b, o.key, []byte("hello "+o.key), ossSSE{}, o.acl); err != nil {
					t.Fatal(err)
				}
			}
			bucketURL := u.node.DialectURL["oss"] + "/" + b
			checkPublicRead(t, u.node.Client, bucketURL)
			if st, _ := anonymous(t, u.node.Client, http.MethodGet, bucketURL+"/later"); st != http.StatusForbidden {
				t.Fatalf("anonymous GET of an object following its private bucket: %d", st)
			}
			for key, want := range map[string]string{"open": "public-read", "closed": "default"} {
				if got, err := alice.getObjectACL(b, key); err != nil || got != want {
					t.Fatalf("GetObjectAcl %s = %q, %v; want %s", key, got, err, want)
				}
			}
			_, err := bob.getObjectACL(b, "open")
			wantOSSErr(t, err, http.StatusForbidden, "AccessDenied")
			wantOSSErr(t, bob.putObjectACL(b, "closed", "public-read"), http.StatusForbidden, "AccessDenied")

			if err := alice.putObjectACL(b, "later", "public-read"); err != nil {
				t.Fatal(err)
			}
			if st, body := anonymous(t, u.node.Client, http.MethodGet, bucketURL+"/later"); st != http.StatusOK || string(body) != "hello later" {
				t.Fatalf("anonymous GET after PutObjectAcl public-read: %d %q", st, body)
			}
			if err := alice.putObjectACL(b, "open", "private"); err != nil {
				t.Fatal(err)
			}
			if got, err := alice.getObjectACL(b, "open"); err != nil || got != "private" {
				t.Fatalf("GetObjectAcl after PutObjectAcl private = %q, %v", got, err)
			}
			if st, _ := anonymous(t, u.node.Client, http.MethodGet, bucketURL+"/open"); st != http.StatusForbidden {
				t.Fatalf("anonymous GET after PutObjectAcl private: %d", st)
			}
		})
	}
}

// wantS3Code asserts an aws-sdk-go-v2 API error code.
func wantS3Code(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

// ---------------------------------------------------------------------------
// v2 SDK (alibabacloud-oss-go-sdk-v2).

type ossV2 struct {
	c   *oss2.Client
	sig oss2.SignatureVersionType
	ctx context.Context
}

func newOSSV2(n *testnode.Node, c *iam.Credentials, sig oss2.SignatureVersionType) *ossV2 {
	cfg := oss2.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(c.AccessKey, c.SecretKey)).
		WithRegion("cn-hangzhou").
		WithEndpoint(n.DialectURL["oss"]).
		WithHttpClient(n.Client).
		WithSignatureVersion(sig).
		WithRetryMaxAttempts(1)
	return &ossV2{c: oss2.NewClient(cfg), sig: sig, ctx: context.Background()}
}

func (c *ossV2) name() string {
	if c.sig == oss2.SignatureVersionV1 {
		return "v2sdk-V1"
	}
	return "v2sdk-V4"
}

func (c *ossV2) createBucket(b string) error {
	_, err := c.c.PutBucket(c.ctx, &oss2.PutBucketRequest{Bucket: &b})
	return err
}

func (c *ossV2) putEnc(b string) error {
	_, err := c.c.PutBucketEncryption(c.ctx, &oss2.PutBucketEncryptionRequest{Bucket: &b,
		ServerSideEncryptionRule: &oss2.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &oss2.ApplyServerSideEncryptionByDefault{
			SSEAlgorithm: oss2.Ptr("AES256")}}})
	return err
}

func (c *ossV2) getEnc(b string) error {
	res, err := c.c.GetBucketEncryption(c.ctx, &oss2.GetBucketEncryptionRequest{Bucket: &b})
	if err == nil && oss2.ToString(res.ServerSideEncryptionRule.ApplyServerSideEncryptionByDefault.SSEAlgorithm) != "AES256" {
		return fmt.Errorf("GetBucketEncryption: %+v", res.ServerSideEncryptionRule.ApplyServerSideEncryptionByDefault)
	}
	return err
}

func (c *ossV2) delEnc(b string) error {
	_, err := c.c.DeleteBucketEncryption(c.ctx, &oss2.DeleteBucketEncryptionRequest{Bucket: &b})
	return err
}

func (c *ossV2) putPolicy(b, doc string) error {
	res, err := c.c.PutBucketPolicy(c.ctx, &oss2.PutBucketPolicyRequest{Bucket: &b, Body: strings.NewReader(doc)})
	if err == nil && res.StatusCode != http.StatusOK {
		return fmt.Errorf("PutBucketPolicy status %d, want OSS's 200", res.StatusCode)
	}
	return err
}

func (c *ossV2) getPolicy(b string) (string, error) {
	res, err := c.c.GetBucketPolicy(c.ctx, &oss2.GetBucketPolicyRequest{Bucket: &b})
	if err != nil {
		return "", err
	}
	return res.Body, nil
}

func (c *ossV2) delPolicy(b string) error {
	res, err := c.c.DeleteBucketPolicy(c.ctx, &oss2.DeleteBucketPolicyRequest{Bucket: &b})
	if err == nil && res.StatusCode != http.StatusNoContent {
		return fmt.Errorf("DeleteBucketPolicy status %d, want 204", res.StatusCode)
	}
	return err
}

func (c *ossV2) list(b string) error {
	_, err := c.c.ListObjectsV2(c.ctx, &oss2.ListObjectsV2Request{Bucket: &b})
	return err
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (c *ossV2) put(b, k string, data []byte, e ossSSE, acl string) error {
	_, err := c.c.PutObject(c.ctx, &oss2.PutObjectRequest{Bucket: &b, Key: &k, Body: bytes.NewReader(data),
		ServerSideEncryption: optStr(e.alg), ServerSideEncryptionKeyId: optStr(e.keyID), Acl: oss2.ObjectACLType(acl)})
	return err
}

func (c *ossV2) multipart(b, k string, parts [][]byte, e ossSSE) error {
	ir, err := c.c.InitiateMultipartUpload(c.ctx, &oss2.InitiateMultipartUploadRequest{Bucket: &b, Key: &k,
		ServerSideEncryption: optStr(e.alg), ServerSideEncryptionKeyId: optStr(e.keyID)})
	if err != nil {
		return err
	}
	var done []oss2.UploadPart
	for i, p := range parts {
		pr, err := c.c.UploadPart(c.ctx, &oss2.UploadPartRequest{Bucket: &b, Key: &k, UploadId: ir.UploadId, PartNumber: int32(i + 1), Body: bytes.NewReader(p)})
		if err != nil {
			return fmt.Errorf("UploadPart %d: %w", i+1, err)
		}
		done = append(done, oss2.UploadPart{PartNumber: int32(i + 1), ETag: pr.ETag})
	}
	cr, err := c.c.CompleteMultipartUpload(c.ctx, &oss2.CompleteMultipartUploadRequest{Bucket: &b, Key: &k, UploadId: ir.UploadId,
		CompleteMultipartUpload: &oss2.CompleteMultipartUpload{Parts: done}})
	if err != nil {
		return fmt.Errorf("CompleteMultipartUpload: %w", err)
	}
	if got := cr.Headers.Get("x-oss-server-side-encryption"); got != e.alg {
		return fmt.Errorf("CompleteMultipartUpload x-oss-server-side-encryption %q, want %q", got, e.alg)
	}
	return nil
}

func (c *ossV2) putObjectACL(b, k, acl string) error {
	_, err := c.c.PutObjectAcl(c.ctx, &oss2.PutObjectAclRequest{Bucket: &b, Key: &k, Acl: oss2.ObjectACLType(acl)})
	return err
}

func (c *ossV2) getObjectACL(b, k string) (string, error) {
	res, err := c.c.GetObjectAcl(c.ctx, &oss2.GetObjectAclRequest{Bucket: &b, Key: &k})
	if err != nil {
		return "", err
	}
	if oss2.ToString(res.Owner.ID) != "alice" {
		return "", fmt.Errorf("GetObjectAcl owner %q", oss2.ToString(res.Owner.ID))
	}
	return oss2.ToString(res.ACL), nil
}

// ---------------------------------------------------------------------------
// v1 SDK (aliyun-oss-go-sdk).

type ossV1 struct {
	c   *osssdk.Client
	sig osssdk.AuthVersionType
}

func newOSSV1(t *testing.T, n *testnode.Node, c *iam.Credentials, sig osssdk.AuthVersionType) *ossV1 {
	cl, err := osssdk.New(n.DialectURL["oss"], c.AccessKey, c.SecretKey, osssdk.HTTPClient(n.Client), osssdk.AuthVersion(sig), osssdk.Region("cn-hangzhou"))
	if err != nil {
		t.Fatal(err)
	}
	return &ossV1{c: cl, sig: sig}
}

func (c *ossV1) name() string {
	if c.sig == osssdk.AuthV4 {
		return "v1sdk-V4"
	}
	return "v1sdk-V1"
}

func (c *ossV1) bucket(b string) *osssdk.Bucket {
	bk, err := c.c.Bucket(b)
	if err != nil {
		panic(err)
	}
	return bk
}

func (c *ossV1) createBucket(b string) error { return c.c.CreateBucket(b) }

func (c *ossV1) putEnc(b string) error {
	var r osssdk.ServerEncryptionRule
	r.SSEDefault.SSEAlgorithm = "AES256"
	return c.c.SetBucketEncryption(b, r) // the SDK insists on 200
}

func (c *ossV1) getEnc(b string) error {
	res, err := c.c.GetBucketEncryption(b)
	if err == nil && res.SSEDefault.SSEAlgorithm != "AES256" {
		return fmt.Errorf("GetBucketEncryption: %+v", res.SSEDefault)
	}
	return err
}

func (c *ossV1) delEnc(b string) error { return c.c.DeleteBucketEncryption(b) } // 204

func (c *ossV1) putPolicy(b, doc string) error { return c.c.SetBucketPolicy(b, doc) } // 200

func (c *ossV1) getPolicy(b string) (string, error) { return c.c.GetBucketPolicy(b) }

func (c *ossV1) delPolicy(b string) error { return c.c.DeleteBucketPolicy(b) } // 204

func (c *ossV1) list(b string) error {
	_, err := c.bucket(b).ListObjectsV2()
	return err
}

func (c *ossV1) sseOpts(e ossSSE) []osssdk.Option {
	var opts []osssdk.Option
	if e.alg != "" {
		opts = append(opts, osssdk.ServerSideEncryption(e.alg))
	}
	if e.keyID != "" {
		opts = append(opts, osssdk.ServerSideEncryptionKeyID(e.keyID))
	}
	return opts
}

func (c *ossV1) put(b, k string, data []byte, e ossSSE, acl string) error {
	opts := c.sseOpts(e)
	if acl != "" {
		opts = append(opts, osssdk.ObjectACL(osssdk.ACLType(acl)))
	}
	return c.bucket(b).PutObject(k, bytes.NewReader(data), opts...)
}

func (c *ossV1) multipart(b, k string, parts [][]byte, e ossSSE) error {
	bk := c.bucket(b)
	imur, err := bk.InitiateMultipartUpload(k, c.sseOpts(e)...)
	if err != nil {
		return err
	}
	var done []osssdk.UploadPart
	for i, p := range parts {
		up, err := bk.UploadPart(imur, bytes.NewReader(p), int64(len(p)), i+1)
		if err != nil {
			return fmt.Errorf("UploadPart %d: %w", i+1, err)
		}
		done = append(done, up)
	}
	var h http.Header
	if _, err := bk.CompleteMultipartUpload(imur, done, osssdk.GetResponseHeader(&h)); err != nil {
		return fmt.Errorf("CompleteMultipartUpload: %w", err)
	}
	if got := h.Get("x-oss-server-side-encryption"); got != e.alg {
		return fmt.Errorf("CompleteMultipartUpload x-oss-server-side-encryption %q, want %q", got, e.alg)
	}
	return nil
}

func (c *ossV1) putObjectACL(b, k, acl string) error {
	return c.bucket(b).SetObjectACL(k, osssdk.ACLType(acl)) // 200
}

func (c *ossV1) getObjectACL(b, k string) (string, error) {
	res, err := c.bucket(b).GetObjectACL(k)
	if err != nil {
		return "", err
	}
	if res.Owner.ID != "alice" {
		return "", fmt.Errorf("GetObjectAcl owner %q", res.Owner.ID)
	}
	return res.ACL, nil
}
