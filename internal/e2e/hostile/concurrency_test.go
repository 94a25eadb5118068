package hostile

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strongroom-dev/strongroom/internal/racetest"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// The concurrency class: conditional writes racing each other, reads racing
// overwrites, and Completes of one upload racing with different part lists.
// Each test drives a real node with aws-sdk-go-v2 and stays within seconds.

// concurrencyNode starts a node and returns an S3 client with enough
// connections for the racers.
func concurrencyNode(t *testing.T) *s3.Client {
	t.Helper()
	node := testnode.Start(t, testnode.Options{})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	t.Cleanup(tr.CloseIdleConnections)
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(node.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(node.AccessKey, node.SecretKey, ""),
		HTTPClient:   &http.Client{Transport: tr},
		Retryer:      aws.NopRetryer{},
	})
	return c
}

var buckets atomic.Int64

// raceBucket creates a fresh bucket.
func raceBucket(t *testing.T, c *s3.Client) string {
	t.Helper()
	name := fmt.Sprint("race-", buckets.Add(1))
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatal(err)
	}
	return name
}

// raceModes are the encryption modes each race runs under.
var raceModes = []struct {
	name string
	sse  types.ServerSideEncryption
}{{"plain", ""}, {"SSE-KMS", types.ServerSideEncryptionAwsKms}}

// versionBody is version v of an object: n bytes, every one v.
func versionBody(v byte, n int) []byte { return bytes.Repeat([]byte{v}, n) }

// status returns an SDK error's HTTP status and S3 code (0, "" for none).
func status(err error) (int, string) {
	var re *smithyhttp.ResponseError
	var ae smithy.APIError
	if !errors.As(err, &re) || !errors.As(err, &ae) {
		return 0, ""
	}
	return re.HTTPStatusCode(), ae.ErrorCode()
}

func getBody(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	return b
}

// TestConditionalPutRace: writers racing If-None-Match: * to a new key, then
// If-Match on one ETag: exactly one wins each time and the others get 412
// PreconditionFailed; the object is the winner's.
func TestConditionalPutRace(t *testing.T) {
	cl := concurrencyNode(t)
	for _, c := range []struct {
		size, writers, rounds int
	}{{8 << 10, 8, 3}, {8 << 10, 32, 1}, {300 << 10, 8, 1}, {300 << 10, 16, 1}} {
		for _, m := range raceModes {
			t.Run(fmt.Sprintf("%dKiB/%s/%d", c.size>>10, m.name, c.writers), func(t *testing.T) {
				bucket := raceBucket(t, cl)
				ctx := context.Background()
				for round := range c.rounds {
					key := fmt.Sprint("k", round)
					var etag string
					for _, cond := range []string{"If-None-Match", "If-Match"} {
						var wins atomic.Int32
						var winner atomic.Int32
						racetest.Together(c.writers, func(i int) {
							v := byte(i + 1)
							in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, ServerSideEncryption: m.sse}
							if cond == "If-None-Match" {
								in.IfNoneMatch = aws.String("*")
							} else {
								// Bodies unlike the first round's: a writer
								// storing the same bytes keeps the (plain)
								// ETag, and a second If-Match may rightly win.
								v += 100
								in.IfMatch = aws.String(etag)
							}
							in.Body = bytes.NewReader(versionBody(v, c.size))
							_, err := cl.PutObject(ctx, in)
							if err == nil {
								wins.Add(1)
								winner.Store(int32(v))
								return
							}
							if st, code := status(err); st != http.StatusPreconditionFailed || code != "PreconditionFailed" {
								t.Errorf("%s writer %d: %v, want 412 PreconditionFailed", cond, i, err)
							}
						})
						if n := wins.Load(); n != 1 {
							t.Fatalf("round %d, %s: %d of %d writers succeeded, want 1", round, cond, n, c.writers)
						}
						if !bytes.Equal(getBody(t, cl, bucket, key), versionBody(byte(winner.Load()), c.size)) {
							t.Fatalf("round %d, %s: object is not the winner's", round, cond)
						}
						head, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
						if err != nil {
							t.Fatal(err)
						}
						etag = aws.ToString(head.ETag)
					}
				}
			})
		}
	}
}

