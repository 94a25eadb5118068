package e2eclients

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// testRclone drives rclone's s3 backend in each of its encryption options.
func testRclone(t *testing.T, e *env) {
	conf := filepath.Join(t.TempDir(), "rclone.conf")
	// provider Other: a generic S3 server, path-style, no vendor quirks.
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`[sr]
type = s3
provider = Other
access_key_id = %s
secret_access_key = %s
endpoint = %s
region = %s
force_path_style = true
`, e.node.AccessKey, e.node.SecretKey, e.node.URL, region)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	// An SSE-C key as rclone takes it: 32 bytes given as a string.
	ssec := []byte(hex.EncodeToString(randBytes(16)))
	for _, tc := range []struct {
		name  string
		flags []string
		want  sse
	}{
		{"none", nil, sse{}},
		{"sse-s3", []string{"--s3-server-side-encryption", "AES256"}, sse{mode: types.ServerSideEncryptionAes256}},
		{"sse-kms", []string{"--s3-server-side-encryption", "aws:kms", "--s3-sse-kms-key-id", kmsKey},
			sse{mode: types.ServerSideEncryptionAwsKms, kmsKey: kmsKey}},
		{"sse-c", []string{"--s3-sse-customer-algorithm", "AES256", "--s3-sse-customer-key", string(ssec)},
			sse{ssec: ssec}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bucket := "rclone-" + tc.name
			rc := func(args ...string) string {
				t.Helper()
				base := []string{"--config", conf, "--ca-cert", e.caFile, "--retries", "1", "--low-level-retries", "1",
					"--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", "-v"}
				return run(t, "rclone", append(append(base, tc.flags...), args...)...)
			}
			rc("mkdir", "sr:"+bucket)

			// Copy up, then down.
			rc("copy", e.src, "sr:"+bucket+"/up")
			e.checkObjects(t, bucket, "up/", tc.want)
			down := t.TempDir()
			rc("copy", "sr:"+bucket+"/up", down)
			e.checkDownloaded(t, down)

			// Server-side copy (CopyObject; UploadPartCopy above the copy cutoff).
			rc("copy", "--s3-copy-cutoff", "5M", "sr:"+bucket+"/up", "sr:"+bucket+"/copy")
			e.checkObjects(t, bucket, "copy/", tc.want)

			// Sync: the first transfers every file, the second none.
			out := rc("sync", e.src, "sr:"+bucket+"/sync")
			if n := strings.Count(out, "Copied (new)"); n != len(e.files) {
				t.Errorf("the first sync copied %d files, want %d:\n%s", n, len(e.files), out)
			}
			e.checkObjects(t, bucket, "sync/", tc.want)
			before := e.list(t, bucket, "sync/")
			if out := rc("sync", e.src, "sr:"+bucket+"/sync"); strings.Contains(out, "Copied") {
				t.Errorf("the second sync transferred files:\n%s", out)
			}
			if after := e.list(t, bucket, "sync/"); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("the second sync rewrote objects: %v, then %v", before, after)
			}

			// check compares the local files with the objects (sizes and
			// hashes where the ETag or stored metadata gives one).
			rc("check", e.src, "sr:"+bucket+"/sync")

			// ls names every object with its size.
			out = rc("ls", "sr:"+bucket)
			e.checkListed(t, out, "up/")
			e.checkListed(t, out, "copy/")
			if !strings.Contains(out, fmt.Sprintf("%d sync/big.bin", bigSize)) {
				t.Errorf("rclone ls lacks the big file's size:\n%s", out)
			}

			// Delete one file, then everything.
			rc("deletefile", "sr:"+bucket+"/sync/small.txt")
			if got := e.list(t, bucket, "sync/"); len(got) != len(e.files)-1 {
				t.Errorf("after deletefile: %v", got)
			}
			rc("delete", "sr:"+bucket)
			if got := e.list(t, bucket, ""); len(got) != 0 {
				t.Errorf("after rclone delete the bucket still holds %v", got)
			}
			rc("rmdir", "sr:"+bucket)
		})
	}
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
