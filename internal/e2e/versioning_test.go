package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/minio/minio-go/v7"
)

// TestS3Versioning drives bucket versioning through aws-sdk-go-v2 and
// minio-go: every object operation with versionId, delete markers, null
// versions, ListObjectVersions paging, and the errors S3 answers.
func TestS3Versioning(t *testing.T) {
	t.Parallel()
	suite := []struct {
		name string
		fn   func(t *testing.T, e *env, c *s3.Client)
	}{
		{"NeverVersioned", verNeverVersioned},
		{"Enabled", verEnabled},
		{"DeleteMarkers", verDeleteMarkers},
		{"Errors", verErrors},
		{"ListPaging", verListPaging},
		{"Suspended", verSuspended},
		{"CopyAndParts", verCopyAndParts},
		{"DeleteObjects", verDeleteObjects},
		{"ACL", verACL},
		{"SSECPerVersion", verSSEC},
		{"LinkedCopySurvives", verLinkedCopy},
		{"Minio", verMinio},
	}
	for _, m := range []mode{{name: "http"}, {name: "vhost", vhost: true}} {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, m)
			c := e.root(t)
			for _, tc := range suite {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.fn(t, e, c)
				})
			}
		})
	}
}

var bg = context.Background()

func verBucket(t *testing.T, c *s3.Client, status types.BucketVersioningStatus) string {
	t.Helper()
	b := bucketName("ver")
	must(c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: &b}))(t)
	if status != "" {
		must(c.PutBucketVersioning(bg, &s3.PutBucketVersioningInput{Bucket: &b,
			VersioningConfiguration: &types.VersioningConfiguration{Status: status}}))(t)
	}
	return b
}

func verPut(t *testing.T, c *s3.Client, b, key, body string) *s3.PutObjectOutput {
	t.Helper()
	return must(c.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: &key, Body: strings.NewReader(body)}))(t)
}

func verGet(t *testing.T, c *s3.Client, b, key, version string) (string, *s3.GetObjectOutput) {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: &b, Key: &key}
	if version != "" {
		in.VersionId = &version
	}
	out := must(c.GetObject(bg, in))(t)
	return string(readAll(t, out.Body)), out
}

// verList renders ListObjectVersions as "key@body-or-DM[*]" in order.
type listedVersion struct {
	Key, VersionID string
	Marker, Latest bool
	ETag           string
}

func verList(t *testing.T, c *s3.Client, in *s3.ListObjectVersionsInput) (out []listedVersion, page *s3.ListObjectVersionsOutput) {
	t.Helper()
	page = must(c.ListObjectVersions(bg, in))(t)
	// The SDK splits versions and markers; the wire order interleaves
	// them by key, newest first, which is re-established here.
	for _, v := range page.Versions {
		out = append(out, listedVersion{Key: *v.Key, VersionID: *v.VersionId, Latest: *v.IsLatest, ETag: aws.ToString(v.ETag)})
	}
	for _, m := range page.DeleteMarkers {
		out = append(out, listedVersion{Key: *m.Key, VersionID: *m.VersionId, Latest: *m.IsLatest, Marker: true})
	}
	return out, page
}

func rawHeader(err error, name string) string {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

func verNeverVersioned(t *testing.T, e *env, c *s3.Client) {
	b := verBucket(t, c, "")
	st := must(c.GetBucketVersioning(bg, &s3.GetBucketVersioningInput{Bucket: &b}))(t)
	if st.Status != "" {
		t.Fatalf("status of a new bucket = %q", st.Status)
	}
	p := verPut(t, c, b, "a", "one")
	if p.VersionId != nil {
		t.Fatalf("unversioned PUT returned version %q", *p.VersionId)
	}
	verPut(t, c, b, "a", "two")
	verPut(t, c, b, "b", "three")
	got, _ := verList(t, c, &s3.ListObjectVersionsInput{Bucket: &b})
	want := []listedVersion{{Key: "a", VersionID: "null", Latest: true, ETag: quoted(md5hex([]byte("two")))}, {Key: "b", VersionID: "null", Latest: true, ETag: quoted(md5hex([]byte("three")))}}
	if !slices.Equal(got, want) {
		t.Fatalf("versions = %+v, want %+v", got, want)
	}
	// The null version is addressable by "null".
	if body, _ := verGet(t, c, b, "a", "null"); body != "two" {
		t.Fatalf("GET ?versionId=null = %q", body)
	}
	// Deleting removes the object for good: nothing left to list.
	d := must(c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("a")}))(t)
	if d.DeleteMarker != nil && *d.DeleteMarker {
		t.Fatal("unversioned delete made a marker")
	}
	if got, _ := verList(t, c, &s3.ListObjectVersionsInput{Bucket: &b}); len(got) != 1 {
		t.Fatalf("after delete: %+v", got)
	}
}

