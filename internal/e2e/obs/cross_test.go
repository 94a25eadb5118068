package e2eobs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// s3Client is an aws-sdk-go-v2 client on the node's main listener (path
// style, S3 dialect), without retries.
func (e *env) s3Client() *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(e.node.URL),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(e.node.AccessKey, e.node.SecretKey, ""),
		HTTPClient:                 &http.Client{Transport: transport(e.node.Addr, nil)},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		Retryer:                    aws.NopRetryer{},
	})
}

func s3Header(out any, name string) string {
	var r *smithyhttp.Response
	switch o := out.(type) {
	case *s3.GetObjectOutput:
		r, _ = awsmiddleware.GetRawResponse(o.ResultMetadata).(*smithyhttp.Response)
	case *s3.HeadObjectOutput:
		r, _ = awsmiddleware.GetRawResponse(o.ResultMetadata).(*smithyhttp.Response)
	}
	if r == nil {
		return ""
	}
	return r.Header.Get(name)
}

func wantS3Code(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v; want %s", err, code)
	}
}

// One namespace, two dialects: what the OBS SDK writes (SSE-KMS with SM4,
// SSE-C, bucket defaults with a project) aws-sdk-go-v2 reads through the S3
// dialect, and the reverse, each side seeing its own wire names.
func TestCrossDialect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey("obs-cross")
	ctx := context.Background()
	s3c := e.s3Client()
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "cross-"+m.name)
		body := randomBytes(100 * KiB)

		// OBS writes SSE-KMS + SM4; S3 reads it.
		in := putInput(b, "from-obs", body)
		in.SseHeader = obs.SseKmsHeader{Encryption: "kms", Key: key}
		if _, err := withHeaders(c.PutObject, in, map[string]string{"x-obs-server-side-data-encryption": "SM4"}); err != nil {
			t.Fatal(err)
		}
		g, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("from-obs")})
		if err != nil {
			t.Fatalf("S3 get: %v", err)
		}
		got, _ := io.ReadAll(g.Body)
		g.Body.Close()
		if !bytes.Equal(got, body) || g.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(g.SSEKMSKeyId) != key ||
			s3Header(g, "x-amz-server-side-data-encryption") != "SM4" {
			t.Fatalf("S3 view of the OBS object: %d bytes, %s, key %q, data %q", len(got), g.ServerSideEncryption, aws.ToString(g.SSEKMSKeyId), s3Header(g, "x-amz-server-side-data-encryption"))
		}

		// OBS writes SSE-C; S3 reads it with the key.
		ck := newCustomerKey()
		in = putInput(b, "from-obs-ssec", body)
		in.SseHeader = ck.header()
		if _, err := c.PutObject(in); err != nil {
			t.Fatal(err)
		}
		g, err = s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("from-obs-ssec"),
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(ck.b64), SSECustomerKeyMD5: aws.String(ck.md5)})
		if err != nil {
			t.Fatalf("S3 get SSE-C: %v", err)
		}
		got, _ = io.ReadAll(g.Body)
		g.Body.Close()
		if !bytes.Equal(got, body) || aws.ToString(g.SSECustomerKeyMD5) != ck.md5 {
			t.Fatalf("S3 view of the OBS SSE-C object")
		}
		_, err = s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("from-obs-ssec")})
		wantS3Code(t, err, "BadRequest") // HEAD: S3 has no body, the SDK names the status

		// S3 writes SSE-KMS and SSE-C; OBS reads them.
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("from-s3"), Body: bytes.NewReader(body),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(key)}); err != nil {
			t.Fatalf("S3 put: %v", err)
		}
		og := get(t, c, b, "from-s3", nil, body)
		wantSSE(t, "OBS view of the S3 object", &og.BaseModel, sse{mode: "kms", keyID: key})
		if kms, ok := og.SseHeader.(obs.SseKmsHeader); !ok || kms.Encryption != "kms" || kms.Key != key {
			t.Fatalf("SDK SseHeader %#v", og.SseHeader)
		}
		ck2 := newCustomerKey()
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("from-s3-ssec"), Body: bytes.NewReader(body),
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(ck2.b64), SSECustomerKeyMD5: aws.String(ck2.md5)}); err != nil {
			t.Fatalf("S3 put SSE-C: %v", err)
		}
		get(t, c, b, "from-s3-ssec", ck2.header(), body)
		_, err = c.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: b, Key: "from-s3-ssec", SseHeader: ck.header()})
		wantObsErr(t, err, 403, "AccessDenied")

		// Bucket defaults: each dialect's "none" error, then each reads the
		// other's configuration.
		_, err = s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
		wantS3Code(t, err, "ServerSideEncryptionConfigurationNotFoundError")
		_, err = c.GetBucketEncryption(b)
		wantObsErr(t, err, 404, "NoSuchEncryptionConfiguration")

		if _, err := c.SetBucketEncryption(&obs.SetBucketEncryptionInput{Bucket: b,
			BucketEncryptionConfiguration: obs.BucketEncryptionConfiguration{SSEAlgorithm: "kms", KMSMasterKeyID: key, ProjectID: "proj-x"}}); err != nil {
			t.Fatal(err)
		}
		sg, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatal(err)
		}
		d := sg.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
		if d.SSEAlgorithm != types.ServerSideEncryptionAwsKms || aws.ToString(d.KMSMasterKeyID) != key {
			t.Fatalf("S3 view of the OBS default: %s %q", d.SSEAlgorithm, aws.ToString(d.KMSMasterKeyID))
		}
		if _, err := s3c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(b),
			ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
				ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}}}}); err != nil {
			t.Fatalf("S3 put encryption: %v", err)
		}
		og2, err := c.GetBucketEncryption(b)
		if err != nil || og2.SSEAlgorithm != "AES256" || og2.KMSMasterKeyID != "" || og2.ProjectID != "" {
			t.Fatalf("OBS view of the S3 default: %+v %v", og2, err)
		}
		// An object the OBS SDK writes now gets the S3-set default.
		pout, err := c.PutObject(putInput(b, "under-s3-default", body))
		if err != nil {
			t.Fatal(err)
		}
		wantSSE(t, "object under the S3-set default", &pout.BaseModel, sse{mode: "AES256"})
		h, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("under-s3-default")})
		if err != nil || h.ServerSideEncryption != types.ServerSideEncryptionAes256 {
			t.Fatalf("S3 head: %v %v", h, err)
		}
	})
}
