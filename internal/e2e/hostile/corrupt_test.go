package hostile

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/sealed"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// integrityClient is an S3 client of n that never retries, so every
// response is seen as sent.
func integrityClient(n *testnode.Node) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(n.URL),
		UsePathStyle: true,
		Credentials:  awscreds.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""),
		HTTPClient:   n.Client,
		Retryer:      aws.NopRetryer{},
	})
}

// integrityStatus returns the HTTP status and S3 code of an SDK error.
func integrityStatus(err error) (int, string) {
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		return 0, ""
	}
	return re.HTTPStatusCode(), ae.ErrorCode()
}

// blobFiles lists the committed blob files of a node's data directory,
// smallest first.
func blobFiles(t *testing.T, dataDir string) []string {
	t.Helper()
	var files []string
	root := filepath.Join(dataDir, "blobs")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "tmp" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(files, func(i, j int) bool { return fileSize(t, files[i]) < fileSize(t, files[j]) })
	return files
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// flipFileByte flips a bit of the byte at off (negative: from the end).
func flipFileByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if off < 0 {
		off += fileSize(t, path)
	}
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x10
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// flipInline changes byte i of an object's inline stored bytes wherever
// they are in the metadata file (older copies in freed pages included),
// as a flipped bit there would: the record stays valid, and the stored
// bytes read back differ. bbolt reads through a shared mapping of the
// file, so the running node sees the change.
func flipInline(t *testing.T, n *testnode.Node, bucket, key string, i int) {
	t.Helper()
	o, err := n.Meta().GetObject(context.Background(), bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	stored := o.Parts[0].Inline
	if len(stored) <= i {
		t.Fatalf("no inline byte %d (%d stored)", i, len(stored))
	}
	path := filepath.Join(n.DataDir, "meta.db")
	db, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var changed []int
	for at := 0; ; {
		k := bytes.Index(db[at:], stored)
		if k < 0 {
			break
		}
		pos := at + k + i
		db[pos] ^= 0x10
		changed = append(changed, pos)
		at = at + k + len(stored)
	}
	if len(changed) == 0 {
		t.Fatal("no inline bytes in meta.db")
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Only the flipped bytes are written: writing the whole file back
	// would undo any commit made since it was read.
	for _, pos := range changed {
		if _, err := f.WriteAt(db[pos:pos+1], int64(pos)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCorruptedBlobs flips a byte of the stored data of plain and sealed
// objects (inline, single blob, multipart; first, middle and last
// segment) and reads them whole and by range through the S3 SDK. A read
// over the damage is never a complete 2xx body: damage in the first bytes
// read is 500 InternalError with the integrity message, later damage
// truncates the body; bytes that do arrive are the object's. Each failure
// is counted. Ranges that avoid the damaged segment read normally.
func TestCorruptedBlobs(t *testing.T) {
	const seg = sealed.DefaultSegmentSize
	plainStride := int64(seg + sealed.SumSize)
	sealedStride := int64(seg + sealed.TagSize)
	type damage struct {
		name    string
		inline  int          // byte of the inline stored bytes; 0: a blob
		file    int          // blob file to damage, smallest first
		off     func() int64 // stored offset in it
		bad     int64        // an object offset inside the damaged segment
		earlyOK bool         // the first chunk is clean: expect a truncated body
	}
	plainAt := func(segment int64, within int64) func() int64 {
		return func() int64 { return int64(sealed.PlainHeaderSize) + segment*plainStride + within }
	}
	sealedAt := func(segment int64, within int64) func() int64 {
		return func() int64 { return int64(sealed.HeaderSize) + segment*sealedStride + within }
	}
	last := func() int64 { return -1 }
	for _, tt := range []struct {
		encrypted bool
		size      int
		multipart bool
		d         damage
	}{
		{false, 1000, false, damage{name: "inline", inline: 40, bad: 20}},
		{false, 3 << 20, false, damage{name: "first segment", off: plainAt(0, 5), bad: 5}},
		{false, 3 << 20, false, damage{name: "middle segment", off: plainAt(20, 100), bad: 20*seg + 100, earlyOK: true}},
		{false, 3 << 20, false, damage{name: "last segment", off: last, bad: 3<<20 - 1, earlyOK: true}},
		{false, 6 << 20, true, damage{name: "multipart part 2", file: 0, off: plainAt(1, 0), bad: 5<<20 + seg, earlyOK: true}},
		{true, 1000, false, damage{name: "inline", inline: 80, bad: 20}},
		{true, 3 << 20, false, damage{name: "first segment", off: sealedAt(0, 5), bad: 5}},
		{true, 3 << 20, false, damage{name: "middle segment", off: sealedAt(20, 100), bad: 20*seg + 100, earlyOK: true}},
		{true, 3 << 20, false, damage{name: "last segment", off: last, bad: 3<<20 - 1, earlyOK: true}},
		{true, 6 << 20, true, damage{name: "multipart part 1", file: 1, off: sealedAt(0, 0), bad: 0}},
	} {
		mode := "plain"
		if tt.encrypted {
			mode = "sse-s3"
		}
		t.Run(mode+" "+tt.d.name, func(t *testing.T) {
			// No background jobs: nothing commits while the file is patched.
			n := testnode.Start(t, testnode.Options{Now: time.Now})
			c := integrityClient(n)
			ctx := context.Background()
			bucket, key := "corrupt", "obj"
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatal(err)
			}
			data := make([]byte, tt.size)
			rand.Read(data)
			putCorruptible(t, c, bucket, key, data, tt.encrypted, tt.multipart)
			if tt.d.inline > 0 {
				flipInline(t, n, bucket, key, tt.d.inline)
			} else {
				files := blobFiles(t, n.DataDir)
				flipFileByte(t, files[tt.d.file], tt.d.off())
			}
			before := n.Service.Stats().IntegrityFailures.Load()
			bad := tt.d.bad
			ranges := []struct {
				rng     string
				off     int64
				earlyOK bool
			}{
				{"", 0, tt.d.earlyOK},
				{fmt.Sprintf("bytes=%d-%d", bad, bad), bad, false},
				{fmt.Sprintf("bytes=%d-", max(bad-(2<<20), 0)), max(bad-(2<<20), 0), bad-(2<<20) >= seg},
			}
			for _, r := range ranges {
				in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
				if r.rng != "" {
					in.Range = aws.String(r.rng)
				}
				out, err := c.GetObject(ctx, in)
				if err != nil {
					status, code := integrityStatus(err)
					if status != 500 || code != "InternalError" || !strings.Contains(err.Error(), errs.DataDamaged.Message) {
						t.Fatalf("GET %q: %v, want 500 InternalError with the integrity message", r.rng, err)
					}
					if r.earlyOK {
						t.Errorf("GET %q failed before the headers, but its first chunk is clean", r.rng)
					}
					continue
				}
				got, err := io.ReadAll(out.Body)
				out.Body.Close()
				if !bytes.Equal(got, data[r.off:r.off+int64(len(got))]) {
					t.Fatalf("GET %q: %d bytes served that are not the object's", r.rng, len(got))
				}
				if err == nil {
					t.Fatalf("GET %q: status 2xx and a complete body (%d bytes) over damaged data", r.rng, len(got))
				}
			}
			if got := n.Service.Stats().IntegrityFailures.Load() - before; got != int64(len(ranges)) {
				t.Errorf("IntegrityFailures grew by %d, want %d", got, len(ranges))
			}
			// A range in a clean segment of a big object reads normally.
			if tt.size > 2*seg {
				off := (bad/seg + 2) * seg % int64(tt.size)
				if tt.multipart && tt.d.file == 1 {
					off = 5<<20 + 10 // the clean part
				}
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
					Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+99))})
				if err != nil {
					t.Fatalf("GET of a clean range: %v", err)
				}
				got, err := io.ReadAll(out.Body)
				out.Body.Close()
				if err != nil || !bytes.Equal(got, data[off:off+100]) {
					t.Errorf("GET of a clean range: %v", err)
				}
			}
		})
	}
}

// putCorruptible stores data in one PUT, or as a 5 MiB + rest multipart
// upload, in plaintext or under SSE-S3.
func putCorruptible(t *testing.T, c *s3.Client, bucket, key string, data []byte, encrypted, multipart bool) {
	t.Helper()
	ctx := context.Background()
	var sse types.ServerSideEncryption
	if encrypted {
		sse = types.ServerSideEncryptionAes256
	}
	if !multipart {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: bytes.NewReader(data), ServerSideEncryption: sse})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	u, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), ServerSideEncryption: sse})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, chunk := range [][]byte{data[:5<<20], data[5<<20:]} {
		p, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: u.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(chunk)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: p.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: u.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}
}
