package s3_test

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	blobs3 "github.com/strongroom-dev/strongroom/internal/blob/s3"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// BenchmarkTier compares a front node on the default fs tier with one on
// an S3 tier (a second node on loopback): 64 MiB PUT and GET (MB/s) and
// 4 KiB PUT and GET (ops/s: kept inline in the metadata, so the tier is
// not involved), plaintext and SSE-S3.
//
//	go test -run '^$' -bench BenchmarkTier -benchtime 5x ./internal/blob/s3/
func BenchmarkTier(b *testing.B) {
	for _, tierName := range []string{"fs", "s3"} {
		o := testnode.Options{}
		if tierName == "s3" {
			tg := newTarget(b)
			o.Blobs = "s3://" + tierBucket + "?endpoint=" + url.QueryEscape(tg.node.URL)
			o.BlobsAccessKey, o.BlobsSecretKey = tg.node.AccessKey, tg.node.SecretKey
		}
		n := testnode.Start(b, o)
		c := sdkClient(n.URL, n.AccessKey, n.SecretKey, nil)
		if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
			b.Fatal(err)
		}
		for _, enc := range []bool{false, true} {
			mode := map[bool]string{false: "plain", true: "sse-s3"}[enc]
			for _, size := range []int{64 * MiB, 4 * KiB} {
				data := payload(size, 1)
				key := fmt.Sprintf("%s-%d", mode, size)
				put := func() {
					in := &awss3.PutObjectInput{Bucket: aws.String("bench"), Key: &key, Body: bytes.NewReader(data)}
					if enc {
						in.ServerSideEncryption = types.ServerSideEncryptionAes256
					}
					if _, err := c.PutObject(ctx, in); err != nil {
						b.Fatal(err)
					}
				}
				b.Run(fmt.Sprintf("%s/%s/PUT/%s", tierName, mode, sizeName(size)), func(b *testing.B) {
					b.SetBytes(int64(size))
					for b.Loop() {
						put()
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
				})
				put()
				b.Run(fmt.Sprintf("%s/%s/GET/%s", tierName, mode, sizeName(size)), func(b *testing.B) {
					b.SetBytes(int64(size))
					for b.Loop() {
						out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("bench"), Key: &key})
						if err != nil {
							b.Fatal(err)
						}
						if n, err := io.Copy(io.Discard, out.Body); err != nil || n != int64(size) {
							b.Fatalf("GET: %d bytes, %v", n, err)
						}
						out.Body.Close()
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
				})
			}
		}
	}
}

func sizeName(n int) string {
	if n >= MiB {
		return fmt.Sprintf("%dMiB", n/MiB)
	}
	return fmt.Sprintf("%dKiB", n/KiB)
}

// BenchmarkStore measures the store alone against the target: a 64 MiB
// blob written (multipart, 8 MiB parts) and read back sequentially.
func BenchmarkStore(b *testing.B) {
	tg := newTarget(b)
	s := tg.store(b, func(c *blobs3.Config) { c.PartSize = blobs3.DefaultPartSize })
	data := payload(64*MiB, 1)
	var id string
	b.Run("write/64MiB", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			id = put(b, s, data)
		}
	})
	b.Run("read/64MiB", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			readAll(b, s, id)
		}
	})
}
