package e2ecos

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/tencentyun/cos-go-sdk-v5"
)

// TestPresignedURL: GetPresignedURL for GET (200), expired (403), another
// user's object (403) and PUT.
func TestPresignedURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name, c := e.bucket("presign")
	data := randBytes(10 << 10)
	e.put(c, "dir/a b+c.txt", data, &cos.ObjectPutHeaderOptions{XCosServerSideEncryption: "AES256"})
	hc := &http.Client{Transport: e.tr}
	do := func(t *testing.T, method string, u *url.URL, body []byte) (*http.Response, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		r, err := http.NewRequest(method, u.String(), rd)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	presign := func(t *testing.T, method, key, ak, sk string, opt any) *url.URL {
		t.Helper()
		u, err := c.Object.GetPresignedURL(e.ctx, method, key, ak, sk, time.Hour, opt)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	t.Run("GET", func(t *testing.T) {
		resp, b := do(t, http.MethodGet, presign(t, http.MethodGet, "dir/a b+c.txt", e.node.AccessKey, e.node.SecretKey, nil), nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, data) || resp.Header.Get("x-cos-server-side-encryption") != "AES256" {
			t.Fatalf("status %d, %d bytes, headers %v", resp.StatusCode, len(b), resp.Header)
		}
	})
	t.Run("bucket listing", func(t *testing.T) {
		// Bucket-level routing must ignore the q-* signature parameters.
		// The SDK presigns objects only; a COS presigned URL is the
		// Authorization value as the query.
		r, err := http.NewRequest(http.MethodGet, c.BaseURL.BucketURL.String()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		cos.AddAuthorizationHeader(e.node.AccessKey, e.node.SecretKey, "", r, cos.NewAuthTime(time.Hour))
		q := url.Values{}
		for _, kv := range strings.Split(r.Header.Get("Authorization"), "&") {
			k, v, _ := strings.Cut(kv, "=")
			q.Set(k, v)
		}
		u := *r.URL
		u.RawQuery = q.Encode()
		resp, b := do(t, http.MethodGet, &u, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("<Key>dir/a b+c.txt</Key>")) {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
	})
	t.Run("expired", func(t *testing.T) {
		past := time.Now().Add(-2 * time.Hour)
		opt := &cos.PresignedURLOptions{AuthTime: &cos.AuthTime{SignStartTime: past, SignEndTime: past.Add(time.Hour), KeyStartTime: past, KeyEndTime: past.Add(time.Hour)}}
		resp, b := do(t, http.MethodGet, presign(t, http.MethodGet, "dir/a b+c.txt", e.node.AccessKey, e.node.SecretKey, opt), nil)
		if d := parseError(t, b); resp.StatusCode != http.StatusForbidden || d.Code != "AccessDenied" || d.Message != "Request has expired" {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		u := presign(t, http.MethodGet, "dir/a b+c.txt", e.node.AccessKey, e.node.SecretKey, nil)
		u.Path = "/dir/other.txt"
		u.RawPath = ""
		resp, b := do(t, http.MethodGet, u, nil)
		if d := parseError(t, b); resp.StatusCode != http.StatusForbidden || d.Code != "SignatureDoesNotMatch" {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
	})
	t.Run("another user's object", func(t *testing.T) {
		bob, err := e.node.IAM.CreateUser(e.ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		resp, b := do(t, http.MethodGet, presign(t, http.MethodGet, "dir/a b+c.txt", bob.AccessKey, bob.SecretKey, nil), nil)
		if d := parseError(t, b); resp.StatusCode != http.StatusForbidden || d.Code != "AccessDenied" {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
	})
	t.Run("PUT", func(t *testing.T) {
		up := randBytes(5000)
		resp, b := do(t, http.MethodPut, presign(t, http.MethodPut, "uploaded", e.node.AccessKey, e.node.SecretKey, nil), up)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("x-cos-hash-crc64ecma") != crc(up) {
			t.Fatalf("status %d, headers %v: %s", resp.StatusCode, resp.Header, b)
		}
		got, _ := e.get(e.client(name), "uploaded", nil)
		if !bytes.Equal(got, up) {
			t.Fatal("wrong data")
		}
	})
}

// TestAddressing: the ways a COS client reaches strongroom. The bucket
// name (name-appid) is always the whole first label of the Host.
func TestAddressing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	name, c := e.bucket("addr")
	const key = "dir/a b+c=é.txt"
	e.put(c, key, []byte("hello"), nil)

	list := func(t *testing.T, c *cos.Client) {
		t.Helper()
		res, _, err := c.Bucket.Get(e.ctx, &cos.BucketGetOptions{Prefix: "dir/"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Name != name || len(res.Contents) != 1 || res.Contents[0].Key != key {
			t.Fatalf("list: %+v", res)
		}
	}
	t.Run("BucketURL on the COS domain, dialled to the node", func(t *testing.T) {
		list(t, c)
	})
	t.Run("client.Host override", func(t *testing.T) {
		u, _ := url.Parse(e.node.URL)
		hc := e.clientAt(u, e.node.AccessKey, e.node.SecretKey, e.tr)
		hc.Host = name + "." + cosDomain
		list(t, hc)
		got, _ := e.get(hc, key, nil)
		if string(got) != "hello" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("COS listener", func(t *testing.T) {
		u, _ := url.Parse(e.node.DialectURL["cos"])
		hc := e.clientAt(u, e.node.AccessKey, e.node.SecretKey, dialTo(e.node.DialectAddr["cos"]))
		hc.Host = name + "." + cosDomain
		list(t, hc)
		_, _, err := hc.Bucket.GetEncryption(e.ctx)
		wantCOSErr(t, err, http.StatusNotFound, "NoSuchEncryptionConfiguration")
	})
	t.Run("GetService with ServiceURL on the node", func(t *testing.T) {
		u, _ := url.Parse(e.node.URL)
		sc := cos.NewClient(&cos.BaseURL{ServiceURL: u}, &http.Client{
			Transport: &cos.AuthorizationTransport{SecretID: e.node.AccessKey, SecretKey: e.node.SecretKey, Transport: e.tr},
		})
		res, _, err := sc.Service.Get(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, b := range res.Buckets {
			found = found || b.Name == name
		}
		if !found {
			t.Fatalf("buckets %+v", res.Buckets)
		}
	})
	t.Run("x-cos-acl", func(t *testing.T) {
		anon := &http.Client{Transport: e.tr}
		get := func(key string) int {
			resp, err := anon.Get(e.bucketURL(name, cosDomain).String() + "/" + key)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if _, err := c.Object.Put(e.ctx, "public", bytesReader("hi"), &cos.ObjectPutOptions{ACLHeaderOptions: &cos.ACLHeaderOptions{XCosACL: "public-read"}}); err != nil {
			t.Fatal(err)
		}
		if st := get("public"); st != http.StatusOK {
			t.Fatalf("anonymous GET of a public-read object: %d", st)
		}
		if st := get(url.PathEscape(key)); st != http.StatusForbidden {
			t.Fatalf("anonymous GET of a default object in a private bucket: %d", st)
		}
		_, err := c.Object.Put(e.ctx, "bad-acl", bytesReader("hi"), &cos.ObjectPutOptions{ACLHeaderOptions: &cos.ACLHeaderOptions{XCosACL: "public-read-write"}})
		wantCOSErr(t, err, http.StatusBadRequest, "InvalidArgument")
	})
	t.Run("domain without a dialect: detected from the q-sign signature", func(t *testing.T) {
		vc := e.clientAt(e.bucketURL(name, vhDomain), e.node.AccessKey, e.node.SecretKey, e.tr)
		list(t, vc)
		_, _, err := vc.Bucket.GetEncryption(e.ctx)
		wantCOSErr(t, err, http.StatusNotFound, "NoSuchEncryptionConfiguration")
	})
}

// TestCrossDialect: one namespace, each dialect's own headers and errors.
// Written through COS with SSE-KMS, read through S3 (aws-sdk-go-v2); and
// the reverse.
func TestCrossDialect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey("cross-key")
	name, c := e.bucket("cross")
	s3c := e.s3Client()
	data := randBytes(100 << 10)

	t.Run("COS write, S3 read", func(t *testing.T) {
		e.put(c, "from-cos", data, kmsHeaders(key, ""))
		out, err := s3c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(name), Key: aws.String("from-cos")})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Body.Close()
		got, err := io.ReadAll(out.Body)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("S3 GET: %v, %d bytes", err, len(got))
		}
		if out.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(out.SSEKMSKeyId) != key {
			t.Fatalf("S3 sees %q %q", out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
		}
	})
	t.Run("S3 write, COS read", func(t *testing.T) {
		_, err := s3c.PutObject(e.ctx, &s3.PutObjectInput{
			Bucket: aws.String(name), Key: aws.String("from-s3"), Body: bytes.NewReader(data),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(key),
		})
		if err != nil {
			t.Fatal(err)
		}
		got, g := e.get(c, "from-s3", nil)
		wantSSE(t, g.Header, "cos/kms", key)
		if !bytes.Equal(got, data) {
			t.Fatal("COS GET: wrong data")
		}
		_, err = s3c.PutObject(e.ctx, &s3.PutObjectInput{
			Bucket: aws.String(name), Key: aws.String("from-s3-aes"), Body: bytes.NewReader(data),
			ServerSideEncryption: types.ServerSideEncryptionAes256,
		})
		if err != nil {
			t.Fatal(err)
		}
		h, err := c.Object.Head(e.ctx, "from-s3-aes", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, h.Header, "AES256", "")
	})
	t.Run("bucket defaults across dialects", func(t *testing.T) {
		_, err := s3c.GetBucketEncryption(e.ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(name)})
		var ae smithy.APIError
		if !asAPIError(err, &ae) || ae.ErrorCode() != "ServerSideEncryptionConfigurationNotFoundError" {
			t.Fatalf("S3 GetBucketEncryption: %v", err)
		}
		_, err = s3c.PutBucketEncryption(e.ctx, &s3.PutBucketEncryptionInput{
			Bucket: aws.String(name),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(key)},
			}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := c.Bucket.GetEncryption(e.ctx)
		if err != nil || got.Rule == nil || *got.Rule != (cos.BucketEncryptionConfiguration{SSEAlgorithm: "KMS", KMSMasterKeyID: key}) {
			t.Fatalf("COS GetEncryption: %v %+v", err, got.Rule)
		}
		if _, err := c.Bucket.PutEncryption(e.ctx, &cos.BucketPutEncryptionOptions{Rule: &cos.BucketEncryptionConfiguration{SSEAlgorithm: "SM4"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("s3-under-sm4"), Body: bytes.NewReader(data)}); err != nil {
			t.Fatal(err)
		}
		h, err := c.Object.Head(e.ctx, "s3-under-sm4", nil)
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, h.Header, "SM4", "")
	})
}
