package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/service"
)

func inventoryInput(src, dst, id string, enc *types.InventoryEncryption, fields ...types.InventoryOptionalField) *s3.PutBucketInventoryConfigurationInput {
	return &s3.PutBucketInventoryConfigurationInput{Bucket: &src, Id: &id, InventoryConfiguration: &types.InventoryConfiguration{
		Id: &id, IsEnabled: aws.Bool(true), IncludedObjectVersions: types.InventoryIncludedObjectVersionsAll,
		Schedule:       &types.InventorySchedule{Frequency: types.InventoryFrequencyDaily},
		OptionalFields: fields,
		Destination: &types.InventoryDestination{S3BucketDestination: &types.InventoryS3BucketDestination{
			Bucket: aws.String("arn:aws:s3:::" + dst), Format: types.InventoryFormatCsv, Prefix: aws.String("reports"), Encryption: enc,
		}},
	}}
}

// TestInventoryThroughTheSDK: inventory configurations set, read, listed
// and deleted with aws-sdk-go-v2, with S3's errors; a delivered report
// matches the bucket version by version, and its files are encrypted per
// the seed: with the inventory's own encryption, else the destination's
// default, else not.
func TestInventoryThroughTheSDK(t *testing.T) {
	e := newEnv(t, mode{name: "inventory", tls: true})
	c := e.root(t)
	ctx := context.Background()
	src, dst, plainDst := bucketName("inv-src"), bucketName("inv-dst"), bucketName("inv-plain")
	for _, b := range []string{src, dst, plainDst} {
		must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}))(t)
	}
	must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &src,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))(t)
	must(c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &dst, ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
		Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms}}},
	}}))(t)
	if _, err := e.node.Keyring.CreateKey(ctx, "inventory-key"); err != nil {
		t.Fatal(err)
	}

	// The source: every encryption mode, two versions of a key, a marker.
	key := bytes.Repeat([]byte{7}, 32)
	keyMD5 := md5.Sum(key)
	puts := []*s3.PutObjectInput{
		{Key: aws.String("plain")},
		{Key: aws.String("sse-s3"), ServerSideEncryption: types.ServerSideEncryptionAes256},
		{Key: aws.String("sse-kms"), ServerSideEncryption: types.ServerSideEncryptionAwsKms},
		{Key: aws.String("sse-c"), SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(b64(key)), SSECustomerKeyMD5: aws.String(b64(keyMD5[:]))},
		{Key: aws.String("plain"), ServerSideEncryption: types.ServerSideEncryptionAes256},
		{Key: aws.String("gone")},
	}
	for _, p := range puts {
		p.Bucket, p.Body = &src, strings.NewReader("body of "+*p.Key)
		must(c.PutObject(ctx, p))(t)
	}
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &src, Key: aws.String("gone")}))(t)

	// Errors first.
	_, err := c.GetBucketInventoryConfiguration(ctx, &s3.GetBucketInventoryConfigurationInput{Bucket: &src, Id: aws.String("none")})
	wantAPIError(t, err, 404, "NoSuchConfiguration")
	_, err = c.DeleteBucketInventoryConfiguration(ctx, &s3.DeleteBucketInventoryConfigurationInput{Bucket: &src, Id: aws.String("none")})
	wantAPIError(t, err, 404, "NoSuchConfiguration")
	_, err = c.PutBucketInventoryConfiguration(ctx, inventoryInput(src, "no-such-bucket", "x", nil))
	wantAPIError(t, err, 400, "InvalidArgument")
	bad := inventoryInput(src, dst, "x", nil, "Colour")
	_, err = c.PutBucketInventoryConfiguration(ctx, bad)
	wantAPIError(t, err, 400, "InvalidArgument")
	bad = inventoryInput(src, dst, "x", nil)
	bad.InventoryConfiguration.Destination.S3BucketDestination.Format = "XLS"
	_, err = c.PutBucketInventoryConfiguration(ctx, bad)
	wantAPIError(t, err, 400, "InvalidArgument")
	_, err = c.PutBucketInventoryConfiguration(ctx, inventoryInput(src, dst, "x", &types.InventoryEncryption{SSEKMS: &types.SSEKMS{KeyId: aws.String("missing-key")}}))
	wantAPIError(t, err, 400, "KMS.NotFoundException")

	fields := []types.InventoryOptionalField{types.InventoryOptionalFieldSize, types.InventoryOptionalFieldETag,
		types.InventoryOptionalFieldEncryptionStatus, "EncryptionAlgorithm", types.InventoryOptionalFieldIsMultipartUploaded}
	cases := []struct {
		id, dst       string
		enc           *types.InventoryEncryption
		wantSSE       types.ServerSideEncryption
		wantKey, mode string
	}{
		{"own-kms", dst, &types.InventoryEncryption{SSEKMS: &types.SSEKMS{KeyId: aws.String("inventory-key")}}, types.ServerSideEncryptionAwsKms, "inventory-key", "kms"},
		{"own-sse-s3", dst, &types.InventoryEncryption{SSES3: &types.SSES3{}}, types.ServerSideEncryptionAes256, "", "managed"},
		{"dst-default", dst, nil, types.ServerSideEncryptionAwsKms, "", "kms"},
		{"plaintext", plainDst, nil, "", "", ""},
	}
	for _, tc := range cases {
		must(c.PutBucketInventoryConfiguration(ctx, inventoryInput(src, tc.dst, tc.id, tc.enc, fields...)))(t)
	}
	got := must(c.GetBucketInventoryConfiguration(ctx, &s3.GetBucketInventoryConfigurationInput{Bucket: &src, Id: aws.String("own-kms")}))(t)
	gc := got.InventoryConfiguration
	if aws.ToString(gc.Id) != "own-kms" || !aws.ToBool(gc.IsEnabled) || gc.IncludedObjectVersions != types.InventoryIncludedObjectVersionsAll ||
		gc.Schedule.Frequency != types.InventoryFrequencyDaily || len(gc.OptionalFields) != len(fields) || gc.OptionalFields[3] != "EncryptionAlgorithm" ||
		aws.ToString(gc.Destination.S3BucketDestination.Bucket) != "arn:aws:s3:::"+dst || aws.ToString(gc.Destination.S3BucketDestination.Prefix) != "reports" ||
		aws.ToString(gc.Destination.S3BucketDestination.Encryption.SSEKMS.KeyId) != "inventory-key" {
		t.Fatalf("read back: %+v", gc)
	}
	got = must(c.GetBucketInventoryConfiguration(ctx, &s3.GetBucketInventoryConfigurationInput{Bucket: &src, Id: aws.String("own-sse-s3")}))(t)
	if got.InventoryConfiguration.Destination.S3BucketDestination.Encryption.SSES3 == nil {
		t.Fatalf("SSE-S3 not read back")
	}

	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			manifestKey, err := e.node.Service.RunInventory(ctx, src, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			get := func(k string) ([]byte, error) {
				o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(tc.dst), Key: aws.String(k)})
				if err != nil {
					return nil, err
				}
				defer o.Body.Close()
				return io.ReadAll(o.Body)
			}
			m, keys, rows, err := e2eutil.InventoryReport(get, manifestKey)
			if err != nil {
				t.Fatal(err)
			}
			if m.SourceBucket != src || m.FileSchema != "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, ETag, EncryptionStatus, EncryptionAlgorithm, IsMultipartUploaded" {
				t.Fatalf("manifest %+v", m)
			}
			checkRowsAgainstVersions(t, c, src, rows)
			// The files' encryption, through the SDK and in the raw record.
			for _, k := range keys {
				h := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(tc.dst), Key: aws.String(k)}))(t)
				if h.ServerSideEncryption != tc.wantSSE || (tc.wantKey != "" && aws.ToString(h.SSEKMSKeyId) != tc.wantKey) {
					t.Errorf("%s: %q %q, want %q %q", k, h.ServerSideEncryption, aws.ToString(h.SSEKMSKeyId), tc.wantSSE, tc.wantKey)
				}
				o, _, err := e.node.Service.HeadObject(ctx, service.Principal{Root: true}, service.GetObjectInput{Bucket: tc.dst, Key: k})
				if err != nil {
					t.Fatal(err)
				}
				mode := ""
				if o.Encryption != nil {
					mode = o.Encryption.Mode
					if len(o.Encryption.WrappedKey) == 0 {
						t.Errorf("%s: no wrapped key in the record", k)
					}
				}
				if mode != tc.mode {
					t.Errorf("%s: stored mode %q, want %q", k, mode, tc.mode)
				}
			}
		})
	}

	// List pages of 100 chained by the continuation token.
	for i := range 100 {
		must(c.PutBucketInventoryConfiguration(ctx, inventoryInput(src, dst, fmt.Sprintf("many-%03d", i), nil)))(t)
	}
	var ids []string
	var token *string
	for {
		l := must(c.ListBucketInventoryConfigurations(ctx, &s3.ListBucketInventoryConfigurationsInput{Bucket: &src, ContinuationToken: token}))(t)
		for _, ic := range l.InventoryConfigurationList {
			ids = append(ids, aws.ToString(ic.Id))
		}
		if !aws.ToBool(l.IsTruncated) {
			break
		}
		token = l.NextContinuationToken
	}
	if len(ids) != 104 || ids[0] != "dst-default" || ids[103] != "plaintext" {
		t.Fatalf("listed %d: %v", len(ids), ids)
	}
	must(c.DeleteBucketInventoryConfiguration(ctx, &s3.DeleteBucketInventoryConfigurationInput{Bucket: &src, Id: aws.String("own-kms")}))(t)
	_, err = c.GetBucketInventoryConfiguration(ctx, &s3.GetBucketInventoryConfigurationInput{Bucket: &src, Id: aws.String("own-kms")})
	wantAPIError(t, err, 404, "NoSuchConfiguration")
}

