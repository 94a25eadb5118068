// Package scalemigrate tests moving an embedded deployment to scale-out
// (strongroom migrate) and backups of a scale-out deployment, on a
// private PostgreSQL and a plain strongroom node as the S3 data tier.
package scalemigrate

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/deploycopy"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgtest"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const tierBucket = "tier"

// canary is in every encrypted object's body: the data tier must never
// hold it.
var canary = []byte("PLAINTEXT-CANARY-3f9c1e")

func client(n *testnode.Node) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(n.URL), UsePathStyle: true, HTTPClient: n.Client,
		Credentials: credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""), RetryMaxAttempts: 1,
	})
}

// body is n bytes of random data with the canary inside.
func body(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	copy(b[n/2:], canary)
	return b
}

// tier is a plain strongroom node holding the data tier's bucket.
type tier struct {
	node *testnode.Node
	cfg  server.BlobsConfig
}

func newTier(t *testing.T) *tier {
	t.Helper()
	n := testnode.Start(t, testnode.Options{})
	if _, err := client(n).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(tierBucket)}); err != nil {
		t.Fatal(err)
	}
	return &tier{node: n, cfg: server.BlobsConfig{
		Blobs:          "s3://" + tierBucket + "?endpoint=" + url.QueryEscape(n.URL),
		BlobsAccessKey: n.AccessKey, BlobsSecretKey: n.SecretKey,
	}}
}

