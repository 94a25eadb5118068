package s3_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// tier is a target node behind a proxy the test can take down: while
// down, every connection is cut as soon as a request arrives.
type tier struct {
	*target
	proxy *httptest.Server
	down  atomic.Bool
	mu    sync.Mutex
	seen  []string // "METHOD copy-source" of each request that reached the target
}

func newTier(t *testing.T) *tier {
	t.Helper()
	tr := &tier{target: newTarget(t)}
	u, err := url.Parse(tr.node.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u) // keeps Host: the signature holds
	tr.proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tr.down.Load() {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		tr.mu.Lock()
		tr.seen = append(tr.seen, r.Method+" "+r.Header.Get("X-Amz-Copy-Source"))
		tr.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(tr.proxy.Close)
	return tr
}

// front starts a node whose data tier is the tier's bucket.
func (tr *tier) front(t *testing.T, tls bool) (*testnode.Node, *awss3.Client) {
	t.Helper()
	n := testnode.Start(t, testnode.Options{
		TLS: tls, Blobs: "s3://" + tierBucket + "/data?endpoint=" + url.QueryEscape(tr.proxy.URL),
		BlobsAccessKey: tr.node.AccessKey, BlobsSecretKey: tr.node.SecretKey,
	})
	c := sdkClient(n.URL, n.AccessKey, n.SecretKey, n.Client)
	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("front")}); err != nil {
		t.Fatal(err)
	}
	return n, c
}

// noRetry returns a client like c that tries each request once (a 5xx
// is the answer under test, not a reason to wait and retry).
func noRetry(_ *testnode.Node, c *awss3.Client) *awss3.Client {
	return awss3.New(c.Options(), func(o *awss3.Options) { o.RetryMaxAttempts = 1 })
}

// copies counts the server-side copies the target was asked for.
func (tr *tier) copies() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, s := range tr.seen {
		if strings.HasPrefix(s, "PUT ") && len(s) > 4 {
			n++
		}
	}
	return n
}

// ssec is an SSE-C key and the headers that use it.
type ssec struct{ key, md5 string }

func newSSEC() ssec {
	k := payload(32, 99)
	sum := md5.Sum(k)
	return ssec{base64.StdEncoding.EncodeToString(k), base64.StdEncoding.EncodeToString(sum[:])}
}

