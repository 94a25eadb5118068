package hostile

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// scrapeValue reads one metric family from a node's /metrics (parsed by
// the Prometheus client library) and sums its samples whose labels
// include want.
func scrapeValue(t *testing.T, n *testnode.Node, name string, want map[string]string) float64 {
	t.Helper()
	resp, err := n.Client.Get(n.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s %s", resp.Status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	if f := fams[name]; f != nil {
	next:
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if v, ok := want[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// TestMetricsCountTampering: a read that finds tampered ciphertext is an
// integrity failure on the scrape, beside its 500.
func TestMetricsCountTampering(t *testing.T) {
	n := testnode.Start(t, testnode.Options{})
	c := integrityClient(n)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tamper")}); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 256<<10) // a blob file, not inline
	rand.Read(data)
	putCorruptible(t, c, "tamper", "k", data, true, false)
	if got := scrapeValue(t, n, "strongroom_integrity_failures_total", nil); got != 0 {
		t.Fatalf("integrity failures before tampering: %v", got)
	}
	files := blobFiles(t, n.DataDir)
	flipFileByte(t, files[len(files)-1], fileSize(t, files[len(files)-1])/2)
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tamper"), Key: aws.String("k")})
	if status, _ := integrityStatus(err); status != http.StatusInternalServerError {
		t.Fatalf("GET of tampered data: %v, want 500", err)
	}
	if got := scrapeValue(t, n, "strongroom_integrity_failures_total", nil); got != 1 {
		t.Errorf("strongroom_integrity_failures_total = %v, want 1", got)
	}
	if got := scrapeValue(t, n, "strongroom_requests_total", map[string]string{"operation": "GetObject", "code": "500"}); got != 1 {
		t.Errorf("GetObject 500s = %v, want 1", got)
	}
}

// TestMetricsCountStorageFull: each PUT refused for a full disk counts as
// a storage-full event.
func TestMetricsCountStorageFull(t *testing.T) {
	n := testnode.Start(t, testnode.Options{DataDir: smallDisk(t, "24m")})
	c := integrityClient(n)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("full")}); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i := 0; i < 100 && refused < 3; i++ {
		b := make([]byte, 512<<10)
		rand.Read(b)
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("full"), Key: aws.String(fmt.Sprint(i)), Body: bytes.NewReader(b),
			ServerSideEncryption: types.ServerSideEncryptionAes256})
		if status, code := integrityStatus(err); status == http.StatusInsufficientStorage && code == "InsufficientStorage" {
			refused++
		} else if err != nil {
			t.Fatalf("PUT %d: %v", i, err)
		}
	}
	if refused == 0 {
		t.Fatal("the disk never filled")
	}
	if got := scrapeValue(t, n, "strongroom_storage_full_total", nil); got != float64(refused) {
		t.Errorf("strongroom_storage_full_total = %v, want %d", got, refused)
	}
}

// smallDisk mounts a tmpfs of size (e.g. "32m") on a temporary directory
// for the test, so a disk can fill; the test is skipped where mounting
// needs a root it lacks.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here (the test needs root, as in CI): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestMetricsCountObjectKeyCache: reads of SSE-S3 and bucket-key objects
// count their object-key cache lookups by kind and result, and the cache
// reports the keys it holds by kind. A read after its write hits (the
// write cached the key); after a key state change every cached key is
// stale, and the next read of each misses (and caches it again).
func TestMetricsCountObjectKeyCache(t *testing.T) {
	n := testnode.Start(t, testnode.Options{})
	c := integrityClient(n)
	ctx := context.Background()
	const bucket = "oekcache"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []*s3.PutObjectInput{
		{Key: aws.String("s3"), ServerSideEncryption: types.ServerSideEncryptionAes256},
		{Key: aws.String("s3-unread"), ServerSideEncryption: types.ServerSideEncryptionAes256},
		{Key: aws.String("bk"), ServerSideEncryption: types.ServerSideEncryptionAwsKms, BucketKeyEnabled: aws.Bool(true)},
	} {
		in.Bucket, in.Body = aws.String(bucket), bytes.NewReader([]byte("secret"))
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	get := func(key string) {
		t.Helper()
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(out.Body); string(b) != "secret" {
			t.Fatalf("GET %s: %q", key, b)
		}
		out.Body.Close()
	}
	check := func(when string, want map[[2]string]float64, keys map[string]float64) {
		t.Helper()
		for k, v := range want {
			if got := scrapeValue(t, n, "strongroom_object_key_cache_lookups_total", map[string]string{"kind": k[0], "result": k[1]}); got != v {
				t.Errorf("%s: %s %s lookups = %v, want %v", when, k[0], k[1], got, v)
			}
		}
		for kind, v := range keys {
			if got := scrapeValue(t, n, "strongroom_object_key_cache_keys", map[string]string{"kind": kind}); got != v {
				t.Errorf("%s: %s keys cached = %v, want %v", when, kind, got, v)
			}
		}
	}
	for range 2 {
		get("s3")
		get("bk")
	}
	// Each write cached its key, the unread one too.
	check("two reads each", map[[2]string]float64{{"sse-s3", "hit"}: 2, {"sse-s3", "miss"}: 0, {"bucket-key", "hit"}: 2, {"bucket-key", "miss"}: 0},
		map[string]float64{"sse-s3": 2, "bucket-key": 1})
	if _, err := n.Keyring.CreateKey(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Keyring.DisableKey(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	get("s3")
	get("bk")
	// The reads cached their keys again; caching the bucket key again
	// dropped every stale key, the unread one's too.
	check("after a key state change", map[[2]string]float64{{"sse-s3", "hit"}: 2, {"sse-s3", "miss"}: 1, {"bucket-key", "hit"}: 2, {"bucket-key", "miss"}: 1},
		map[string]float64{"sse-s3": 1, "bucket-key": 1})
}
