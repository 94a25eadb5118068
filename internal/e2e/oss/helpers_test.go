// Package e2eoss proves the Alibaba Cloud OSS dialect end to end with both
// official Go SDKs, used as a user would: github.com/aliyun/aliyun-oss-go-sdk
// (the "v1 SDK", signature V1 by default, V4 on request) and
// github.com/aliyun/alibabacloud-oss-go-sdk-v2 (the "v2 SDK", V4 by default,
// V1 on request), against real strongroom nodes on loopback (HTTPS, so
// SSE-C is allowed). CRC-64 checking is left on in both SDKs.
//
// Most tests run the same table over the four SDK/signature combinations
// through the small client interface below; the cross-dialect test reads
// with aws-sdk-go-v2 through the S3 dialect what the OSS SDKs wrote, and
// the reverse. The package holds tests only.
package e2eoss

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	osssdk "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

const region = "cn-hangzhou"

// TestMain clears the SDKs' environment (credentials, endpoints, proxies
// the machine may set) before any test runs.
func TestMain(m *testing.M) { e2eutil.Main(m) }

// startNode starts a TLS node with an OSS listener.
func startNode(t *testing.T) *testnode.Node {
	t.Helper()
	return testnode.Start(t, testnode.Options{TLS: true, Dialects: []string{"oss"}})
}

var seq atomic.Int64

// bucketName is a fresh, valid bucket name.
func bucketName(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, seq.Add(1))
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func crc(b []byte) string {
	return strconv.FormatUint(crc64.Checksum(b, crc64.MakeTable(crc64.ECMA)), 10)
}

// ---------------------------------------------------------------------------
// A uniform view of both SDKs.

// sseOpt are the encryption parameters of a request.
type sseOpt struct {
	Alg, DataEnc, KeyID string // x-oss-server-side-encryption, -data-encryption, -key-id
	Cust                []byte // SSE-C key (32 bytes)
	CopyCust            []byte // SSE-C key of a copy source
	BadMD5              bool   // send the MD5 of another key with Cust
}

// rule is a bucket encryption rule as the SDK returned it.
type rule struct{ Alg, KeyID, DataEnc string }

// svcErr is a service error as either SDK reports it.
type svcErr struct {
	Status                       int
	Code, Message, EC, RequestID string
}

// asSvcErr extracts the service error from either SDK's error.
func asSvcErr(err error) (svcErr, bool) {
	var e1 osssdk.ServiceError
	if errors.As(err, &e1) {
		return svcErr{e1.StatusCode, e1.Code, e1.Message, e1.Ec, e1.RequestID}, true
	}
	var e2 *oss2.ServiceError
	if errors.As(err, &e2) {
		return svcErr{e2.StatusCode, e2.Code, e2.Message, e2.EC, e2.RequestID}, true
	}
	return svcErr{}, false
}

// wantErr asserts a service error with the given status and code.
func wantErr(t *testing.T, err error, status int, code string) svcErr {
	t.Helper()
	if err == nil {
		t.Fatalf("got success; want %d %s", status, code)
	}
	e, ok := asSvcErr(err)
	if !ok {
		t.Fatalf("got %v (%T); want service error %d %s", err, err, status, code)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("got %d %s (%q); want %d %s", e.Status, e.Code, e.Message, status, code)
	}
	if e.RequestID == "" {
		t.Errorf("%s: no request id", code)
	}
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// client is one SDK configured with one signature version.
type client interface {
	name() string
	createBucket(b string, o sseOpt) error
	deleteBucket(b string) error
	putEnc(b string, r rule) error
	getEnc(b string) (rule, error)
	delEnc(b string) error
	bucketInfo(b string) (rule, error)
	put(b, k string, data []byte, o sseOpt) (http.Header, error)
	// get returns the body and headers; rng is "a-b" or "" (whole object).
	get(b, k string, o sseOpt, rng string) ([]byte, http.Header, error)
	head(b, k string, o sseOpt) (http.Header, error)
	copy(b, src, dst string, o sseOpt) (http.Header, error)
	// multipart uploads parts with InitiateMultipartUpload / UploadPart /
	// CompleteMultipartUpload; o applies to the initiation, its SSE-C key
	// to every call.
	multipart(b, k string, parts [][]byte, o sseOpt) (http.Header, error)
	presignGet(b, k string) (string, error)
	list(b, prefix string) ([]string, error)
}

// custHeaders are the SSE-C headers for a key (extension headers).
func custHeaders(key []byte, copySource bool, badMD5 ...bool) map[string]string {
	if key == nil {
		return nil
	}
	p := "x-oss-server-side-encryption-customer-"
	if copySource {
		p = "x-oss-copy-source-server-side-encryption-customer-"
	}
	sum := md5.Sum(key)
	if len(badMD5) > 0 && badMD5[0] {
		sum = md5.Sum(append([]byte("x"), key...))
	}
	return map[string]string{
		p + "algorithm": "AES256",
		p + "key":       base64.StdEncoding.EncodeToString(key),
		p + "key-MD5":   base64.StdEncoding.EncodeToString(sum[:]),
	}
}

// combos returns the four SDK/signature clients for an access key.
func combos(t *testing.T, n *testnode.Node, ak, sk string) []client {
	return []client{
		newV2(t, n, ak, sk, oss2.SignatureVersionV4),
		newV2(t, n, ak, sk, oss2.SignatureVersionV1),
		newV1(t, n, ak, sk, osssdk.AuthV1),
		newV1(t, n, ak, sk, osssdk.AuthV4),
	}
}

// forEach runs f for each SDK/signature combination, in parallel.
func forEach(t *testing.T, n *testnode.Node, f func(t *testing.T, c client)) {
	for _, c := range combos(t, n, n.AccessKey, n.SecretKey) {
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			f(t, c)
		})
	}
}

