package scaleout

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgtest"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// pgClient is an aws-sdk-go-v2 client of node n as its root account.
func pgClient(n *testnode.Node) *s3.Client { return pgUserClient(n, n.AccessKey, n.SecretKey) }

// pgUserClient is an aws-sdk-go-v2 client of node n with an access key,
// built from explicit options (no environment or shared files read).
func pgUserClient(n *testnode.Node, accessKey, secretKey string) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(n.URL),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		HTTPClient:       n.Client,
		RetryMaxAttempts: 1,
	})
}

// pgDB is a fresh database on a private PostgreSQL server, named for the
// test.
func pgDB(t *testing.T) string {
	t.Helper()
	url, err := pgtest.New(t).NewDB(context.Background(), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// TestNodeOnPostgres: a node whose metadata is in PostgreSQL serves the
// S3 API through aws-sdk-go-v2 (SSE-S3 PUT and GET, listing with a
// delimiter, versioning, multipart), keeps nothing of it in a local
// metadata file, and a node restarted on the same database sees it all.
func TestNodeOnPostgres(t *testing.T) {
	ctx := context.Background()
	srv := pgtest.New(t)
	url, err := srv.NewDB(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	n := testnode.Start(t, testnode.Options{Meta: url, DataDir: dir})
	c := pgClient(n)

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	const bucket = "pg-bucket"
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	must("create bucket", err)

	body := make([]byte, 300<<10)
	rand.Read(body)
	for _, k := range []string{"a/1", "a/2", "b", "c/d/e"} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(body),
			ServerSideEncryption: types.ServerSideEncryptionAes256})
		must("put "+k, err)
	}
	get := func(key, version string) []byte {
		t.Helper()
		in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
		if version != "" {
			in.VersionId = aws.String(version)
		}
		out, err := c.GetObject(ctx, in)
		must("get "+key, err)
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		must("read "+key, err)
		return b
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/1")})
	must("head", err)
	if head.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Fatalf("SSE = %q, want AES256", head.ServerSideEncryption)
	}
	if !bytes.Equal(get("a/1", ""), body) {
		t.Fatal("GET returned other bytes than PUT")
	}

	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Delimiter: aws.String("/")})
	must("list", err)
	var keys, prefixes []string
	for _, o := range list.Contents {
		keys = append(keys, *o.Key)
	}
	for _, p := range list.CommonPrefixes {
		prefixes = append(prefixes, *p.Prefix)
	}
	if !slices.Equal(keys, []string{"b"}) || !slices.Equal(prefixes, []string{"a/", "c/"}) {
		t.Fatalf("list = %v %v, want [b] [a/ c/]", keys, prefixes)
	}

	// Versioning: two versions, the older readable by its ID, a delete
	// marker hiding both.
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	must("versioning", err)
	var ids []string
	for _, v := range []string{"one", "two"} {
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("v"), Body: strings.NewReader(v)})
		must("put v", err)
		ids = append(ids, aws.ToString(out.VersionId))
	}
	if string(get("v", ids[0])) != "one" || string(get("v", "")) != "two" {
		t.Fatal("versions read back wrong")
	}
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("v")})
	must("delete", err)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("v")})
	var nsk *types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("GET behind a delete marker: %v, want NoSuchKey", err)
	}
	vers, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String("v")})
	must("list versions", err)
	if len(vers.Versions) != 2 || len(vers.DeleteMarkers) != 1 || !aws.ToBool(vers.DeleteMarkers[0].IsLatest) {
		t.Fatalf("versions %d, markers %d", len(vers.Versions), len(vers.DeleteMarkers))
	}

	// Multipart, SSE-S3: two parts (the first at the 5 MiB minimum).
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp"),
		ServerSideEncryption: types.ServerSideEncryptionAes256})
	must("create upload", err)
	big := make([]byte, 5<<20+1234)
	rand.Read(big)
	var done []types.CompletedPart
	for i, part := range [][]byte{big[:5<<20], big[5<<20:]} {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("mp"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(part)})
		must("upload part", err)
		done = append(done, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	cmp, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("mp"),
		UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	must("complete", err)
	if !strings.HasSuffix(strings.Trim(aws.ToString(cmp.ETag), `"`), "-2") {
		t.Fatalf("multipart ETag %s", aws.ToString(cmp.ETag))
	}
	if !bytes.Equal(get("mp", ""), big) {
		t.Fatal("multipart object read back wrong")
	}

	// The database down: clean 503s (root and a user's key alike), then
	// recovery with nothing lost.
	ak, err := n.IAM.CreateUser(ctx, "alice")
	must("create user", err)
	uc := pgUserClient(n, ak.AccessKey, ak.SecretKey)
	srv.Stop()
	for name, cl := range map[string]*s3.Client{"root": c, "user": uc} {
		_, err = cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("b")})
		var re *awshttp.ResponseError
		var api smithy.APIError
		if !errors.As(err, &re) || re.HTTPStatusCode() != 503 || !errors.As(err, &api) || api.ErrorCode() != "ServiceUnavailable" {
			t.Errorf("%s: GET with the database down: %v, want 503 ServiceUnavailable", name, err)
		}
	}
	must("restart postgres", srv.Restart())
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("b")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the database restarted: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !bytes.Equal(get("b", ""), body) {
		t.Fatal("object read back wrong after the database restarted")
	}

	// Nothing of the metadata is in the data directory.
	if _, err := os.Stat(filepath.Join(dir, "meta.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("meta.db in the data directory: %v", err)
	}
	// Another node on the same database (and data directory: the blobs
	// and keyring are still local) sees everything.
	n.Close(ctx)
	n2 := testnode.Start(t, testnode.Options{Meta: url, DataDir: dir})
	c = pgClient(n2)
	if !bytes.Equal(get("mp", ""), big) || string(get("v", ids[0])) != "one" || !bytes.Equal(get("c/d/e", ""), body) {
		t.Fatal("a restarted node reads other bytes")
	}
}
