package scalemigrate

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/backup"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgtest"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestBackupScaleOut backs up a serving node on PostgreSQL and an S3
// tier (through the stores, and by the node itself), then an increment over that backup after more writes, restores
// the chain into an embedded data directory and reads every object back
// from a node on it.
func TestBackupScaleOut(t *testing.T) {
	ctx := context.Background()
	tr := newTier(t)
	pg := pgtest.DB(t)
	n := testnode.Start(t, testnode.Options{Meta: pg, InsecureSSEC: true,
		Blobs: tr.cfg.Blobs, BlobsAccessKey: tr.cfg.BlobsAccessKey, BlobsSecretKey: tr.cfg.BlobsSecretKey})
	c := client(n)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	const bucket = "backed-up"
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	must("create bucket", err)
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	must("versioning", err)
	key := newSSEC()
	want := map[string][]byte{}
	put := func(k string, data []byte, in *s3.PutObjectInput) {
		t.Helper()
		in.Bucket, in.Key, in.Body = aws.String(bucket), aws.String(k), bytes.NewReader(data)
		if k == "sse-c" {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), &key.key, &key.md5
		}
		_, err := c.PutObject(ctx, in)
		must("put "+k, err)
		want[k] = data
	}
	put("inline", []byte("small and plain"), &s3.PutObjectInput{})
	put("sse-s3", body(300<<10), &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAes256})
	put("sse-kms", body(100<<10), &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAwsKms})
	put("sse-c", body(100<<10), &s3.PutObjectInput{})
	put("gone", body(50<<10), &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAes256})
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("gone")})
	must("delete", err)
	delete(want, "gone")

	var full bytes.Buffer
	st, err := server.BackupScaleOut(ctx, server.MetaConfig{Meta: pg}, tr.cfg, n.DataDir, &full, nil)
	must("backup", err)
	if st.Blobs != 4 || len(st.Files) == 0 {
		t.Fatalf("full backup: %+v, want the 4 blobs and the sealed files", st)
	}
	// The running node backs itself up the same way (the admin API's
	// backup, which strongroom backup --endpoint asks for).
	var live bytes.Buffer
	lst, err := n.Backup(ctx, &live)
	must("backup by the node", err)
	if chk, err := backup.Check(bytes.NewReader(live.Bytes())); err != nil || lst.Blobs != 4 || chk.Blobs != 4 {
		t.Fatalf("backup by the node: %+v, check %+v, %v", lst, chk, err)
	}
	base, err := backup.ReadBase(bytes.NewReader(full.Bytes()))
	must("read base", err)
	put("later", body(200<<10), &s3.PutObjectInput{ServerSideEncryption: types.ServerSideEncryptionAes256})
	var inc bytes.Buffer
	st, err = server.BackupScaleOut(ctx, server.MetaConfig{Meta: pg}, tr.cfg, n.DataDir, &inc, base)
	must("increment", err)
	if st.Blobs != 1 || st.Skipped != 4 {
		t.Fatalf("increment: %+v, want 1 blob written and 4 left to the base", st)
	}
	if bytes.Contains(full.Bytes(), canary) || bytes.Contains(inc.Bytes(), canary) {
		t.Fatal("a backup holds plaintext of an encrypted object")
	}

	dir := filepath.Join(t.TempDir(), "restored")
	_, err = server.RestoreChain(ctx, []io.Reader{bytes.NewReader(inc.Bytes()), bytes.NewReader(full.Bytes())}, dir)
	must("restore", err)
	rk, err := os.ReadFile(filepath.Join(n.DataDir, "root.key"))
	must("root key", err)
	must("root key", os.WriteFile(filepath.Join(dir, "root.key"), rk, 0o600))
	r := testnode.Start(t, testnode.Options{DataDir: dir, InsecureSSEC: true})
	rc := client(r)
	for k, data := range want {
		in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}
		if k == "sse-c" {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), &key.key, &key.md5
		}
		out, err := rc.GetObject(ctx, in)
		must("get "+k+" from the restored node", err)
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: restored bytes differ", k)
		}
	}
	vs, err := rc.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String("gone")})
	must("list versions", err)
	if len(vs.Versions) != 1 || len(vs.DeleteMarkers) != 1 {
		t.Fatalf("restored versions of gone: %d versions, %d markers; want 1 and 1", len(vs.Versions), len(vs.DeleteMarkers))
	}
}