// ---------------------------------------------------------------------------
// v2 SDK (alibabacloud-oss-go-sdk-v2).

type v2Client struct {
	c    *oss2.Client
	sig  oss2.SignatureVersionType
	ctx  context.Context
	hclt *http.Client
}

func newV2(t *testing.T, n *testnode.Node, ak, sk string, sig oss2.SignatureVersionType) *v2Client {
	cfg := oss2.LoadDefaultConfig().
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ak, sk)).
		WithRegion(region).
		WithEndpoint(n.DialectURL["oss"]).
		WithHttpClient(n.Client).
		WithSignatureVersion(sig).
		WithRetryMaxAttempts(1)
	return &v2Client{c: oss2.NewClient(cfg), sig: sig, ctx: context.Background(), hclt: n.Client}
}

func (c *v2Client) name() string {
	if c.sig == oss2.SignatureVersionV1 {
		return "v2sdk-V1"
	}
	return "v2sdk-V4"
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (c *v2Client) createBucket(b string, o sseOpt) error {
	req := &oss2.PutBucketRequest{Bucket: &b}
	req.Headers = map[string]string{}
	if o.Alg != "" {
		req.Headers["x-oss-server-side-encryption"] = o.Alg
	}
	if o.DataEnc != "" {
		req.Headers["x-oss-server-side-data-encryption"] = o.DataEnc
	}
	if o.KeyID != "" {
		req.Headers["x-oss-server-side-encryption-key-id"] = o.KeyID
	}
	_, err := c.c.PutBucket(c.ctx, req)
	return err
}

func (c *v2Client) deleteBucket(b string) error {
	_, err := c.c.DeleteBucket(c.ctx, &oss2.DeleteBucketRequest{Bucket: &b})
	return err
}

func (c *v2Client) putEnc(b string, r rule) error {
	res, err := c.c.PutBucketEncryption(c.ctx, &oss2.PutBucketEncryptionRequest{
		Bucket: &b,
		ServerSideEncryptionRule: &oss2.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &oss2.ApplyServerSideEncryptionByDefault{
			SSEAlgorithm: optStr(r.Alg), KMSMasterKeyID: optStr(r.KeyID), KMSDataEncryption: optStr(r.DataEnc),
		}},
	})
	if err == nil && res.StatusCode != http.StatusOK {
		return fmt.Errorf("PutBucketEncryption status %d, want 200", res.StatusCode)
	}
	return err
}

func (c *v2Client) getEnc(b string) (rule, error) {
	res, err := c.c.GetBucketEncryption(c.ctx, &oss2.GetBucketEncryptionRequest{Bucket: &b})
	if err != nil {
		return rule{}, err
	}
	if res.StatusCode != http.StatusOK {
		return rule{}, fmt.Errorf("GetBucketEncryption status %d, want 200", res.StatusCode)
	}
	d := res.ServerSideEncryptionRule.ApplyServerSideEncryptionByDefault
	return rule{oss2.ToString(d.SSEAlgorithm), oss2.ToString(d.KMSMasterKeyID), oss2.ToString(d.KMSDataEncryption)}, nil
}

func (c *v2Client) delEnc(b string) error {
	res, err := c.c.DeleteBucketEncryption(c.ctx, &oss2.DeleteBucketEncryptionRequest{Bucket: &b})
	if err == nil && res.StatusCode != http.StatusNoContent {
		return fmt.Errorf("DeleteBucketEncryption status %d, want 204", res.StatusCode)
	}
	return err
}