func verEnabled(t *testing.T, e *env, c *s3.Client) {
	b := verBucket(t, c, types.BucketVersioningStatusEnabled)
	st := must(c.GetBucketVersioning(bg, &s3.GetBucketVersioningInput{Bucket: &b}))(t)
	if st.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("status = %q", st.Status)
	}
	v1 := aws.ToString(verPut(t, c, b, "k", "first").VersionId)
	v2 := aws.ToString(verPut(t, c, b, "k", "second").VersionId)
	if v1 == "" || v2 == "" || v1 == v2 || v1 == "null" {
		t.Fatalf("version IDs %q, %q", v1, v2)
	}
	body, out := verGet(t, c, b, "k", "")
	if body != "second" || aws.ToString(out.VersionId) != v2 {
		t.Fatalf("current = %q (%s)", body, aws.ToString(out.VersionId))
	}
	body, out = verGet(t, c, b, "k", v1)
	if body != "first" || aws.ToString(out.VersionId) != v1 {
		t.Fatalf("v1 = %q (%s)", body, aws.ToString(out.VersionId))
	}
	h := must(c.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &v1}))(t)
	if aws.ToString(h.VersionId) != v1 || aws.ToInt64(h.ContentLength) != 5 {
		t.Fatalf("HEAD v1 = %s %d", aws.ToString(h.VersionId), aws.ToInt64(h.ContentLength))
	}
	// Range reads of an old version.
	r := must(c.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &v1, Range: aws.String("bytes=1-2")}))(t)
	if got := string(readAll(t, r.Body)); got != "ir" {
		t.Fatalf("range of v1 = %q", got)
	}
	// Removing the current version for good makes the previous current.
	d := must(c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &v2}))(t)
	if aws.ToString(d.VersionId) != v2 || aws.ToBool(d.DeleteMarker) {
		t.Fatalf("delete v2 = %s marker %v", aws.ToString(d.VersionId), aws.ToBool(d.DeleteMarker))
	}
	if body, _ := verGet(t, c, b, "k", ""); body != "first" {
		t.Fatalf("after removing v2, current = %q", body)
	}
	_, err := c.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &v2})
	wantAPIError(t, err, 404, "NoSuchVersion")
	// Multipart completion returns the new version.
	up := must(c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("k")}))(t)
	part := must(c.UploadPart(bg, &s3.UploadPartInput{Bucket: &b, Key: aws.String("k"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("mp")}))(t)
	done := must(c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("k"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}))(t)
	if v := aws.ToString(done.VersionId); v == "" || v == v1 {
		t.Fatalf("complete version = %q", v)
	}
	if got, _ := verList(t, c, &s3.ListObjectVersionsInput{Bucket: &b}); len(got) != 2 || !got[0].Latest || got[0].VersionID != aws.ToString(done.VersionId) || got[1].VersionID != v1 {
		t.Fatalf("versions = %+v", got)
	}
	// A bucket holding only noncurrent versions is not empty.
	wantAPIError(t, deleteAllCurrent(c, b), 409, "BucketNotEmpty")
}

// deleteAllCurrent deletes every current key, then tries the bucket.
func deleteAllCurrent(c *s3.Client, b string) error {
	l, err := c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: &b})
	if err != nil {
		return err
	}
	for _, o := range l.Contents {
		if _, err := c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: o.Key}); err != nil {
			return err
		}
	}
	_, err = c.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: &b})
	return err
}

