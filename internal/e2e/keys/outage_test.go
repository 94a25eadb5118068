package e2ekeys

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// outage is a key provider that can be taken down: every call then fails
// as an unreachable KMS does.
type outage struct {
	kms.Provider
	down atomic.Bool
}

func (o *outage) err() error { return kms.ErrUnavailable.WithMessage("The KMS does not answer.") }

func (o *outage) GenerateDataKey(ctx context.Context, id string, c map[string]string) (kms.DataKey, error) {
	if o.down.Load() {
		return kms.DataKey{}, o.err()
	}
	return o.Provider.GenerateDataKey(ctx, id, c)
}

func (o *outage) Decrypt(ctx context.Context, ct []byte, c map[string]string) ([]byte, error) {
	if o.down.Load() {
		return nil, o.err()
	}
	return o.Provider.Decrypt(ctx, ct, c)
}

func (o *outage) DescribeKey(ctx context.Context, id string) (kms.KeyInfo, error) {
	if o.down.Load() {
		return kms.KeyInfo{}, o.err()
	}
	return o.Provider.DescribeKey(ctx, id)
}

// TestOutageShorterThanCacheTTL: with bucket keys, a KMS outage shorter
// than --kms-cache-ttl is invisible to writers and to readers of objects
// under the cached bucket key; a write needing a new data key and a read
// whose key is not cached answer 503 ServiceUnavailable with Retry-After
// (S3 and OSS), and nothing is stored; past the TTL the bucket-key writer
// sees the outage too; /_strongroom/ready reports the KMS; all recovers
// when the KMS is back.
func TestOutageShorterThanCacheTTL(t *testing.T) {
	kp := &outage{}
	e := start(t, testnode.Options{
		KMSCache: server.KMSCache{KMSCacheTTL: 10 * time.Minute, KMSCacheSize: 10},
		WrapKMS:  func(p kms.Provider) kms.Provider { kp.Provider = p; return kp },
	})
	ctx, b := e.ctx, "bucket-keys"
	if _, err := e.root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.root.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &b, ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
		Rules: []types.ServerSideEncryptionRule{{BucketKeyEnabled: aws.Bool(true),
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms}}}}}); err != nil {
		t.Fatal(err)
	}
	data := []byte("through the outage")
	perObject := func(key string) error { // SSE-KMS without a bucket key: one KMS call
		_, err := e.root.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: &key, Body: bytes.NewReader(data),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, BucketKeyEnabled: aws.Bool(false)})
		return err
	}
	for _, k := range []string{"bk-before"} {
		if err := put(ctx, e.root, b, k, "-", data); err != nil {
			t.Fatal(err)
		}
	}
	if err := perObject("own-before"); err != nil {
		t.Fatal(err)
	}
	ready := func() int {
		resp, err := e.node.Client.Get(e.node.URL + "/_strongroom/ready")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	kp.down.Store(true)
	e.clock.Add(9 * time.Minute)
	for _, k := range []string{"bk-during-1", "bk-during-2"} {
		if err := put(ctx, e.root, b, k, "-", data); err != nil {
			t.Errorf("bucket-key PUT %s within the TTL of the outage: %v", k, err)
		}
	}
	if got, err := get(ctx, e.root, b, "bk-before"); err != nil || !bytes.Equal(got, data) {
		t.Errorf("GET under the cached bucket key during the outage: %v", err)
	}
	want503 := func(what string, err error) {
		t.Helper()
		wantErr(t, what, err, 503, "ServiceUnavailable")
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.Response.Header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", what)
		}
	}
	want503("PUT needing a new data key", perObject("own-during"))
	_, err := get(ctx, e.root, b, "own-before")
	want503("GET whose key is not cached", err)
	ro := e.oss(&iam.Credentials{AccessKey: e.node.AccessKey, SecretKey: e.node.SecretKey})
	_, err = ro.PutObject(ctx, &oss2.PutObjectRequest{Bucket: &b, Key: oss2.Ptr("oss-during"), Body: bytes.NewReader(data),
		ServerSideEncryption: oss2.Ptr("KMS")})
	var se *oss2.ServiceError
	if !errors.As(err, &se) || se.StatusCode != 503 || se.Code != "ServiceUnavailable" || se.Headers.Get("Retry-After") == "" {
		t.Errorf("OSS PUT needing a new data key: %v", err)
	}
	time.Sleep(1100 * time.Millisecond) // the readiness probe's own cache
	if status := ready(); status != http.StatusServiceUnavailable {
		t.Errorf("ready during the outage: %d, want 503", status)
	}

	// Past the TTL the cached bucket key is gone: writers see the outage.
	e.clock.Add(2 * time.Minute)
	want503("bucket-key PUT past the TTL", put(ctx, e.root, b, "bk-late", "-", data))

	kp.down.Store(false)
	time.Sleep(1100 * time.Millisecond)
	if status := ready(); status != http.StatusOK {
		t.Errorf("ready after the outage: %d", status)
	}
	for _, k := range []string{"bk-before", "bk-during-1", "bk-during-2", "own-before"} {
		if got, err := get(ctx, e.root, b, k); err != nil || !bytes.Equal(got, data) {
			t.Errorf("GET %s after the outage: %v", k, err)
		}
	}
	out, err := e.root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if got := strings.Join(keys, ","); got != "bk-before,bk-during-1,bk-during-2,own-before" {
		t.Errorf("objects after the outage: %s (a refused write was stored?)", got)
	}
	if err := perObject("own-after"); err != nil {
		t.Errorf("PUT after the outage: %v", err)
	}
}
