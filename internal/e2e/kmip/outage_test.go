package e2ekmip

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// PyKMIP stopped mid-run: a write that needs a new data key and a read
// whose key is not cached answer 503 with Retry-After in each dialect,
// nothing stored changes, a write under a cached bucket key still works,
// and everything works again once PyKMIP is back.
func TestKMIPOutage(t *testing.T) {
	e := newEnv(t, "oss")
	b := e.bucket(t, "kmip-outage")
	data := body(10 << 10)
	putKMS := func(key string, bucketKey bool) error {
		_, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(data),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, BucketKeyEnabled: aws.Bool(bucketKey)})
		return err
	}
	for _, k := range []string{"before", "overwritten"} {
		if err := putKMS(k, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := putKMS("bucket-key-before", true); err != nil {
		t.Fatal(err)
	}
	oss := e.ossClient()
	listed := e.listKeys(t, b)

	kmipSrv.Stop()
	restarted := false
	defer func() {
		if !restarted {
			kmipSrv.Start()
		}
	}()

	want503 := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s succeeded while the KMS is down", what)
			return
		}
		status, code, retry := apiErr(t, err)
		if status != http.StatusServiceUnavailable || code != "ServiceUnavailable" || retry == "" {
			t.Errorf("%s: %d %s Retry-After %q, want 503 ServiceUnavailable with Retry-After", what, status, code, retry)
		}
	}
	want503("PUT of a new object", putKMS("during", false))
	want503("PUT over an object", putKMS("overwritten", false))
	_, err := e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("before")})
	want503("GET", err)
	_, err = e.c.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp-during"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms})
	if err != nil {
		want503("CreateMultipartUpload", err)
	}
	// The OSS dialect: ServiceUnavailable, 503, Retry-After.
	_, err = oss.PutObject(e.ctx, &oss2.PutObjectRequest{Bucket: oss2.Ptr(b), Key: oss2.Ptr("oss-during"), Body: bytes.NewReader(data),
		ServerSideEncryption: oss2.Ptr("KMS")})
	var se *oss2.ServiceError
	if !errors.As(err, &se) || se.StatusCode != http.StatusServiceUnavailable || se.Code != "ServiceUnavailable" || se.Headers.Get("Retry-After") == "" {
		t.Errorf("OSS PUT while the KMS is down: %v", err)
	}
	// A cached bucket key needs no KMS: writers do not see the outage.
	if err := putKMS("bucket-key-during", true); err != nil {
		t.Errorf("PUT under a cached bucket key while the KMS is down: %v", err)
	}
	// Only the bucket-key write landed.
	if got, want := e.listKeys(t, b), listed; len(got) != len(want)+1 || !reflect.DeepEqual(got[:1], want[:1]) {
		t.Errorf("objects changed while the KMS was down:\n got %v\nwant %v + bucket-key-during", got, want)
	}

	if err := kmipSrv.Start(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	for _, k := range []string{"before", "overwritten", "bucket-key-before", "bucket-key-during"} {
		if got, _ := e.get(t, b, k); !bytes.Equal(got, data) {
			t.Errorf("%s: GET after the outage returned other bytes", k)
		}
	}
	for _, k := range []string{"during", "mp-during", "oss-during"} {
		if _, err := e.c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(k)}); err == nil {
			t.Errorf("%s exists: a write refused during the outage was stored", k)
		}
	}
	if err := putKMS("after", false); err != nil {
		t.Errorf("PUT after the outage: %v", err)
	}
	e.get(t, b, "after")
}

// serve refuses to start when its KMIP server is unreachable, saying so.
func TestServeRefusesWithoutKMIP(t *testing.T) {
	cfg := kmsConfig()
	cfg.KMIPAddr = "127.0.0.1:1" // nothing listens there
	_, err := server.Open(context.Background(), server.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", KMSConfig: cfg})
	if err == nil || !errors.Is(err, kms.ErrUnavailable) || !strings.Contains(err.Error(), "KMIP server at 127.0.0.1:1") {
		t.Fatalf("Open with an unreachable KMIP server: %v", err)
	}
	cfg = kmsConfig()
	cfg.KMIPCA = os.DevNull
	if _, err := server.Open(context.Background(), server.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", KMSConfig: cfg}); err == nil {
		t.Fatal("Open with an empty CA file succeeded")
	}
	cfg = kmsConfig()
	cfg.KMS = "vault"
	if _, err := server.Open(context.Background(), server.Config{DataDir: t.TempDir(), Addr: "127.0.0.1:0", KMSConfig: cfg}); err == nil {
		t.Fatal("Open with an unknown provider succeeded")
	}
}