// TestFrontNodeE2E drives a node whose data tier is S3 (a second node)
// with aws-sdk-go-v2 over TLS: plain, SSE-S3 and SSE-C objects, single and
// multipart, ranges, and copies, with every byte checked.
func TestFrontNodeE2E(t *testing.T) {
	t.Parallel()
	tr := newTier(t)
	_, c := tr.front(t, true)
	key := newSSEC()
	type mode struct {
		name string
		put  func(*awss3.PutObjectInput)
		get  func(*awss3.GetObjectInput)
		mpu  func(*awss3.CreateMultipartUploadInput)
		part func(*awss3.UploadPartInput)
	}
	modes := []mode{
		{name: "plain", put: func(*awss3.PutObjectInput) {}, get: func(*awss3.GetObjectInput) {},
			mpu: func(*awss3.CreateMultipartUploadInput) {}, part: func(*awss3.UploadPartInput) {}},
		{name: "SSE-S3",
			put: func(in *awss3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAes256 },
			get: func(*awss3.GetObjectInput) {},
			mpu: func(in *awss3.CreateMultipartUploadInput) {
				in.ServerSideEncryption = types.ServerSideEncryptionAes256
			},
			part: func(*awss3.UploadPartInput) {}},
		{name: "SSE-C",
			put: func(in *awss3.PutObjectInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), &key.key, &key.md5
			},
			get: func(in *awss3.GetObjectInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), &key.key, &key.md5
			},
			mpu: func(in *awss3.CreateMultipartUploadInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), &key.key, &key.md5
			},
			part: func(in *awss3.UploadPartInput) {
				in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), &key.key, &key.md5
			}},
	}
	get := func(t *testing.T, m mode, k, rng string) []byte {
		t.Helper()
		in := &awss3.GetObjectInput{Bucket: aws.String("front"), Key: &k}
		if rng != "" {
			in.Range = &rng
		}
		m.get(in)
		out, err := c.GetObject(ctx, in)
		if err != nil {
			t.Fatalf("GET %s %s: %v", k, rng, err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			// Single PUTs: inline-sized, one blob, a blob the tier gets as
			// a multipart upload (above its 8 MiB part size).
			for _, size := range []int{1000, 300 * KiB, 9*MiB + 5} {
				k := fmt.Sprintf("%s/put-%d", m.name, size)
				data := payload(size, uint64(size))
				in := &awss3.PutObjectInput{Bucket: aws.String("front"), Key: &k, Body: bytes.NewReader(data)}
				m.put(in)
				if _, err := c.PutObject(ctx, in); err != nil {
					t.Fatalf("PUT %d: %v", size, err)
				}
				if got := get(t, m, k, ""); !bytes.Equal(got, data) {
					t.Fatalf("GET %d: %d bytes, differ", size, len(got))
				}
				for _, r := range [][2]int{{0, 0}, {size / 3, min(size/3+70000, size-1)}, {size - 17, size - 1}} {
					if got := get(t, m, k, fmt.Sprintf("bytes=%d-%d", r[0], r[1])); !bytes.Equal(got, data[r[0]:r[1]+1]) {
						t.Fatalf("GET %d bytes=%d-%d: wrong bytes", size, r[0], r[1])
					}
				}
			}
			// A multipart upload: two parts, each its own blob.
			k := m.name + "/multipart"
			data := payload(6*MiB+333, 42)
			cin := &awss3.CreateMultipartUploadInput{Bucket: aws.String("front"), Key: &k}
			m.mpu(cin)
			up, err := c.CreateMultipartUpload(ctx, cin)
			if err != nil {
				t.Fatal(err)
			}
			var parts []types.CompletedPart
			for i, chunk := range [][]byte{data[:5*MiB], data[5*MiB:]} {
				pin := &awss3.UploadPartInput{Bucket: aws.String("front"), Key: &k, UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(chunk)}
				m.part(pin)
				out, err := c.UploadPart(ctx, pin)
				if err != nil {
					t.Fatal(err)
				}
				parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
			}
			if _, err := c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String("front"), Key: &k, UploadId: up.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
				t.Fatal(err)
			}
			if got := get(t, m, k, ""); !bytes.Equal(got, data) {
				t.Fatal("multipart GET: wrong bytes")
			}
			if got := get(t, m, k, fmt.Sprintf("bytes=%d-%d", 5*MiB-10, 5*MiB+10)); !bytes.Equal(got, data[5*MiB-10:5*MiB+11]) {
				t.Fatal("range across the parts: wrong bytes")
			}
		})
	}

	// A copy that keeps the sealed data is a server-side copy on the tier:
	// no byte passes through the front node.
	t.Run("copy", func(t *testing.T) {
		src, dst := "SSE-S3/put-307200", "copied"
		before := tr.copies()
		if _, err := c.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String("front"), Key: &dst,
			CopySource: aws.String("front/" + src), ServerSideEncryption: types.ServerSideEncryptionAes256}); err != nil {
			t.Fatal(err)
		}
		if n := tr.copies() - before; n != 1 {
			t.Fatalf("copy sent %d server-side copies to the tier, want 1", n)
		}
		if got := get(t, modes[1], dst, ""); !bytes.Equal(got, payload(300*KiB, 300*KiB)) {
			t.Fatal("copied object: wrong bytes")
		}
		// Deleting the source leaves the copy readable.
		if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("front"), Key: &src}); err != nil {
			t.Fatal(err)
		}
		if got := get(t, modes[1], dst, "bytes=1000-2000"); !bytes.Equal(got, payload(300*KiB, 300*KiB)[1000:2001]) {
			t.Fatal("copy after the source's delete: wrong bytes")
		}
		// A copy that re-seals (to plaintext) reads and writes through.
		plain := "copied-plain"
		if _, err := c.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String("front"), Key: &plain, CopySource: aws.String("front/" + dst)}); err != nil {
			t.Fatal(err)
		}
		if got := get(t, modes[0], plain, ""); !bytes.Equal(got, payload(300*KiB, 300*KiB)) {
			t.Fatal("re-sealed copy: wrong bytes")
		}
	})
}