// TestReadRacingOverwrite: GETs and range GETs racing overwrites of one key
// (300 KiB to 3 MiB, single PUTs and multipart) each return one version
// whole: a 2xx whose every byte is that version's, at that version's length.
// Never a 500 blob: not found.
func TestReadRacingOverwrite(t *testing.T) {
	sizes := []int{300 << 10, 1 << 20, 3 << 20, 700 << 10}
	sizeOf := func(v byte) int { return sizes[int(v)%len(sizes)] }
	cl := concurrencyNode(t)
	for _, m := range raceModes {
		t.Run(m.name, func(t *testing.T) {
			bucket := raceBucket(t, cl)
			ctx := context.Background()
			key := "hot"
			put := func(v byte) error {
				_, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, ServerSideEncryption: m.sse,
					Body: bytes.NewReader(versionBody(v, sizeOf(v)))})
				return err
			}
			if err := put(0); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(3 * time.Second)
			var reads, writes, failures atomic.Int64
			fail := func(format string, args ...any) {
				if failures.Add(1) <= 5 {
					t.Errorf(format, args...)
				}
			}
			var wg sync.WaitGroup
			for w := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for v := byte(1 + w); time.Now().Before(deadline); v += 2 {
						if err := put(v); err != nil {
							fail("overwrite: %v", err)
							return
						}
						writes.Add(1)
					}
				}()
			}
			for r := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for time.Now().Before(deadline) {
						in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
						var first, last int
						if r%2 == 1 {
							first, last = 200<<10, 299<<10
							in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", first, last))
						}
						if err := checkOneVersion(ctx, cl, in, first, last, sizeOf); err != nil {
							fail("read: %v", err)
						}
						reads.Add(1)
					}
				}()
			}
			wg.Wait()
			t.Logf("%d reads, %d overwrites, %d failures", reads.Load(), writes.Load(), failures.Load())
		})
	}
}

// checkOneVersion GETs in and checks the body is one version's, whole (or
// the requested range of it, when last > 0).
func checkOneVersion(ctx context.Context, cl *s3.Client, in *s3.GetObjectInput, first, last int, sizeOf func(byte) int) error {
	out, err := cl.GetObject(ctx, in)
	if err != nil {
		return err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return fmt.Errorf("body: %w", err)
	}
	if len(body) == 0 {
		return errors.New("empty body")
	}
	v := body[0]
	want := sizeOf(v)
	if last > 0 {
		want = min(last+1, want) - first
	}
	if len(body) != want || !bytes.Equal(body, versionBody(v, len(body))) {
		return fmt.Errorf("%d bytes are not version %d whole (%d bytes)", len(body), v, want)
	}
	return nil
}

// TestConcurrentCompletes: Completes of one upload racing with different
// part lists. Exactly one list becomes the object; a racer that sent that
// same list gets 200 with the object's ETag, every other racer 404
// NoSuchUpload, so no client believes its list was used when it was not.
func TestConcurrentCompletes(t *testing.T) {
	// Every list is valid: only part 1 is >= 5 MiB, and only it is ever
	// not last.
	lists := [][]int32{{1}, {1, 2}, {1, 3}, {2}, {3}, {1, 2}, {1}, {3}}
	sizes := map[int32]int{1: 5 << 20, 2: 1000, 3: 2000}
	cl := concurrencyNode(t)
	for _, m := range raceModes {
		t.Run(m.name, func(t *testing.T) {
			bucket := raceBucket(t, cl)
			ctx := context.Background()
			key := "mp"
			up, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key, ServerSideEncryption: m.sse})
			if err != nil {
				t.Fatal(err)
			}
			etags := map[int32]string{}
			for n := int32(1); n <= 3; n++ {
				p, err := cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(n),
					Body: bytes.NewReader(versionBody(byte(n), sizes[n]))})
				if err != nil {
					t.Fatal(err)
				}
				etags[n] = aws.ToString(p.ETag)
			}
			// listETag is the multipart ETag a list produces.
			listETag := func(l []int32) string {
				h := md5.New()
				for _, n := range l {
					raw, _ := hex.DecodeString(strings.Trim(etags[n], `"`))
					h.Write(raw)
				}
				return fmt.Sprintf(`"%x-%d"`, h.Sum(nil), len(l))
			}
			answers := make([]error, len(lists))
			got := make([]string, len(lists))
			racetest.Together(len(lists), func(i int) {
				var parts []types.CompletedPart
				for _, n := range lists[i] {
					parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etags[n])})
				}
				out, err := cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
					MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
				answers[i] = err
				if err == nil {
					got[i] = aws.ToString(out.ETag)
				}
			})
			head, err := cl.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
			if err != nil {
				t.Fatal(err)
			}
			object := aws.ToString(head.ETag)
			for i, l := range lists {
				mine := listETag(l)
				switch {
				case mine == object && answers[i] != nil:
					t.Errorf("Complete %v (the object's list) failed: %v", l, answers[i])
				case mine == object && got[i] != object:
					t.Errorf("Complete %v answered ETag %s, the object's is %s", l, got[i], object)
				case mine != object:
					if st, code := status(answers[i]); st != http.StatusNotFound || code != "NoSuchUpload" {
						t.Errorf("Complete %v lost but answered %v (ETag %s), want 404 NoSuchUpload", l, answers[i], got[i])
					}
				}
			}
			wonBy := slices.IndexFunc(lists, func(l []int32) bool { return listETag(l) == object })
			if wonBy < 0 {
				t.Fatalf("object ETag %s is no list's", object)
			}
			var want []byte
			for _, n := range lists[wonBy] {
				want = append(want, versionBody(byte(n), sizes[n])...)
			}
			if !bytes.Equal(getBody(t, cl, bucket, key), want) {
				t.Fatalf("object is not list %v's bytes", lists[wonBy])
			}
		})
	}
}