func verDeleteMarkers(t *testing.T, e *env, c *s3.Client) {
	b := verBucket(t, c, types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(verPut(t, c, b, "k", "data").VersionId)
	d := must(c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k")}))(t)
	dm := aws.ToString(d.VersionId)
	if !aws.ToBool(d.DeleteMarker) || dm == "" || dm == v1 {
		t.Fatalf("delete = marker %v version %q", aws.ToBool(d.DeleteMarker), dm)
	}
	// GET/HEAD of the key: 404 NoSuchKey, flagged as a delete marker.
	_, err := c.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("k")})
	wantAPIError(t, err, 404, "NoSuchKey")
	if rawHeader(err, "x-amz-delete-marker") != "true" || rawHeader(err, "x-amz-version-id") != dm {
		t.Errorf("GET behind a marker: delete-marker %q version %q", rawHeader(err, "x-amz-delete-marker"), rawHeader(err, "x-amz-version-id"))
	}
	_, err = c.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("k")})
	wantAPIError(t, err, 404, "NotFound")
	if rawHeader(err, "x-amz-delete-marker") != "true" {
		t.Error("HEAD behind a marker lacks x-amz-delete-marker")
	}
	// GET/HEAD naming the marker: 405 with Last-Modified.
	_, err = c.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &dm})
	wantAPIError(t, err, 405, "MethodNotAllowed")
	if rawHeader(err, "x-amz-delete-marker") != "true" || rawHeader(err, "Last-Modified") == "" {
		t.Errorf("GET of a marker: delete-marker %q Last-Modified %q", rawHeader(err, "x-amz-delete-marker"), rawHeader(err, "Last-Modified"))
	}
	_, err = c.HeadObject(bg, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &dm})
	wantAPIError(t, err, 405, "MethodNotAllowed")
	// ListObjects skips the key; ListObjectVersions shows the marker.
	if l := must(c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: &b}))(t); len(l.Contents) != 0 {
		t.Fatalf("ListObjectsV2 lists %d objects behind a marker", len(l.Contents))
	}
	got, _ := verList(t, c, &s3.ListObjectVersionsInput{Bucket: &b})
	want := []listedVersion{{Key: "k", VersionID: v1, ETag: quoted(md5hex([]byte("data")))}, {Key: "k", VersionID: dm, Latest: true, Marker: true}}
	if !slices.Equal(got, want) {
		t.Fatalf("versions = %+v, want %+v", got, want)
	}
	// Old versions stay readable; removing the marker restores the key.
	if body, _ := verGet(t, c, b, "k", v1); body != "data" {
		t.Fatalf("v1 behind a marker = %q", body)
	}
	d = must(c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &dm}))(t)
	if !aws.ToBool(d.DeleteMarker) || aws.ToString(d.VersionId) != dm {
		t.Fatalf("removing the marker = %v %q", aws.ToBool(d.DeleteMarker), aws.ToString(d.VersionId))
	}
	if body, _ := verGet(t, c, b, "k", ""); body != "data" {
		t.Fatalf("restored = %q", body)
	}
	// Only when every version is gone may the bucket go.
	must(c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k")}))(t)
	_, err = c.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: &b})
	wantAPIError(t, err, 409, "BucketNotEmpty")
	got, _ = verList(t, c, &s3.ListObjectVersionsInput{Bucket: &b})
	for _, v := range got {
		must(c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: &v.Key, VersionId: &v.VersionID}))(t)
	}
	must(c.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: &b}))(t)
}