func (c *v2Client) bucketInfo(b string) (rule, error) {
	res, err := c.c.GetBucketInfo(c.ctx, &oss2.GetBucketInfoRequest{Bucket: &b})
	if err != nil {
		return rule{}, err
	}
	if oss2.ToString(res.BucketInfo.Name) != b {
		return rule{}, fmt.Errorf("bucket info name %q", oss2.ToString(res.BucketInfo.Name))
	}
	s := res.BucketInfo.SseRule
	return rule{oss2.ToString(s.SSEAlgorithm), oss2.ToString(s.KMSMasterKeyID), oss2.ToString(s.KMSDataEncryption)}, nil
}

func (c *v2Client) put(b, k string, data []byte, o sseOpt) (http.Header, error) {
	req := &oss2.PutObjectRequest{
		Bucket: &b, Key: &k, Body: bytes.NewReader(data),
		ServerSideEncryption: optStr(o.Alg), ServerSideDataEncryption: optStr(o.DataEnc), ServerSideEncryptionKeyId: optStr(o.KeyID),
	}
	req.Headers = custHeaders(o.Cust, false, o.BadMD5)
	res, err := c.c.PutObject(c.ctx, req)
	if err != nil {
		return nil, err
	}
	if got := oss2.ToString(res.HashCRC64); got != crc(data) {
		return nil, fmt.Errorf("PutObject HashCRC64 %q, want %s", got, crc(data))
	}
	return res.Headers, nil
}

