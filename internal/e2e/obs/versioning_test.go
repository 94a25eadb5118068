package e2eobs

import (
	"io"
	"slices"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// TestOBSVersioning drives OBS versioning through the OBS SDK in each of
// its signing modes: SetBucketVersioning/GetBucketVersioning, the version
// ID of writes, versioned GET and DELETE, delete markers and ListVersions.
func TestOBSVersioning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	eachMode(t, func(t *testing.T, m mode) {
		c := e.client(t, m)
		b := e.bucket(t, c, "over-"+m.name)
		put := func(key, body string) string {
			t.Helper()
			out, err := c.PutObject(putInput(b, key, []byte(body)))
			if err != nil {
				t.Fatal(err)
			}
			return out.VersionId
		}
		get := func(key, version string) (string, error) {
			in := &obs.GetObjectInput{}
			in.Bucket, in.Key, in.VersionId = b, key, version
			out, err := c.GetObject(in)
			if err != nil {
				return "", err
			}
			defer out.Body.Close()
			body, err := io.ReadAll(out.Body)
			if out.VersionId != version && version != "" {
				t.Errorf("GET %s returned version %q", version, out.VersionId)
			}
			return string(body), err
		}
		versions := func() []string {
			t.Helper()
			out, err := c.ListVersions(&obs.ListVersionsInput{Bucket: b})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range out.Versions {
				s := v.Key + "@" + v.VersionId
				if v.IsLatest {
					s += "*"
				}
				got = append(got, s)
			}
			for _, d := range out.DeleteMarkers {
				s := d.Key + "@" + d.VersionId + "DM"
				if d.IsLatest {
					s += "*"
				}
				got = append(got, s)
			}
			return got
		}
		put("legacy", "L")
		if got := versions(); !slices.Equal(got, []string{"legacy@null*"}) {
			t.Fatalf("never-versioned versions = %v", got)
		}
		in := &obs.SetBucketVersioningInput{Bucket: b}
		in.Status = obs.VersioningStatusEnabled
		if _, err := c.SetBucketVersioning(in); err != nil {
			t.Fatal(err)
		}
		if st, err := c.GetBucketVersioning(b); err != nil || st.Status != obs.VersioningStatusEnabled {
			t.Fatalf("status = %+v, %v", st, err)
		}
		v1, v2 := put("k", "one"), put("k", "two")
		if v1 == "" || v1 == v2 {
			t.Fatalf("version IDs %q %q", v1, v2)
		}
		if body, err := get("k", v1); err != nil || body != "one" {
			t.Fatalf("GET v1 = %q, %v", body, err)
		}
		d, err := c.DeleteObject(&obs.DeleteObjectInput{Bucket: b, Key: "k"})
		if err != nil || !d.DeleteMarker || d.VersionId == "" {
			t.Fatalf("delete = %+v, %v", d, err)
		}
		_, err = get("k", "")
		wantObsErr(t, err, 404, "NoSuchKey")
		_, err = get("k", "null")
		wantObsErr(t, err, 404, "NoSuchVersion")
		want := []string{"k@" + v2, "k@" + v1, "legacy@null*", "k@" + d.VersionId + "DM*"}
		if got := versions(); !slices.Equal(got, want) {
			t.Fatalf("versions = %v, want %v", got, want)
		}
		if r, err := c.DeleteObject(&obs.DeleteObjectInput{Bucket: b, Key: "k", VersionId: d.VersionId}); err != nil || !r.DeleteMarker {
			t.Fatalf("removing the marker = %+v, %v", r, err)
		}
		if _, err := c.DeleteObject(&obs.DeleteObjectInput{Bucket: b, Key: "k", VersionId: v2}); err != nil {
			t.Fatal(err)
		}
		if body, err := get("k", ""); err != nil || body != "one" {
			t.Fatalf("current after removing v2 = %q, %v", body, err)
		}
	})
}