func verErrors(t *testing.T, e *env, c *s3.Client) {
	b := verBucket(t, c, types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(verPut(t, c, b, "k", "x").VersionId)
	_, err := c.PutBucketVersioning(bg, &s3.PutBucketVersioningInput{Bucket: &b,
		VersioningConfiguration: &types.VersioningConfiguration{Status: "Disabled"}})
	wantAPIError(t, err, 400, "MalformedXML")
	if st := must(c.GetBucketVersioning(bg, &s3.GetBucketVersioningInput{Bucket: &b}))(t); st.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("status after a refused change = %q", st.Status)
	}
	for _, tc := range []struct {
		key, version string
		status       int
		code         string
	}{
		{"k", "not-a-version-id", 400, "InvalidArgument"},
		{"k", "null", 404, "NoSuchVersion"},
		{"other", v1, 404, "NoSuchVersion"},
	} {
		_, err := c.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: &tc.key, VersionId: &tc.version})
		wantAPIError(t, err, tc.status, tc.code)
	}
	_, err = c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: aws.String("bogus!")})
	wantAPIError(t, err, 400, "InvalidArgument")
	_, err = c.ListObjectVersions(bg, &s3.ListObjectVersionsInput{Bucket: &b, VersionIdMarker: &v1})
	wantAPIError(t, err, 400, "InvalidArgument")
	_, err = c.ListObjectVersions(bg, &s3.ListObjectVersionsInput{Bucket: aws.String("no-such-bucket-ver")})
	wantAPIError(t, err, 404, "NoSuchBucket")
	// Another user may not read versions or list them without a grant.
	ak, sk := e.user(t, "ver-other-"+b)
	other := e.s3Client(t, ak, sk)
	_, err = other.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &v1})
	wantAPIError(t, err, 403, "AccessDenied")
	_, err = other.ListObjectVersions(bg, &s3.ListObjectVersionsInput{Bucket: &b})
	wantAPIError(t, err, 403, "AccessDenied")
	_, err = other.PutBucketVersioning(bg, &s3.PutBucketVersioningInput{Bucket: &b,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
	wantAPIError(t, err, 403, "AccessDenied")
	_, err = other.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &v1})
	wantAPIError(t, err, 403, "AccessDenied")
}

func verListPaging(t *testing.T, e *env, c *s3.Client) {
	b := verBucket(t, c, "")
	verPut(t, c, b, "dir/a", "legacy") // a null version from before versioning
	must(c.PutBucketVersioning(bg, &s3.PutBucketVersioningInput{Bucket: &b,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))(t)
	keys := []string{"dir/a", "dir/b", "dir/sub/c", "top", "sp ace+%"}
	for round := 0; round < 3; round++ {
		for i, k := range keys {
			if (i+round)%3 == 2 {
				must(c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: &k}))(t)
				continue
			}
			verPut(t, c, b, k, k+"-"+string(rune('0'+round)))
		}
	}
	// The full listing, read in one page through the raw wire so the
	// interleaving of versions and markers is visible.
	full := rawVersions(t, e, b, "")
	if len(full) != 1+3*len(keys) {
		t.Fatalf("%d versions listed, want %d: %v", len(full), 1+3*len(keys), full)
	}
	for _, mk := range []int32{1, 2, 5} {
		var got []string
		in := &s3.ListObjectVersionsInput{Bucket: &b, MaxKeys: aws.Int32(mk)}
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("paging does not end")
			}
			out := rawVersionsPage(t, e, b, in)
			got = append(got, out.entries...)
			if !out.truncated {
				break
			}
			in.KeyMarker, in.VersionIdMarker = &out.nextKey, &out.nextVersion
		}
		if !slices.Equal(got, full) {
			t.Fatalf("pages of %d:\n got %v\nwant %v", mk, got, full)
		}
	}
	// Delimiter roll-up, and the SDK's own decoding of the page.
	_, page := verList(t, c, &s3.ListObjectVersionsInput{Bucket: &b, Prefix: aws.String("dir/"), Delimiter: aws.String("/")})
	if len(page.CommonPrefixes) != 1 || aws.ToString(page.CommonPrefixes[0].Prefix) != "dir/sub/" {
		t.Fatalf("common prefixes = %+v", page.CommonPrefixes)
	}
	for _, v := range page.Versions {
		if !strings.HasPrefix(*v.Key, "dir/") || strings.HasPrefix(*v.Key, "dir/sub/") {
			t.Fatalf("listed %q", *v.Key)
		}
	}
	// encoding-type=url encodes keys and markers.
	r := signedRequest(t, e.node.URL, e.node.AccessKey, e.node.SecretKey, http.MethodGet, "/"+b, "encoding-type=url&prefix=sp&versions=", nil, nil, "")
	_, body := do(t, e.http, r)
	if !bytes.Contains(body, []byte("<Key>sp%20ace%2B%25</Key>")) || !bytes.Contains(body, []byte("<EncodingType>url</EncodingType>")) {
		t.Fatalf("encoding-type=url listing: %s", body)
	}
}

type versionsPage struct {
	entries              []string
	truncated            bool
	nextKey, nextVersion string
}