// checkRowsAgainstVersions compares report rows (Bucket, Key, VersionId,
// IsLatest, IsDeleteMarker, Size, ETag, EncryptionStatus, ...) with the
// bucket's versions as the SDK lists them and heads them.
func checkRowsAgainstVersions(t *testing.T, c *s3.Client, bucket string, rows [][]string) {
	t.Helper()
	ctx := context.Background()
	l := must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &bucket}))(t)
	type version struct{ key, id, latest, marker, size, etag string }
	var want []version
	for _, v := range l.Versions {
		want = append(want, version{aws.ToString(v.Key), aws.ToString(v.VersionId), fmt.Sprint(aws.ToBool(v.IsLatest)), "false",
			fmt.Sprint(aws.ToInt64(v.Size)), strings.Trim(aws.ToString(v.ETag), `"`)})
	}
	for _, d := range l.DeleteMarkers {
		want = append(want, version{aws.ToString(d.Key), aws.ToString(d.VersionId), fmt.Sprint(aws.ToBool(d.IsLatest)), "true", "", ""})
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, the bucket has %d versions", len(rows), len(want))
	}
	byID := map[string][]string{}
	for _, r := range rows {
		if r[0] != bucket {
			t.Fatalf("row %q", r)
		}
		byID[r[2]] = r
	}
	status := map[string]string{"plain": "SSE-S3", "sse-s3": "SSE-S3", "sse-kms": "SSE-KMS", "sse-c": "SSE-C"}
	for _, v := range want {
		r := byID[v.id]
		if r == nil {
			t.Fatalf("version %s of %s not in the report", v.id, v.key)
		}
		k, _ := url.QueryUnescape(r[1])
		if k != v.key || r[3] != v.latest || r[4] != v.marker || r[5] != v.size || r[6] != v.etag {
			t.Errorf("row %q, version %+v", r, v)
		}
		switch {
		case v.marker == "true":
			if r[7] != "" {
				t.Errorf("delete marker row %q", r)
			}
		case v.key == "plain" && v.latest == "false", v.key == "gone":
			if r[7] != "NOT-SSE" || r[8] != "" {
				t.Errorf("plaintext row %q", r)
			}
		default:
			if r[7] != status[v.key] || r[8] != "AES256" {
				t.Errorf("row %q: want %s AES256", r, status[v.key])
			}
		}
	}
}