func (c *v2Client) get(b, k string, o sseOpt, rng string) ([]byte, http.Header, error) {
	req := &oss2.GetObjectRequest{Bucket: &b, Key: &k}
	if rng != "" {
		req.Range = oss2.Ptr("bytes=" + rng)
	}
	req.Headers = custHeaders(o.Cust, false, o.BadMD5)
	res, err := c.c.GetObject(c.ctx, req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	// The typed result fields mirror the headers.
	if oss2.ToString(res.ServerSideEncryption) != res.Headers.Get("x-oss-server-side-encryption") ||
		oss2.ToString(res.ServerSideDataEncryption) != res.Headers.Get("x-oss-server-side-data-encryption") ||
		oss2.ToString(res.ServerSideEncryptionKeyId) != res.Headers.Get("x-oss-server-side-encryption-key-id") {
		return nil, nil, fmt.Errorf("typed SSE fields differ from headers")
	}
	return data, res.Headers, nil
}

func (c *v2Client) head(b, k string, o sseOpt) (http.Header, error) {
	req := &oss2.HeadObjectRequest{Bucket: &b, Key: &k}
	req.Headers = custHeaders(o.Cust, false, o.BadMD5)
	res, err := c.c.HeadObject(c.ctx, req)
	if err != nil {
		return nil, err
	}
	return res.Headers, nil
}

func (c *v2Client) copy(b, src, dst string, o sseOpt) (http.Header, error) {
	req := &oss2.CopyObjectRequest{
		Bucket: &b, Key: &dst, SourceKey: &src,
		ServerSideEncryption: optStr(o.Alg), ServerSideDataEncryption: optStr(o.DataEnc), ServerSideEncryptionKeyId: optStr(o.KeyID),
	}
	req.Headers = map[string]string{}
	for k, v := range custHeaders(o.Cust, false, o.BadMD5) {
		req.Headers[k] = v
	}
	for k, v := range custHeaders(o.CopyCust, true) {
		req.Headers[k] = v
	}
	res, err := c.c.CopyObject(c.ctx, req)
	if err != nil {
		return nil, err
	}
	return res.Headers, nil
}

func (c *v2Client) multipart(b, k string, parts [][]byte, o sseOpt) (http.Header, error) {
	init := &oss2.InitiateMultipartUploadRequest{
		Bucket: &b, Key: &k,
		ServerSideEncryption: optStr(o.Alg), ServerSideDataEncryption: optStr(o.DataEnc), ServerSideEncryptionKeyId: optStr(o.KeyID),
	}
	init.Headers = custHeaders(o.Cust, false, o.BadMD5)
	ir, err := c.c.InitiateMultipartUpload(c.ctx, init)
	if err != nil {
		return nil, err
	}
	var done []oss2.UploadPart
	var all []byte
	for i, p := range parts {
		up := &oss2.UploadPartRequest{Bucket: &b, Key: &k, UploadId: ir.UploadId, PartNumber: int32(i + 1), Body: bytes.NewReader(p)}
		up.Headers = custHeaders(o.Cust, false, o.BadMD5)
		pr, err := c.c.UploadPart(c.ctx, up)
		if err != nil {
			return nil, err
		}
		if got := oss2.ToString(pr.HashCRC64); got != crc(p) {
			return nil, fmt.Errorf("UploadPart HashCRC64 %q, want %s", got, crc(p))
		}
		done = append(done, oss2.UploadPart{PartNumber: int32(i + 1), ETag: pr.ETag})
		all = append(all, p...)
	}
	cr, err := c.c.CompleteMultipartUpload(c.ctx, &oss2.CompleteMultipartUploadRequest{
		Bucket: &b, Key: &k, UploadId: ir.UploadId,
		CompleteMultipartUpload: &oss2.CompleteMultipartUpload{Parts: done},
	})
	if err != nil {
		return nil, err
	}
	if got := oss2.ToString(cr.HashCRC64); got != crc(all) {
		return nil, fmt.Errorf("CompleteMultipartUpload HashCRC64 %q, want %s", got, crc(all))
	}
	if oss2.ToString(cr.Key) != k || oss2.ToString(cr.Bucket) != b {
		return nil, fmt.Errorf("CompleteMultipartUpload names %q/%q", oss2.ToString(cr.Bucket), oss2.ToString(cr.Key))
	}
	return cr.Headers, nil
}

func (c *v2Client) presignGet(b, k string) (string, error) {
	res, err := c.c.Presign(c.ctx, &oss2.GetObjectRequest{Bucket: &b, Key: &k}, oss2.PresignExpires(10*time.Minute))
	if err != nil {
		return "", err
	}
	return res.URL, nil
}

func (c *v2Client) list(b, prefix string) ([]string, error) {
	res, err := c.c.ListObjectsV2(c.ctx, &oss2.ListObjectsV2Request{Bucket: &b, Prefix: optStr(prefix)})
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, o := range res.Contents {
		keys = append(keys, oss2.ToString(o.Key))
	}
	return keys, nil
}

// ---------------------------------------------------------------------------
// v1 SDK (aliyun-oss-go-sdk).

type v1Client struct {
	c   *osssdk.Client
	sig osssdk.AuthVersionType
}

func newV1(t *testing.T, n *testnode.Node, ak, sk string, sig osssdk.AuthVersionType) *v1Client {
	c, err := osssdk.New(n.DialectURL["oss"], ak, sk, osssdk.HTTPClient(n.Client), osssdk.AuthVersion(sig), osssdk.Region(region))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Config.IsEnableCRC {
		t.Fatal("v1 SDK CRC checking is off")
	}
	return &v1Client{c: c, sig: sig}
}

func (c *v1Client) name() string {
	if c.sig == osssdk.AuthV4 {
		return "v1sdk-V4"
	}
	return "v1sdk-V1"
}

func (c *v1Client) bucket(b string) *osssdk.Bucket {
	bk, err := c.c.Bucket(b)
	if err != nil {
		panic(err)
	}
	return bk
}

// opts converts encryption parameters to the SDK's options (SSE-C through
// its SSEC* options; the copy source's through SetHeader).
func v1Opts(o sseOpt, extra ...osssdk.Option) []osssdk.Option {
	opts := extra
	if o.Alg != "" {
		opts = append(opts, osssdk.ServerSideEncryption(o.Alg))
	}
	if o.DataEnc != "" {
		opts = append(opts, osssdk.ServerSideDataEncryption(o.DataEnc))
	}
	if o.KeyID != "" {
		opts = append(opts, osssdk.ServerSideEncryptionKeyID(o.KeyID))
	}
	if o.Cust != nil {
		h := custHeaders(o.Cust, false, o.BadMD5)
		p := "x-oss-server-side-encryption-customer-"
		opts = append(opts, osssdk.SSECAlgorithm(h[p+"algorithm"]), osssdk.SSECKey(h[p+"key"]), osssdk.SSECKeyMd5(h[p+"key-MD5"]))
	}
	for k, v := range custHeaders(o.CopyCust, true) {
		opts = append(opts, osssdk.SetHeader(k, v))
	}
	return opts
}

func (c *v1Client) createBucket(b string, o sseOpt) error {
	return c.c.CreateBucket(b, v1Opts(o)...)
}

func (c *v1Client) deleteBucket(b string) error { return c.c.DeleteBucket(b) }

func (c *v1Client) putEnc(b string, r rule) error {
	var er osssdk.ServerEncryptionRule
	er.SSEDefault.SSEAlgorithm, er.SSEDefault.KMSMasterKeyID, er.SSEDefault.KMSDataEncryption = r.Alg, r.KeyID, r.DataEnc
	return c.c.SetBucketEncryption(b, er) // the SDK insists on exactly 200
}

func (c *v1Client) getEnc(b string) (rule, error) {
	res, err := c.c.GetBucketEncryption(b)
	if err != nil {
		return rule{}, err
	}
	return rule{res.SSEDefault.SSEAlgorithm, res.SSEDefault.KMSMasterKeyID, res.SSEDefault.KMSDataEncryption}, nil
}

func (c *v1Client) delEnc(b string) error { return c.c.DeleteBucketEncryption(b) } // exactly 204

func (c *v1Client) bucketInfo(b string) (rule, error) {
	res, err := c.c.GetBucketInfo(b)
	if err != nil {
		return rule{}, err
	}
	if res.BucketInfo.Name != b || res.BucketInfo.CreationDate.IsZero() {
		return rule{}, fmt.Errorf("bucket info %+v", res.BucketInfo)
	}
	s := res.BucketInfo.SseRule
	return rule{s.SSEAlgorithm, s.KMSMasterKeyID, s.KMSDataEncryption}, nil
}

func (c *v1Client) put(b, k string, data []byte, o sseOpt) (http.Header, error) {
	var h http.Header
	// The SDK compares its CRC-64 with x-oss-hash-crc64ecma itself.
	err := c.bucket(b).PutObject(k, bytes.NewReader(data), v1Opts(o, osssdk.GetResponseHeader(&h))...)
	if err == nil && h.Get("x-oss-hash-crc64ecma") != crc(data) {
		return nil, fmt.Errorf("PutObject x-oss-hash-crc64ecma %q, want %s", h.Get("x-oss-hash-crc64ecma"), crc(data))
	}
	return h, err
}

func (c *v1Client) get(b, k string, o sseOpt, rng string) ([]byte, http.Header, error) {
	opts := v1Opts(o)
	if rng != "" {
		opts = append(opts, osssdk.NormalizedRange(rng))
	}
	res, err := c.bucket(b).DoGetObject(&osssdk.GetObjectRequest{ObjectKey: k}, opts)
	if err != nil {
		return nil, nil, err
	}
	defer res.Response.Body.Close()
	data, err := io.ReadAll(res.Response)
	if err != nil {
		return nil, nil, err
	}
	if res.ClientCRC != nil && res.Response.Headers.Get("x-oss-hash-crc64ecma") != "" && res.ClientCRC.Sum64() != res.ServerCRC {
		// What GetObjectToFile checks.
		return nil, nil, osssdk.CheckDownloadCRC(res.ClientCRC.Sum64(), res.ServerCRC)
	}
	return data, res.Response.Headers, nil
}

func (c *v1Client) head(b, k string, o sseOpt) (http.Header, error) {
	return c.bucket(b).GetObjectDetailedMeta(k, v1Opts(o)...)
}

func (c *v1Client) copy(b, src, dst string, o sseOpt) (http.Header, error) {
	var h http.Header
	_, err := c.bucket(b).CopyObject(src, dst, v1Opts(o, osssdk.GetResponseHeader(&h))...)
	return h, err
}

func (c *v1Client) multipart(b, k string, parts [][]byte, o sseOpt) (http.Header, error) {
	bk := c.bucket(b)
	imur, err := bk.InitiateMultipartUpload(k, v1Opts(o)...)
	if err != nil {
		return nil, err
	}
	partOpts := v1Opts(sseOpt{Cust: o.Cust})
	var done []osssdk.UploadPart
	for i, p := range parts {
		up, err := bk.UploadPart(imur, bytes.NewReader(p), int64(len(p)), i+1, partOpts...)
		if err != nil {
			return nil, err
		}
		done = append(done, up)
	}
	var h http.Header
	res, err := bk.CompleteMultipartUpload(imur, done, osssdk.GetResponseHeader(&h))
	if err != nil {
		return nil, err
	}
	if res.Key != k || res.Bucket != b {
		return nil, fmt.Errorf("CompleteMultipartUpload names %q/%q", res.Bucket, res.Key)
	}
	return h, nil
}

func (c *v1Client) presignGet(b, k string) (string, error) {
	return c.bucket(b).SignURL(k, osssdk.HTTPGet, 600)
}

func (c *v1Client) list(b, prefix string) ([]string, error) {
	res, err := c.bucket(b).ListObjectsV2(osssdk.Prefix(prefix))
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, o := range res.Objects {
		keys = append(keys, o.Key)
	}
	return keys, nil
}