// rawVersions lists a bucket's versions in wire order, "key@id[*|DM]".
func rawVersions(t *testing.T, e *env, b, prefix string) []string {
	return rawVersionsPage(t, e, b, &s3.ListObjectVersionsInput{Bucket: &b, Prefix: &prefix}).entries
}

func rawVersionsPage(t *testing.T, e *env, b string, in *s3.ListObjectVersionsInput) versionsPage {
	t.Helper()
	q := url.Values{"versions": {""}}
	if in.Prefix != nil {
		q.Set("prefix", *in.Prefix)
	}
	if in.MaxKeys != nil {
		q.Set("max-keys", strconv.Itoa(int(*in.MaxKeys)))
	}
	if in.KeyMarker != nil {
		q.Set("key-marker", *in.KeyMarker)
	}
	if in.VersionIdMarker != nil {
		q.Set("version-id-marker", *in.VersionIdMarker)
	}
	base := e.node.URL
	r := signedRequest(t, base, e.node.AccessKey, e.node.SecretKey, http.MethodGet, "/"+b, strings.ReplaceAll(q.Encode(), "+", "%20"), nil, nil, "")
	resp, body := do(t, e.http, r)
	if resp.StatusCode != 200 {
		t.Fatalf("list versions: %d %s", resp.StatusCode, body)
	}
	var doc struct {
		IsTruncated         bool
		NextKeyMarker       string
		NextVersionIdMarker string
		Entries             []struct {
			XMLName   xml.Name
			Key       string
			VersionId string
			IsLatest  bool
		} `xml:",any"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	p := versionsPage{truncated: doc.IsTruncated, nextKey: doc.NextKeyMarker, nextVersion: doc.NextVersionIdMarker}
	for _, en := range doc.Entries {
		var s string
		switch en.XMLName.Local {
		case "Version":
			s = en.Key + "@" + en.VersionId
		case "DeleteMarker":
			s = en.Key + "@" + en.VersionId + "DM"
		default:
			continue
		}
		if en.IsLatest {
			s += "*"
		}
		p.entries = append(p.entries, s)
	}
	return p
}

func verSuspended(t *testing.T, e *env, c *s3.Client) {
	b := verBucket(t, c, types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(verPut(t, c, b, "k", "kept").VersionId)
	must(c.PutBucketVersioning(bg, &s3.PutBucketVersioningInput{Bucket: &b,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}}))(t)
	if st := must(c.GetBucketVersioning(bg, &s3.GetBucketVersioningInput{Bucket: &b}))(t); st.Status != types.BucketVersioningStatusSuspended {
		t.Fatalf("status = %q", st.Status)
	}
	if v := aws.ToString(verPut(t, c, b, "k", "null-1").VersionId); v != "null" {
		t.Fatalf("suspended PUT version = %q", v)
	}
	verPut(t, c, b, "k", "null-2") // overwrites the null version
	got := rawVersions(t, e, b, "")
	if want := []string{"k@null*", "k@" + v1}; !slices.Equal(got, want) {
		t.Fatalf("versions = %v, want %v", got, want)
	}
	if body, out := verGet(t, c, b, "k", ""); body != "null-2" || aws.ToString(out.VersionId) != "null" {
		t.Fatalf("current = %q %q", body, aws.ToString(out.VersionId))
	}
	d := must(c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k")}))(t)
	if !aws.ToBool(d.DeleteMarker) || aws.ToString(d.VersionId) != "null" {
		t.Fatalf("suspended delete = %v %q", aws.ToBool(d.DeleteMarker), aws.ToString(d.VersionId))
	}
	if got := rawVersions(t, e, b, ""); !slices.Equal(got, []string{"k@nullDM*", "k@" + v1}) {
		t.Fatalf("after delete = %v", got)
	}
	if body, _ := verGet(t, c, b, "k", v1); body != "kept" {
		t.Fatalf("v1 = %q", body)
	}
	// Suspended is not unversioned: re-enabling keeps the null version.
	must(c.PutBucketVersioning(bg, &s3.PutBucketVersioningInput{Bucket: &b,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))(t)
	v3 := aws.ToString(verPut(t, c, b, "k", "three").VersionId)
	if got := rawVersions(t, e, b, ""); !slices.Equal(got, []string{"k@" + v3 + "*", "k@nullDM", "k@" + v1}) {
		t.Fatalf("re-enabled = %v", got)
	}
}

func verCopyAndParts(t *testing.T, e *env, c *s3.Client) {
	b := verBucket(t, c, types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(verPut(t, c, b, "src", "old-data").VersionId)
	verPut(t, c, b, "src", "new-data")
	cp := must(c.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("dst"), CopySource: aws.String(b + "/src?versionId=" + v1)}))(t)
	if aws.ToString(cp.CopySourceVersionId) != v1 || aws.ToString(cp.VersionId) == "" {
		t.Fatalf("copy versions: source %q new %q", aws.ToString(cp.CopySourceVersionId), aws.ToString(cp.VersionId))
	}
	if body, _ := verGet(t, c, b, "dst", ""); body != "old-data" {
		t.Fatalf("copy of v1 = %q", body)
	}
	// Restoring an old version onto its own key is allowed.
	must(c.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("src"), CopySource: aws.String(b + "/src?versionId=" + v1)}))(t)
	if body, _ := verGet(t, c, b, "src", ""); body != "old-data" {
		t.Fatalf("restored = %q", body)
	}
	// A copy source may not name a delete marker.
	dm := aws.ToString(must(c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("src")}))(t).VersionId)
	_, err := c.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("x"), CopySource: aws.String(b + "/src?versionId=" + dm)})
	wantAPIError(t, err, 400, "InvalidRequest")
	_, err = c.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("x"), CopySource: aws.String(b + "/src")})
	wantAPIError(t, err, 404, "NoSuchKey")
	_, err = c.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("x"), CopySource: aws.String(b + "/src?versionId=zzz")})
	wantAPIError(t, err, 400, "InvalidArgument")
	// UploadPartCopy from an old version.
	up := must(c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp")}))(t)
	pc := must(c.UploadPartCopy(bg, &s3.UploadPartCopyInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1),
		CopySource: aws.String(b + "/src?versionId=" + v1), CopySourceRange: aws.String("bytes=0-2")}))(t)
	if aws.ToString(pc.CopySourceVersionId) != v1 {
		t.Fatalf("part copy source version = %q", aws.ToString(pc.CopySourceVersionId))
	}
	must(c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: pc.CopyPartResult.ETag}}}}))(t)
	if body, _ := verGet(t, c, b, "mp", ""); body != "old" {
		t.Fatalf("part copy = %q", body)
	}
}

func verDeleteObjects(t *testing.T, e *env, c *s3.Client) {
	b := verBucket(t, c, types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(verPut(t, c, b, "a", "1").VersionId)
	verPut(t, c, b, "a", "2")
	verPut(t, c, b, "b", "3")
	out := must(c.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: &b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("a"), VersionId: &v1},
		{Key: aws.String("b")},
		{Key: aws.String("a"), VersionId: aws.String("bad id")},
	}}}))(t)
	if len(out.Deleted) != 2 || len(out.Errors) != 1 {
		t.Fatalf("deleted %d, errors %d", len(out.Deleted), len(out.Errors))
	}
	for _, d := range out.Deleted {
		switch aws.ToString(d.Key) {
		case "a":
			if aws.ToString(d.VersionId) != v1 || aws.ToBool(d.DeleteMarker) {
				t.Errorf("a: %+v", d)
			}
		case "b":
			if !aws.ToBool(d.DeleteMarker) || aws.ToString(d.DeleteMarkerVersionId) == "" {
				t.Errorf("b: marker %v id %q", aws.ToBool(d.DeleteMarker), aws.ToString(d.DeleteMarkerVersionId))
			}
		}
	}
	if er := out.Errors[0]; aws.ToString(er.Code) != "InvalidArgument" || aws.ToString(er.VersionId) != "bad id" {
		t.Errorf("error entry %+v", er)
	}
	if got := rawVersions(t, e, b, ""); len(got) != 3 || !strings.HasSuffix(got[1], "DM*") {
		t.Fatalf("versions = %v", got)
	}
}

func verACL(t *testing.T, e *env, c *s3.Client) {
	b := verBucket(t, c, types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(verPut(t, c, b, "k", "1").VersionId)
	verPut(t, c, b, "k", "2")
	must(c.PutObjectAcl(bg, &s3.PutObjectAclInput{Bucket: &b, Key: aws.String("k"), VersionId: &v1, ACL: types.ObjectCannedACLPublicRead}))(t)
	grants := func(version *string) int {
		a := must(c.GetObjectAcl(bg, &s3.GetObjectAclInput{Bucket: &b, Key: aws.String("k"), VersionId: version}))(t)
		return len(a.Grants)
	}
	if old, cur := grants(&v1), grants(nil); old <= cur {
		t.Fatalf("grants: v1 %d, current %d; the ACL went to the wrong version", old, cur)
	}
	// Anonymous reads follow each version's ACL.
	anon := func(version string) int {
		u := e.node.URL + "/" + b + "/k"
		if version != "" {
			u += "?versionId=" + version
		}
		resp, err := e.http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := anon(v1); got != 200 {
		t.Errorf("anonymous GET of public v1 = %d", got)
	}
	if got := anon(""); got != 403 {
		t.Errorf("anonymous GET of private current = %d", got)
	}
	_, err := c.GetObjectAcl(bg, &s3.GetObjectAclInput{Bucket: &b, Key: aws.String("k"), VersionId: aws.String("null")})
	wantAPIError(t, err, 404, "NoSuchVersion")
}

func verSSEC(t *testing.T, e *env, c *s3.Client) {
	if !e.tls {
		e = newEnv(t, mode{name: "tls", tls: true})
		c = e.root(t)
	}
	b := verBucket(t, c, types.BucketVersioningStatusEnabled)
	k1, k2 := make([]byte, 32), make([]byte, 32)
	rand.Read(k1)
	rand.Read(k2)
	put := func(key []byte, body string) string {
		alg, k, m := customerKey(key)
		return aws.ToString(must(c.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("k"), Body: strings.NewReader(body),
			SSECustomerAlgorithm: alg, SSECustomerKey: k, SSECustomerKeyMD5: m}))(t).VersionId)
	}
	get := func(key []byte, version string) (string, error) {
		alg, k, m := customerKey(key)
		out, err := c.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &version,
			SSECustomerAlgorithm: alg, SSECustomerKey: k, SSECustomerKeyMD5: m})
		if err != nil {
			return "", err
		}
		return string(readAll(t, out.Body)), nil
	}
	v1, v2 := put(k1, "secret-one"), put(k2, "secret-two")
	if body, err := get(k1, v1); err != nil || body != "secret-one" {
		t.Fatalf("v1 with k1 = %q, %v", body, err)
	}
	if body, err := get(k2, v2); err != nil || body != "secret-two" {
		t.Fatalf("v2 with k2 = %q, %v", body, err)
	}
	_, err := get(k2, v1)
	wantAPIError(t, err, 403, "AccessDenied")
	_, err = get(k1, v2)
	wantAPIError(t, err, 403, "AccessDenied")
	// A copy of the old version takes the old version's key.
	alg, k, m := customerKey(k1)
	must(c.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy"), CopySource: aws.String(b + "/k?versionId=" + v1),
		CopySourceSSECustomerAlgorithm: alg, CopySourceSSECustomerKey: k, CopySourceSSECustomerKeyMD5: m}))(t)
	if body, _ := verGet(t, c, b, "copy", ""); body != "secret-one" {
		t.Fatalf("copy of v1 = %q", body)
	}
}

// verLinkedCopy: deleting a version destroys its blobs only; a copy that
// shares its sealed data (a second blob name) keeps reading.
func verLinkedCopy(t *testing.T, e *env, c *s3.Client) {
	b := verBucket(t, c, types.BucketVersioningStatusEnabled)
	body := payload(0, 3*MiB) // big enough for a blob file, not inline
	v1 := aws.ToString(must(c.PutObject(bg, &s3.PutObjectInput{Bucket: &b, Key: aws.String("k"), Body: bytes.NewReader(body), ServerSideEncryption: types.ServerSideEncryptionAes256}))(t).VersionId)
	verPut(t, c, b, "k", "newer")
	must(c.CopyObject(bg, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy"), CopySource: aws.String(b + "/k?versionId=" + v1), ServerSideEncryption: types.ServerSideEncryptionAes256}))(t)
	must(c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &v1}))(t)
	_, err := c.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("k"), VersionId: &v1})
	wantAPIError(t, err, 404, "NoSuchVersion")
	out := must(c.GetObject(bg, &s3.GetObjectInput{Bucket: &b, Key: aws.String("copy")}))(t)
	if got := readAll(t, out.Body); !bytes.Equal(got, body) {
		t.Fatalf("copy after its source version was deleted: %d bytes", len(got))
	}
	if body, _ := verGet(t, c, b, "k", ""); body != "newer" {
		t.Fatalf("current = %q", body)
	}
}

func verMinio(t *testing.T, e *env, _ *s3.Client) {
	if !e.pathStyle {
		t.Skip("the minio client here is path-style")
	}
	c := e.minio(t, e.node.AccessKey, e.node.SecretKey)
	b := minioBucket(t, c, "mver")
	// A never-versioned bucket lists its objects as null versions.
	minioPut(t, c, b, "legacy", []byte("L"), minio.PutObjectOptions{})
	var seen []string
	for o := range c.ListObjects(bg, b, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		seen = append(seen, o.Key+"@"+o.VersionID)
	}
	if !slices.Equal(seen, []string{"legacy@null"}) {
		t.Fatalf("never-versioned versions = %v", seen)
	}
	if err := c.EnableVersioning(bg, b); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.GetBucketVersioning(bg, b)
	if err != nil || !cfg.Enabled() {
		t.Fatalf("versioning = %+v, %v", cfg, err)
	}
	i1 := minioPut(t, c, b, "dir/k", []byte("one"), minio.PutObjectOptions{})
	i2 := minioPut(t, c, b, "dir/k", []byte("two"), minio.PutObjectOptions{})
	if i1.VersionID == "" || i1.VersionID == i2.VersionID {
		t.Fatalf("version IDs %q %q", i1.VersionID, i2.VersionID)
	}
	if got, err := minioGet(c, b, "dir/k", minio.GetObjectOptions{VersionID: i1.VersionID}); err != nil || string(got) != "one" {
		t.Fatalf("GET v1 = %q, %v", got, err)
	}
	st, err := c.StatObject(bg, b, "dir/k", minio.StatObjectOptions{VersionID: i1.VersionID})
	if err != nil || st.VersionID != i1.VersionID || st.Size != 3 {
		t.Fatalf("stat v1 = %+v, %v", st, err)
	}
	if err := c.RemoveObject(bg, b, "dir/k", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.StatObject(bg, b, "dir/k", minio.StatObjectOptions{})
	if er := minio.ToErrorResponse(err); er.StatusCode != 404 {
		t.Fatalf("stat behind a marker = %v", err)
	}
	seen, markers := nil, 0
	for o := range c.ListObjects(bg, b, minio.ListObjectsOptions{WithVersions: true, Recursive: true, Prefix: "dir/"}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if o.IsDeleteMarker {
			markers++
			if !o.IsLatest {
				t.Error("the marker is not latest")
			}
		}
		seen = append(seen, o.VersionID)
	}
	if len(seen) != 3 || markers != 1 {
		t.Fatalf("versions = %v (markers %d)", seen, markers)
	}
	_, err = minioGet(c, b, "dir/k", minio.GetObjectOptions{VersionID: "bogus!"})
	wantMinioError(t, err, 400, "InvalidArgument")
	// Remove every version through the multi-delete, then the bucket.
	objs := make(chan minio.ObjectInfo)
	go func() {
		defer close(objs)
		for o := range c.ListObjects(bg, b, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
			objs <- o
		}
	}()
	for r := range c.RemoveObjects(bg, b, objs, minio.RemoveObjectsOptions{}) {
		t.Errorf("remove %s@%s: %v", r.ObjectName, r.VersionID, r.Err)
	}
	if err := c.RemoveBucket(bg, b); err != nil {
		t.Fatalf("RemoveBucket after removing every version: %v", err)
	}
}

// customerKey returns the SDK's SSE-C fields for a key.
func customerKey(key []byte) (alg, k, keyMD5 *string) {
	sum := md5.Sum(key)
	return aws.String("AES256"), aws.String(base64.StdEncoding.EncodeToString(key)), aws.String(base64.StdEncoding.EncodeToString(sum[:]))
}
