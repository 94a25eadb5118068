package e2ekmip

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/kms/kmip"
)

// Every SSE mode that uses the KMS, and every path that makes or reads an
// object key (PUT, GET, copy, multipart, bucket keys, rotation), through a
// node whose master keys are in PyKMIP.
func TestSSEThroughKMIP(t *testing.T) {
	e := newEnv(t)
	if _, ok := e.node.Keys.(*kmip.Provider); !ok {
		t.Fatalf("the node's key provider is %T, not KMIP", e.node.Keys)
	}
	if _, err := e.node.Keys.CreateKey(e.ctx, "app-key"); err != nil {
		t.Fatal(err)
	}
	b := e.bucket(t, "kmip-sse")
	data := body(100 << 10)
	type put struct {
		name      string
		sse       types.ServerSideEncryption
		keyID     string
		bucketKey bool
		wantKeyID string
	}
	puts := []put{
		{"sse-s3", types.ServerSideEncryptionAes256, "", false, ""},
		{"sse-kms-default", types.ServerSideEncryptionAwsKms, "", false, kms.DefaultKeyName},
		{"sse-kms-named", types.ServerSideEncryptionAwsKms, "app-key", false, "app-key"},
		{"sse-kms-alias", types.ServerSideEncryptionAwsKms, "alias/app-key", false, "app-key"},
		{"sse-kms-bucket-key", types.ServerSideEncryptionAwsKms, "app-key", true, "app-key"},
	}
	before := e.node.KMS.Calls()[kms.OpGenerateDataKey] + e.node.KMS.Calls()[kms.OpEncrypt]
	for _, p := range puts {
		in := &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(p.name), Body: bytes.NewReader(data), ServerSideEncryption: p.sse}
		if p.keyID != "" {
			in.SSEKMSKeyId = aws.String(p.keyID)
		}
		if p.bucketKey {
			in.BucketKeyEnabled = aws.Bool(true)
		}
		out, err := e.c.PutObject(e.ctx, in)
		if err != nil {
			t.Fatalf("%s: PutObject: %v", p.name, err)
		}
		if out.ServerSideEncryption != p.sse {
			t.Errorf("%s: PUT answered SSE %q", p.name, out.ServerSideEncryption)
		}
		got, gout := e.get(t, b, p.name)
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: GET returned other bytes", p.name)
		}
		if p.wantKeyID != "" && !strings.HasSuffix(aws.ToString(gout.SSEKMSKeyId), p.wantKeyID) {
			t.Errorf("%s: GET key id %q, want %q", p.name, aws.ToString(gout.SSEKMSKeyId), p.wantKeyID)
		}
	}
	if after := e.node.KMS.Calls()[kms.OpGenerateDataKey] + e.node.KMS.Calls()[kms.OpEncrypt]; after < before+uint64(len(puts)) {
		t.Errorf("%d KMS wraps for %d PUTs: the KMIP provider was not used", after-before, len(puts))
	}

	// Copies re-wrap under the destination's key.
	for _, c := range []struct {
		dst, keyID string
		sse        types.ServerSideEncryption
	}{
		{"copy-to-s3", "", types.ServerSideEncryptionAes256},
		{"copy-to-default", "", types.ServerSideEncryptionAwsKms},
		{"copy-to-app", "app-key", types.ServerSideEncryptionAwsKms},
	} {
		in := &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String(c.dst), CopySource: aws.String(b + "/sse-kms-named"), ServerSideEncryption: c.sse}
		if c.keyID != "" {
			in.SSEKMSKeyId = aws.String(c.keyID)
		}
		if _, err := e.c.CopyObject(e.ctx, in); err != nil {
			t.Fatalf("CopyObject to %s: %v", c.dst, err)
		}
		if got, _ := e.get(t, b, c.dst); !bytes.Equal(got, data) {
			t.Fatalf("%s: GET returned other bytes", c.dst)
		}
	}

	// Multipart under a named key.
	mp, err := e.c.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("app-key")})
	if err != nil {
		t.Fatal(err)
	}
	part1, part2 := body(5<<20), body(1000)
	var parts []types.CompletedPart
	for i, p := range [][]byte{part1, part2} {
		out, err := e.c.UploadPart(e.ctx, &s3.UploadPartInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	if _, err := e.c.CompleteMultipartUpload(e.ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.get(t, b, "mp"); !bytes.Equal(got, append(part1, part2...)) {
		t.Fatal("multipart: GET returned other bytes")
	}

	// Rotation: new objects use the new version, old ones still read.
	if info, err := e.node.Keys.RotateKey(e.ctx, "app-key"); err != nil || info.Versions != 2 {
		t.Fatalf("RotateKey = %+v, %v", info, err)
	}
	if _, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("after-rotate"), Body: bytes.NewReader(data),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("app-key")}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sse-kms-named", "mp", "after-rotate"} {
		if _, err := e.c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(k)}); err != nil {
			t.Errorf("HEAD %s after rotation: %v", k, err)
		}
		e.get(t, b, k)
	}

	// A disabled key refuses, with the KMS code, and comes back.
	if _, err := e.node.Keys.DisableKey(e.ctx, "app-key"); err != nil {
		t.Fatal(err)
	}
	// Also with a bucket key cached: the provider's StateSerial moved.
	for _, k := range []string{"sse-kms-named", "sse-kms-bucket-key"} {
		_, err = e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err == nil {
			t.Fatalf("GET %s under a disabled key succeeded", k)
		}
		if status, code, _ := apiErr(t, err); status != http.StatusBadRequest || code != "KMS.DisabledException" {
			t.Errorf("GET %s under a disabled key: %d %s", k, status, code)
		}
	}
	if _, err := e.node.Keys.EnableKey(e.ctx, "app-key"); err != nil {
		t.Fatal(err)
	}
	e.get(t, b, "sse-kms-named")
}

// The Alibaba OSS SDK, SSE with KMS on the OSS dialect listener.
func TestOSSSDKThroughKMIP(t *testing.T) {
	e := newEnv(t, "oss")
	c := e.ossClient()
	if _, err := c.PutBucket(e.ctx, &oss2.PutBucketRequest{Bucket: oss2.Ptr("kmip-oss")}); err != nil {
		t.Fatal(err)
	}
	data := body(70 << 10)
	out, err := c.PutObject(e.ctx, &oss2.PutObjectRequest{Bucket: oss2.Ptr("kmip-oss"), Key: oss2.Ptr("o"), Body: bytes.NewReader(data),
		ServerSideEncryption: oss2.Ptr("KMS")})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Headers.Get("x-oss-server-side-encryption"); got != "KMS" {
		t.Errorf("PUT answered x-oss-server-side-encryption %q", got)
	}
	res, err := c.GetObject(e.ctx, &oss2.GetObjectRequest{Bucket: oss2.Ptr("kmip-oss"), Key: oss2.Ptr("o")})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got := new(bytes.Buffer)
	got.ReadFrom(res.Body)
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatal("GET returned other bytes")
	}
	if !reflect.DeepEqual(aws.ToString(res.ServerSideEncryption), "KMS") {
		t.Errorf("GET answered SSE %q", aws.ToString(res.ServerSideEncryption))
	}
}
