package e2eoss

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// TestOSSVersioning drives OSS versioning through the v2 SDK:
// PutBucketVersioning/GetBucketVersioning, x-oss-version-id on writes and
// reads, delete markers, ListObjectVersions (OSS's ListVersionsResult) and
// the versionId of GET, HEAD and DELETE.
func TestOSSVersioning(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	for _, sig := range []oss2.SignatureVersionType{oss2.SignatureVersionV4, oss2.SignatureVersionV1} {
		c := newV2(t, n, n.AccessKey, n.SecretKey, sig)
		t.Run(c.name(), func(t *testing.T) {
			t.Parallel()
			cl, ctx := c.c, c.ctx
			b := bucketName("over")
			if _, err := cl.PutBucket(ctx, &oss2.PutBucketRequest{Bucket: &b}); err != nil {
				t.Fatal(err)
			}
			put := func(key, body string) string {
				t.Helper()
				out, err := cl.PutObject(ctx, &oss2.PutObjectRequest{Bucket: &b, Key: &key, Body: bytes.NewReader([]byte(body))})
				if err != nil {
					t.Fatal(err)
				}
				return oss2.ToString(out.VersionId)
			}
			versions := func() []string {
				t.Helper()
				out, err := cl.ListObjectVersions(ctx, &oss2.ListObjectVersionsRequest{Bucket: &b})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, v := range out.ObjectVersions {
					s := oss2.ToString(v.Key) + "@" + oss2.ToString(v.VersionId)
					if v.IsLatest {
						s += "*"
					}
					got = append(got, s)
				}
				for _, m := range out.ObjectDeleteMarkers {
					s := oss2.ToString(m.Key) + "@" + oss2.ToString(m.VersionId) + "DM"
					if m.IsLatest {
						s += "*"
					}
					got = append(got, s)
				}
				return got
			}
			// Never versioned: no status, objects listed as null versions.
			if v := put("legacy", "L"); v != "" {
				t.Fatalf("unversioned PUT returned x-oss-version-id %q", v)
			}
			st, err := cl.GetBucketVersioning(ctx, &oss2.GetBucketVersioningRequest{Bucket: &b})
			if err != nil || st.VersionStatus != nil && *st.VersionStatus != "" {
				t.Fatalf("status of a new bucket = %v, %v", st.VersionStatus, err)
			}
			if got := versions(); !slices.Equal(got, []string{"legacy@null*"}) {
				t.Fatalf("never-versioned versions = %v", got)
			}
			if _, err := cl.PutBucketVersioning(ctx, &oss2.PutBucketVersioningRequest{Bucket: &b,
				VersioningConfiguration: &oss2.VersioningConfiguration{Status: oss2.VersionEnabled}}); err != nil {
				t.Fatal(err)
			}
			if st, err := cl.GetBucketVersioning(ctx, &oss2.GetBucketVersioningRequest{Bucket: &b}); err != nil || oss2.ToString(st.VersionStatus) != "Enabled" {
				t.Fatalf("status = %v, %v", st, err)
			}
			v1, v2 := put("k", "one"), put("k", "two")
			if v1 == "" || v1 == v2 {
				t.Fatalf("version IDs %q %q", v1, v2)
			}
			g, err := cl.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &b, Key: oss2.Ptr("k"), VersionId: &v1})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(g.Body)
			g.Body.Close()
			if string(body) != "one" || oss2.ToString(g.VersionId) != v1 {
				t.Fatalf("GET v1 = %q (%s)", body, oss2.ToString(g.VersionId))
			}
			if h, err := cl.HeadObject(ctx, &oss2.HeadObjectRequest{Bucket: &b, Key: oss2.Ptr("k"), VersionId: &v1}); err != nil || h.ContentLength != 3 {
				t.Fatalf("HEAD v1 = %v, %v", h, err)
			}
			d, err := cl.DeleteObject(ctx, &oss2.DeleteObjectRequest{Bucket: &b, Key: oss2.Ptr("k")})
			if err != nil || !d.DeleteMarker || oss2.ToString(d.VersionId) == "" {
				t.Fatalf("delete = %+v, %v", d, err)
			}
			dm := oss2.ToString(d.VersionId)
			_, err = cl.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &b, Key: oss2.Ptr("k")})
			var se *oss2.ServiceError
			if !asServiceError(err, &se) || se.StatusCode != 404 || se.Code != "NoSuchKey" {
				t.Fatalf("GET behind a marker = %v", err)
			}
			_, err = cl.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &b, Key: oss2.Ptr("k"), VersionId: oss2.Ptr("null")})
			if !asServiceError(err, &se) || se.StatusCode != 404 || se.Code != "NoSuchVersion" {
				t.Fatalf("GET of a missing version = %v", err)
			}
			want := []string{"k@" + v2, "k@" + v1, "legacy@null*", "k@" + dm + "DM*"}
			if got := versions(); !slices.Equal(got, want) {
				t.Fatalf("versions = %v, want %v", got, want)
			}
			// Removing the marker by version restores the object.
			if d, err := cl.DeleteObject(ctx, &oss2.DeleteObjectRequest{Bucket: &b, Key: oss2.Ptr("k"), VersionId: &dm}); err != nil || !d.DeleteMarker {
				t.Fatalf("delete marker = %+v, %v", d, err)
			}
			if _, err := cl.DeleteMultipleObjects(ctx, &oss2.DeleteMultipleObjectsRequest{Bucket: &b,
				Objects: []oss2.DeleteObject{{Key: oss2.Ptr("k"), VersionId: &v2}}}); err != nil {
				t.Fatal(err)
			}
			g, err = cl.GetObject(ctx, &oss2.GetObjectRequest{Bucket: &b, Key: oss2.Ptr("k")})
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(g.Body)
			g.Body.Close()
			if string(body) != "one" {
				t.Fatalf("current after removing v2 = %q", body)
			}
		})
	}
}

func asServiceError(err error, se **oss2.ServiceError) bool {
	return err != nil && errors.As(err, se)
}
