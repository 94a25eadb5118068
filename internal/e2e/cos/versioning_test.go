package e2ecos

import (
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/tencentyun/cos-go-sdk-v5"
)

// TestCOSVersioning drives COS versioning through cos-go-sdk-v5:
// PutVersioning/GetVersioning, x-cos-version-id, delete markers,
// GetObjectVersions and versioned GET and DELETE (which the SDK sends as
// ?VersionId=).
func TestCOSVersioning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, c := e.bucket("cver")
	ctx := e.ctx
	versions := func() []string {
		t.Helper()
		res, _, err := c.Bucket.GetObjectVersions(ctx, &cos.BucketGetObjectVersionsOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range res.Version {
			s := v.Key + "@" + v.VersionId
			if v.IsLatest {
				s += "*"
			}
			got = append(got, s)
		}
		for _, m := range res.DeleteMarker {
			s := m.Key + "@" + m.VersionId + "DM"
			if m.IsLatest {
				s += "*"
			}
			got = append(got, s)
		}
		return got
	}
	e.put(c, "legacy", []byte("L"), nil)
	if got := versions(); !slices.Equal(got, []string{"legacy@null*"}) {
		t.Fatalf("never-versioned versions = %v", got)
	}
	if res, _, err := c.Bucket.GetVersioning(ctx); err != nil || res.Status != "" {
		t.Fatalf("status of a new bucket = %+v, %v", res, err)
	}
	if _, err := c.Bucket.PutVersioning(ctx, &cos.BucketPutVersionOptions{Status: "Enabled"}); err != nil {
		t.Fatal(err)
	}
	if res, _, err := c.Bucket.GetVersioning(ctx); err != nil || res.Status != "Enabled" {
		t.Fatalf("status = %+v, %v", res, err)
	}
	v1 := e.put(c, "k", []byte("one"), nil).Header.Get("x-cos-version-id")
	v2 := e.put(c, "k", []byte("two"), nil).Header.Get("x-cos-version-id")
	if v1 == "" || v1 == v2 {
		t.Fatalf("version IDs %q %q", v1, v2)
	}
	resp, err := c.Object.Get(ctx, "k", nil, v1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "one" || resp.Header.Get("x-cos-version-id") != v1 {
		t.Fatalf("GET v1 = %q (%s)", body, resp.Header.Get("x-cos-version-id"))
	}
	resp, err = c.Object.Delete(ctx, "k")
	if err != nil || resp.Header.Get("x-cos-delete-marker") != "true" {
		t.Fatalf("delete = %v (%v)", err, resp)
	}
	dm := resp.Header.Get("x-cos-version-id")
	_, err = c.Object.Get(ctx, "k", nil)
	if er := wantCOSErr(t, err, http.StatusNotFound, "NoSuchKey"); er.Response.Header.Get("x-cos-delete-marker") != "true" {
		t.Error("GET behind a marker lacks x-cos-delete-marker")
	}
	want := []string{"k@" + v2, "k@" + v1, "legacy@null*", "k@" + dm + "DM*"}
	if got := versions(); !slices.Equal(got, want) {
		t.Fatalf("versions = %v, want %v", got, want)
	}
	if resp, err := c.Object.Delete(ctx, "k", &cos.ObjectDeleteOptions{VersionId: dm}); err != nil || resp.Header.Get("x-cos-delete-marker") != "true" {
		t.Fatalf("removing the marker = %v", err)
	}
	if _, err := c.Object.Delete(ctx, "k", &cos.ObjectDeleteOptions{VersionId: v2}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.get(c, "k", nil); string(got) != "one" {
		t.Fatalf("current after removing v2 = %q", got)
	}
	_, err = c.Object.Get(ctx, "k", nil, v2)
	wantCOSErr(t, err, http.StatusNotFound, "NoSuchVersion")
}