// TestConditionalCopyAndComplete: CopyObject and CompleteMultipartUpload
// take If-None-Match and If-Match on the destination as PutObject does (the
// SDK's IfNoneMatch / IfMatch): 412 PreconditionFailed when the condition
// fails, 404 NoSuchKey for If-Match on a missing key, success otherwise.
func TestConditionalCopyAndComplete(t *testing.T) {
	cl := concurrencyNode(t)
	bucket := raceBucket(t, cl)
	ctx := context.Background()
	put, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("src"), Body: bytes.NewReader(versionBody(1, 1000))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("taken"), Body: bytes.NewReader(versionBody(3, 1000))}); err != nil {
		t.Fatal(err)
	}
	copyTo := func(key string, ifMatch, ifNoneMatch *string) error {
		_, err := cl.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bucket, Key: &key, CopySource: aws.String(bucket + "/src"),
			IfMatch: ifMatch, IfNoneMatch: ifNoneMatch})
		return err
	}
	complete := func(key string, ifMatch, ifNoneMatch *string) error {
		up, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		p, err := cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(1),
			Body: bytes.NewReader(versionBody(2, 1000))})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
			IfMatch: ifMatch, IfNoneMatch: ifNoneMatch,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag}}}})
		return err
	}
	star, wrong := aws.String("*"), aws.String(`"0123456789abcdef0123456789abcdef"`)
	for _, c := range []struct {
		name                 string
		write                func(key string, ifMatch, ifNoneMatch *string) error
		key                  string
		ifMatch, ifNoneMatch *string
		status               int
		code                 string
	}{
		{"copy If-None-Match onto an object", copyTo, "taken", nil, star, 412, "PreconditionFailed"},
		{"copy If-Match, wrong ETag", copyTo, "taken", wrong, nil, 412, "PreconditionFailed"},
		{"copy If-Match, missing key", copyTo, "nothing", wrong, nil, 404, "NoSuchKey"},
		{"copy If-None-Match to a new key", copyTo, "copied", nil, star, 200, ""},
		{"copy If-Match, right ETag", copyTo, "copied", put.ETag, nil, 200, ""},
		{"complete If-None-Match onto an object", complete, "taken", nil, star, 412, "PreconditionFailed"},
		{"complete If-Match, wrong ETag", complete, "taken", wrong, nil, 412, "PreconditionFailed"},
		{"complete If-Match, missing key", complete, "nothing", wrong, nil, 404, "NoSuchKey"},
		{"complete If-None-Match to a new key", complete, "completed", nil, star, 200, ""},
	} {
		err := c.write(c.key, c.ifMatch, c.ifNoneMatch)
		if st, code := status(err); c.status == 200 && err != nil || c.status != 200 && (st != c.status || code != c.code) {
			t.Errorf("%s: %v, want %d %s", c.name, err, c.status, c.code)
		}
	}
}
