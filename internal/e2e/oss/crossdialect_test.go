package e2eoss

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	osssdk "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithymiddleware "github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func s3Client(n *testnode.Node) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(n.URL),
		UsePathStyle: true,
		Credentials:  awscreds.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""),
		HTTPClient:   n.Client,
		Retryer:      aws.NopRetryer{},
	})
}

func rawHeader(md smithymiddleware.Metadata) http.Header {
	if r, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		return r.Header
	}
	return http.Header{}
}

// TestCrossDialect: one namespace, each dialect's own headers. An object
// written with the OSS SDK under KMS + SM4 reads back through the S3
// dialect with aws-sdk-go-v2 (same bytes; aws:kms, the key id and
// x-amz-server-side-data-encryption: SM4), and an object written through
// S3 (aws:kms + SM4) reads back with the OSS SDK as KMS/SM4. Bucket rules
// cross over too, and an OSS client on the main listener is recognised by
// its signature.
func TestCrossDialect(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	if _, err := n.Keyring.CreateKey(ctx, "cross-key"); err != nil {
		t.Fatal(err)
	}
	ossc := newV2(t, n, n.AccessKey, n.SecretKey, oss2.SignatureVersionV4)
	s3c := s3Client(n)
	b := bucketName("cross")
	must(t, ossc.createBucket(b, sseOpt{}))

	// OSS -> S3.
	data := randBytes(300_000)
	const k = "x/oss wrote+this.bin"
	_, err := ossc.put(b, k, data, sseOpt{Alg: "KMS", KeyID: "cross-key", DataEnc: "SM4"})
	must(t, err)
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String(k)})
	must(t, err)
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	must(t, err)
	if !bytes.Equal(got, data) {
		t.Fatal("S3 read of the OSS object: wrong bytes")
	}
	if out.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(out.SSEKMSKeyId) != "cross-key" {
		t.Errorf("S3 view: %q key %q", out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
	}
	h := rawHeader(out.ResultMetadata)
	if h.Get("x-amz-server-side-data-encryption") != "SM4" {
		t.Errorf("S3 view: x-amz-server-side-data-encryption %q", h.Get("x-amz-server-side-data-encryption"))
	}
	for name := range h {
		if len(name) > 6 && (name[:6] == "X-Oss-" || name[:6] == "x-oss-") {
			t.Errorf("S3 response carries %s", name)
		}
	}

	// S3 -> OSS, with the SM4 data-encryption extension header.
	data2 := randBytes(120_000)
	const k2 = "x/s3 wrote+this.bin"
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &b, Key: aws.String(k2), Body: bytes.NewReader(data2),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("cross-key"),
	}, s3.WithAPIOptions(smithyhttp.AddHeaderValue("x-amz-server-side-data-encryption", "SM4")))
	must(t, err)
	v1 := newV1(t, n, n.AccessKey, n.SecretKey, osssdk.AuthV1)
	got, hh, err := v1.get(b, k2, sseOpt{}, "")
	must(t, err)
	if !bytes.Equal(got, data2) {
		t.Fatal("OSS read of the S3 object: wrong bytes")
	}
	wantSSE(t, "OSS view", hh, sseHeaders{"KMS", "SM4", "cross-key"})
	for name := range hh {
		if len(name) > 6 && (name[:6] == "X-Amz-" || name[:6] == "x-amz-") {
			t.Errorf("OSS response carries %s", name)
		}
	}

	// SSE-C written through OSS, read through S3 with the same key.
	key := randBytes(32)
	_, err = ossc.put(b, "x/ssec", data[:5000], sseOpt{Cust: key})
	must(t, err)
	sum := md5.Sum(key)
	out, err = s3c.GetObject(ctx, &s3.GetObjectInput{
		Bucket: &b, Key: aws.String("x/ssec"), SSECustomerAlgorithm: aws.String("AES256"),
		SSECustomerKey: aws.String(base64.StdEncoding.EncodeToString(key)), SSECustomerKeyMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	})
	must(t, err)
	got, _ = io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, data[:5000]) {
		t.Error("S3 read of the OSS SSE-C object: wrong bytes")
	}

	// Bucket rules: set through OSS, read through S3, and back.
	must(t, ossc.putEnc(b, rule{Alg: "KMS", KeyID: "cross-key"}))
	enc, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &b})
	must(t, err)
	d := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
	if d.SSEAlgorithm != types.ServerSideEncryptionAwsKms || aws.ToString(d.KMSMasterKeyID) != "cross-key" {
		t.Errorf("S3 view of the OSS rule: %q %q", d.SSEAlgorithm, aws.ToString(d.KMSMasterKeyID))
	}
	_, err = s3c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &b, ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
		Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}},
	}})
	must(t, err)
	r, err := v1.getEnc(b)
	must(t, err)
	if r != (rule{Alg: "AES256"}) {
		t.Errorf("OSS view of the S3 rule: %+v", r)
	}

	// An OSS client on the main (S3) listener: detected by its signature.
	for _, c := range []client{
		&v1Client{c: mustV1(t, n.URL, n, osssdk.AuthV4), sig: osssdk.AuthV4},
		&v2Client{c: oss2.NewClient(oss2.LoadDefaultConfig().WithCredentialsProvider(credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey)).
			WithRegion(region).WithEndpoint(n.URL).WithHttpClient(n.Client).WithSignatureVersion(oss2.SignatureVersionV1).WithRetryMaxAttempts(1)),
			sig: oss2.SignatureVersionV1, ctx: ctx},
	} {
		got, h, err := c.get(b, k, sseOpt{}, "")
		must(t, err)
		if !bytes.Equal(got, data) {
			t.Errorf("%s on the main listener: wrong bytes", c.name())
		}
		wantSSE(t, c.name()+" on the main listener", h, sseHeaders{"KMS", "SM4", "cross-key"})
		_, err = c.getEnc(bucketName("missing"))
		wantErr(t, err, http.StatusNotFound, "NoSuchBucket")
	}
}