// TestTierSeesCiphertext: what an encrypting front node stores on the tier
// is ciphertext under random names. A canary written with SSE-S3 is found
// neither in the target's data directory nor in any object the target
// serves, nor is the object's name; the same canary written in plaintext is
// found (the scan works).
func TestTierSeesCiphertext(t *testing.T) {
	t.Parallel()
	tr := newTier(t)
	_, c := tr.front(t, false)
	secret := []byte("CANARY-s3blobs-7f3a91-")
	plain := []byte("PLAINCANARY-s3blobs-c41e0d-")
	name := "name-canary-5d2e8b"
	put := func(key string, canary []byte, enc bool) {
		in := &awss3.PutObjectInput{Bucket: aws.String("front"), Key: aws.String(key), Body: bytes.NewReader(bytes.Repeat(canary, 400*KiB/len(canary)))}
		if enc {
			in.ServerSideEncryption = types.ServerSideEncryptionAes256
		}
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	put(name, secret, true)
	put("plain-object", plain, false)

	var served [][]byte
	for _, k := range tr.objects(t) {
		if !strings.HasPrefix(k, "data/") || len(k) != len("data/")+32 {
			t.Errorf("the tier holds an object named %q, not data/ and a blob ID", k)
		}
		out, err := tr.c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(tierBucket), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		served = append(served, b)
	}
	if len(served) != 2 {
		t.Fatalf("the tier holds %d objects, want 2", len(served))
	}
	onDisk := readTree(t, tr.node.DataDir)
	for where, bs := range map[string][][]byte{"served by the target": served, "in the target's data directory": onDisk} {
		all := bytes.Join(bs, nil)
		if bytes.Contains(all, secret) {
			t.Errorf("the SSE-S3 canary is %s", where)
		}
		if bytes.Contains(all, []byte(name)) {
			t.Errorf("the object's name is %s", where)
		}
		if !bytes.Contains(all, plain) {
			t.Errorf("the plaintext canary is not %s: the scan proves nothing", where)
		}
	}
}

// readTree returns the contents of every file under dir.
func readTree(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		out = append(out, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTierDown503: while the data tier is unreachable the front node
// answers 503 ServiceUnavailable (never 500) to what needs it, keeps
// answering what needs only metadata, and serves again once it is back.
func TestTierDown503(t *testing.T) {
	t.Parallel()
	tr := newTier(t)
	c := noRetry(tr.front(t, false))
	data := payload(200*KiB, 1)
	sum := sha256.Sum256(data)
	putObj := func(k string, b []byte) error {
		_, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("front"), Key: aws.String(k), Body: bytes.NewReader(b)})
		return err
	}
	getObj := func(k string) ([]byte, error) {
		out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("front"), Key: aws.String(k)})
		if err != nil {
			return nil, err
		}
		defer out.Body.Close()
		return io.ReadAll(out.Body)
	}
	if err := putObj("kept", data); err != nil {
		t.Fatal(err)
	}
	tr.down.Store(true)
	is503 := func(op string, err error) {
		t.Helper()
		var ae smithy.APIError
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceUnavailable" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
			t.Errorf("%s with the tier down: %v, want 503 ServiceUnavailable", op, err)
		}
	}
	_, err := getObj("kept")
	is503("GET", err)
	is503("PUT", putObj("new", data))
	is503("PUT 9 MiB", putObj("big", payload(9*MiB, 2)))
	// What needs no blob still works: HEAD, and a PUT small enough to be
	// kept in its metadata record.
	if _, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("front"), Key: aws.String("kept")}); err != nil {
		t.Errorf("HEAD with the tier down: %v", err)
	}
	if err := putObj("small", []byte("tiny")); err != nil {
		t.Errorf("inline PUT with the tier down: %v", err)
	}
	tr.down.Store(false)
	got, err := getObj("kept")
	if err != nil || sha256.Sum256(got) != sum {
		t.Fatalf("GET once the tier is back: %v", err)
	}
	if err := putObj("new", data); err != nil {
		t.Fatalf("PUT once the tier is back: %v", err)
	}
	if keys := tr.objects(t); !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "data/") }) {
		t.Fatalf("tier objects: %v", keys)
	}
}

// TestTierTampering: a tier that alters, truncates or swaps the blobs of
// encrypted objects gets them refused (InternalError, the integrity
// message), never served.
func TestTierTampering(t *testing.T) {
	t.Parallel()
	tr := newTier(t)
	c := noRetry(tr.front(t, false))
	data := payload(300*KiB, 12)
	blobOf := map[string]string{} // front key -> tier object
	for _, k := range []string{"flipped", "truncated", "swapped", "other"} {
		before := tr.objects(t)
		if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("front"), Key: aws.String(k), Body: bytes.NewReader(data),
			ServerSideEncryption: types.ServerSideEncryptionAes256}); err != nil {
			t.Fatal(err)
		}
		for _, o := range tr.objects(t) {
			if !slices.Contains(before, o) {
				blobOf[k] = o
			}
		}
	}
	stored := func(k string) []byte {
		out, err := tr.c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(tierBucket), Key: aws.String(blobOf[k])})
		if err != nil {
			t.Fatal(err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	replace := func(k string, b []byte) {
		if _, err := tr.c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(tierBucket), Key: aws.String(blobOf[k]), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	b := stored("flipped")
	b[len(b)/2] ^= 1
	replace("flipped", b)
	// Cut into the ciphertext: the blob's last 64 KiB or less are the
	// random padding, which no read looks at.
	b = stored("truncated")
	replace("truncated", b[:len(data)])
	replace("swapped", stored("other"))
	for _, k := range []string{"flipped", "truncated", "swapped"} {
		out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("front"), Key: aws.String(k)})
		if err == nil {
			// Damage found after the status (here: a blob cut short, found
			// when the read reaches its end) cuts the body short; what was
			// sent had been authenticated.
			got, rerr := io.ReadAll(out.Body)
			out.Body.Close()
			if rerr == nil || len(got) >= len(data) || !bytes.Equal(got, data[:len(got)]) {
				t.Errorf("%s: a tampered blob gave %d bytes (read error %v), want an error or an authentic prefix cut short", k, len(got), rerr)
			}
			continue
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InternalError" || !strings.Contains(ae.ErrorMessage(), "integrity") {
			t.Errorf("%s: %v, want InternalError for failed integrity", k, err)
		}
	}
	// The untouched object still reads.
	out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("front"), Key: aws.String("other")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("the untouched object: wrong bytes")
	}
}