// holds reports whether any file under the tier node's data directory
// contains b.
func (tr *tier) holds(t *testing.T, b []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(tr.node.DataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || found {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && bytes.Contains(data, b) {
			found = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// scaleNode starts a node on PostgreSQL and the tier with the root key,
// root credentials and keyring of the embedded data directory src.
func scaleNode(t *testing.T, src, pg string, tr *tier) *testnode.Node {
	t.Helper()
	dir := t.TempDir()
	// No keyring file: the node must find the keyring migrate put in the
	// database.
	for _, f := range []string{"root.key", "root-credentials.json"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return testnode.Start(t, testnode.Options{DataDir: dir, Meta: pg, InsecureSSEC: true,
		Blobs: tr.cfg.Blobs, BlobsAccessKey: tr.cfg.BlobsAccessKey, BlobsSecretKey: tr.cfg.BlobsSecretKey})
}

type ssec struct{ key, md5 string }

func newSSEC() ssec {
	k := make([]byte, 32)
	rand.Read(k)
	sum := md5.Sum(k)
	return ssec{base64.StdEncoding.EncodeToString(k), base64.StdEncoding.EncodeToString(sum[:])}
}

// written is what the test wrote to one version, to check it back.
type written struct {
	bucket, key, version string
	data                 []byte
	etag                 string
	ssec                 *ssec
}

// TestMigrateToScaleOut fills an embedded node with objects of every kind,
// stops it, migrates it into PostgreSQL and an S3 tier with a run
// interrupted partway and resumed, and reads everything back through a
// node on the scale-out stores.
func TestMigrateToScaleOut(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	src := testnode.Start(t, testnode.Options{InsecureSSEC: true})
	c := client(src)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	var all []written
	put := func(in *s3.PutObjectInput, data []byte, k *ssec) {
		t.Helper()
		in.Body = bytes.NewReader(data)
		if k != nil {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), &k.key, &k.md5
		}
		out, err := c.PutObject(ctx, in)
		must("put "+*in.Key, err)
		all = append(all, written{*in.Bucket, *in.Key, aws.ToString(out.VersionId), data, aws.ToString(out.ETag), k})
	}
	// A plain bucket: objects of every encryption, inline and in blobs.
	const b1 = "plain"
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b1)})
	must("create bucket", err)
	key := newSSEC()
	for _, size := range []int{1 << 10, 200 << 10} {
		sz := string(rune('0' + size>>17)) // "0" inline, "1" blob
		put(&s3.PutObjectInput{Bucket: aws.String(b1), Key: aws.String("plain/" + sz)}, bytes.Repeat([]byte("p"), size), nil)
		put(&s3.PutObjectInput{Bucket: aws.String(b1), Key: aws.String("sse-s3/" + sz), ServerSideEncryption: types.ServerSideEncryptionAes256}, body(size), nil)
		put(&s3.PutObjectInput{Bucket: aws.String(b1), Key: aws.String("sse-kms/" + sz), ServerSideEncryption: types.ServerSideEncryptionAwsKms}, body(size), nil)
		put(&s3.PutObjectInput{Bucket: aws.String(b1), Key: aws.String("sse-c/" + sz)}, body(size), &key)
	}
	put(&s3.PutObjectInput{Bucket: aws.String(b1), Key: aws.String("tagged"), Tagging: aws.String("a=1&b=2"), ServerSideEncryption: types.ServerSideEncryptionAes256}, body(3000), nil)
	// A multipart SSE-S3 object (one part: a part below 5 MiB may only
	// be the last).
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b1), Key: aws.String("multipart"), ServerSideEncryption: types.ServerSideEncryptionAes256})
	must("create upload", err)
	p1 := body(150 << 10)
	var parts []types.CompletedPart
	for i, p := range [][]byte{p1} {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b1), Key: aws.String("multipart"), UploadId: mp.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		must("upload part", err)
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b1), Key: aws.String("multipart"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	must("complete", err)
	all = append(all, written{b1, "multipart", "", p1, aws.ToString(done.ETag), nil})
	// An upload left in progress, with one part.
	open, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b1), Key: aws.String("in-progress"), ServerSideEncryption: types.ServerSideEncryptionAes256})
	must("create upload", err)
	openPart := body(100 << 10)
	openETag, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(b1), Key: aws.String("in-progress"), UploadId: open.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(openPart)})
	must("upload part", err)

	// A bucket with object lock (versioned): versions, a retention, and
	// a delete marker.
	const b2 = "locked"
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b2), ObjectLockEnabledForBucket: aws.Bool(true)})
	must("create locked bucket", err)
	for i := range 3 {
		put(&s3.PutObjectInput{Bucket: aws.String(b2), Key: aws.String("v"), ServerSideEncryption: types.ServerSideEncryptionAes256}, body(100<<10+i), nil)
	}
	until := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	put(&s3.PutObjectInput{Bucket: aws.String(b2), Key: aws.String("kept"), ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: &until,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}, body(2000), &key)
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b2), Key: aws.String("v")})
	must("delete (marker)", err)

	// A bucket versioned, then suspended: versions and a null version.
	const b3 = "suspended"
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b3)})
	must("create bucket", err)
	put(&s3.PutObjectInput{Bucket: aws.String(b3), Key: aws.String("k")}, []byte("null before versioning"), nil)
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b3), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	must("versioning", err)
	put(&s3.PutObjectInput{Bucket: aws.String(b3), Key: aws.String("k"), ServerSideEncryption: types.ServerSideEncryptionAes256}, body(50<<10), nil)
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b3), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
	must("suspend", err)
	put(&s3.PutObjectInput{Bucket: aws.String(b3), Key: aws.String("k")}, []byte("null while suspended"), nil)
	for i := range 8 {
		put(&s3.PutObjectInput{Bucket: aws.String(b3), Key: aws.String("many/" + string(rune('a'+i)))}, []byte("small"), nil)
	}
	versions := func(c *s3.Client, bucket string) []string {
		t.Helper()
		out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
		must("list versions", err)
		var vs []string
		for _, v := range out.Versions {
			vs = append(vs, *v.Key+" "+aws.ToString(v.VersionId)+" "+aws.ToString(v.ETag)+" "+boolStr(aws.ToBool(v.IsLatest)))
		}
		for _, m := range out.DeleteMarkers {
			vs = append(vs, *m.Key+" "+aws.ToString(m.VersionId)+" marker "+boolStr(aws.ToBool(m.IsLatest)))
		}
		slices.Sort(vs)
		return vs
	}
	wantVersions := map[string][]string{}
	for _, b := range []string{b1, b2, b3} {
		wantVersions[b] = versions(c, b)
	}

	t.Logf("%v: source filled", time.Since(start))
	tr := newTier(t)
	pg := pgtest.DB(t)
	t.Logf("%v: tier and database", time.Since(start))
	to := server.MetaConfig{Meta: pg}

	// Refused while the node serves the data directory.
	if _, err := server.MigrateToScaleOut(ctx, src.DataDir, to, tr.cfg, deploycopy.Options{}); err == nil || !strings.Contains(err.Error(), "stop the server first") {
		t.Fatalf("migrating a served data directory: %v, want a refusal", err)
	}
	src.Close(ctx)

	// Refused into a non-empty target.
	busy := pgtest.DB(t)
	ps, err := postgres.Open(ctx, busy)
	must("open", err)
	must("create", ps.CreateBucket(ctx, &meta.Bucket{Name: "someone-elses", Created: time.Now()}))
	ps.Close()
	if _, err := server.MigrateToScaleOut(ctx, src.DataDir, server.MetaConfig{Meta: busy}, tr.cfg, deploycopy.Options{}); !errors.Is(err, deploycopy.ErrTargetNotEmpty) {
		t.Fatalf("migrating into a non-empty target: %v, want ErrTargetNotEmpty", err)
	}

	// A run interrupted after a few versions, then resumed.
	cctx, cancel := context.WithCancel(ctx)
	st, err := server.MigrateToScaleOut(cctx, src.DataDir, to, tr.cfg, deploycopy.Options{Checkpoint: 1, Progress: func(st deploycopy.Stats) {
		if st.Versions >= 6 {
			cancel()
		}
	}})
	cancel()
	if !errors.Is(err, context.Canceled) || st == nil || st.Versions < 6 {
		t.Fatalf("interrupted run: %+v, %v", st, err)
	}
	first, firstMarkers := st.Versions, st.DeleteMarkers
	st, err = server.MigrateToScaleOut(ctx, src.DataDir, to, tr.cfg, deploycopy.Options{})
	must("resumed migration", err)
	if !st.Resumed || st.Versions+st.Skipped+first < int64(len(all)) || st.Uploads != 1 || st.Parts != 1 || st.DeleteMarkers+firstMarkers != 1 || !st.Keyring {
		t.Fatalf("resumed run: %+v (first run copied %d)", st, first)
	}
	t.Logf("first run %d versions; resumed: %+v", first, *st)
	if _, err := server.MigrateToScaleOut(ctx, src.DataDir, to, tr.cfg, deploycopy.Options{}); !errors.Is(err, deploycopy.ErrAlreadyCopied) {
		t.Fatalf("a third run: %v, want ErrAlreadyCopied", err)
	}
	if tr.holds(t, canary) {
		t.Fatal("the data tier holds plaintext of an encrypted object")
	}
	// The keyring is the nodes' shared one.
	ps, err = postgres.Open(ctx, pg)
	must("open", err)
	kr, err := ps.GetBlob(ctx, deploycopy.KeyringName)
	ps.Close()
	must("shared keyring", err)
	if file, _ := os.ReadFile(filepath.Join(src.DataDir, "keyring")); !bytes.Equal(kr, file) {
		t.Fatal("the shared keyring differs from the data directory's")
	}

	t.Logf("%v: migrated", time.Since(start))
	// Everything reads back through a node on the scale-out stores.
	n := scaleNode(t, src.DataDir, pg, tr)
	c = client(n)
	for _, w := range all {
		in := &s3.GetObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(w.key)}
		if w.version != "" {
			in.VersionId = aws.String(w.version)
		}
		if w.ssec != nil {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), &w.ssec.key, &w.ssec.md5
		}
		if w.bucket == b3 && w.key == "k" && w.version == "" {
			in.VersionId = aws.String("null")
			if string(w.data) == "null before versioning" {
				continue // replaced by the null version written while suspended
			}
		}
		out, err := c.GetObject(ctx, in)
		must("get "+w.bucket+"/"+w.key+"@"+w.version, err)
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		must("read "+w.key, err)
		if !bytes.Equal(got, w.data) || aws.ToString(out.ETag) != w.etag {
			t.Fatalf("%s/%s@%s: %d bytes, ETag %s; want %d bytes, ETag %s", w.bucket, w.key, w.version, len(got), aws.ToString(out.ETag), len(w.data), w.etag)
		}
	}
	for _, b := range []string{b1, b2, b3} {
		if got := versions(c, b); !slices.Equal(got, wantVersions[b]) {
			t.Fatalf("bucket %s versions:\n%q\nwant\n%q", b, got, wantVersions[b])
		}
	}
	vs, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b3)})
	must("get versioning", err)
	if vs.Status != types.BucketVersioningStatusSuspended {
		t.Fatalf("bucket %s versioning %q, want Suspended", b3, vs.Status)
	}
	tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(b1), Key: aws.String("tagged")})
	must("tags", err)
	if len(tags.TagSet) != 2 {
		t.Fatalf("tags %v", tags.TagSet)
	}
	ret, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(b2), Key: aws.String("kept")})
	must("retention", err)
	if ret.Retention.Mode != types.ObjectLockRetentionModeGovernance || !ret.Retention.RetainUntilDate.Equal(until) {
		t.Fatalf("retention %+v", ret.Retention)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b2), Key: aws.String("kept"), VersionId: aws.String(versionOf(all, b2, "kept"))}); err == nil {
		t.Fatal("a version under retention was deleted after the migration")
	}
	t.Logf("%v: read back", time.Since(start))
	// The upload in progress completes on the new node.
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(b1), Key: aws.String("in-progress"), UploadId: open.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: openETag.ETag, PartNumber: aws.Int32(1)}}}})
	must("complete the migrated upload", err)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b1), Key: aws.String("in-progress")})
	must("get the completed upload", err)
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, openPart) {
		t.Fatal("the migrated upload's part reads back wrong")
	}
	// New writes work, SSE-KMS under the migrated keyring included.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b1), Key: aws.String("after"), Body: bytes.NewReader(body(100 << 10)), ServerSideEncryption: types.ServerSideEncryptionAwsKms})
	must("put after the migration", err)
	if tr.holds(t, canary) {
		t.Fatal("the data tier holds plaintext of an encrypted object")
	}
}

func versionOf(all []written, bucket, key string) string {
	for _, w := range all {
		if w.bucket == bucket && w.key == key {
			return w.version
		}
	}
	return ""
}

func boolStr(b bool) string {
	if b {
		return "latest"
	}
	return "noncurrent"
}