func mustV1(t *testing.T, endpoint string, n *testnode.Node, sig osssdk.AuthVersionType, extra ...osssdk.ClientOption) *osssdk.Client {
	t.Helper()
	opts := append([]osssdk.ClientOption{osssdk.HTTPClient(n.Client), osssdk.AuthVersion(sig), osssdk.Region(region)}, extra...)
	c, err := osssdk.New(endpoint, n.AccessKey, n.SecretKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestVirtualHosted: with --domain oss=oss.localhost, bucket.oss.localhost
// requests (the SDKs' default addressing for host names) speak OSS on the
// main listener; both signatures sign the bucket from the Host.
func TestVirtualHosted(t *testing.T) {
	n := testnode.Start(t, testnode.Options{TLS: true, Domains: []string{"oss=oss.localhost"}})
	// Every host name resolves to the node.
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, n.Addr)
		},
	}
	hc := &http.Client{Transport: tr}
	_, port, _ := net.SplitHostPort(n.Addr)
	endpoint := "https://oss.localhost:" + port
	vn := *n
	vn.Client = hc
	clients := []client{
		&v1Client{c: mustV1(t, endpoint, &vn, osssdk.AuthV1), sig: osssdk.AuthV1},
		&v1Client{c: mustV1(t, endpoint, &vn, osssdk.AuthV4), sig: osssdk.AuthV4},
	}
	for _, sig := range []oss2.SignatureVersionType{oss2.SignatureVersionV4, oss2.SignatureVersionV1} {
		clients = append(clients, &v2Client{c: oss2.NewClient(oss2.LoadDefaultConfig().WithCredentialsProvider(credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey)).
			WithRegion(region).WithEndpoint(endpoint).WithHttpClient(hc).WithSignatureVersion(sig).WithRetryMaxAttempts(1)),
			sig: sig, ctx: context.Background()})
	}
	for _, c := range clients {
		t.Run(c.name(), func(t *testing.T) {
			b := bucketName("vhost")
			must(t, c.createBucket(b, sseOpt{Alg: "KMS", DataEnc: "SM4"}))
			r, err := c.getEnc(b)
			must(t, err)
			if r != (rule{Alg: "KMS", DataEnc: "SM4"}) {
				t.Errorf("rule %+v", r)
			}
			data := randBytes(10_000)
			h, err := c.put(b, "v/a b+c", data, sseOpt{})
			must(t, err)
			if sseOf(h).Alg != "KMS" || sseOf(h).DataEnc != "SM4" {
				t.Errorf("put: %+v", sseOf(h))
			}
			got, _, err := c.get(b, "v/a b+c", sseOpt{}, "")
			must(t, err)
			if !bytes.Equal(got, data) {
				t.Error("wrong bytes")
			}
			u, err := c.presignGet(b, "v/a b+c")
			must(t, err)
			resp, err := hc.Get(u)
			must(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
				t.Errorf("presigned GET %s: %d", u, resp.StatusCode)
			}
			_, err = c.getEnc(bucketName("missing"))
			wantErr(t, err, http.StatusNotFound, "NoSuchBucket")
		})
	}
}
