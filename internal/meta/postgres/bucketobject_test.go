package postgres

import (
	"errors"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
)

// TestGetBucketObject: the bucket and the object of one statement tell a
// missing bucket, a missing key or version and a delete marker apart as
// GetBucket, GetObject and GetObjectVersion do.
func TestGetBucketObject(t *testing.T) {
	s, _ := openTest(t)
	metatest.MustBucket(t, s, "b")
	metatest.SetVersioning(t, s, "b", meta.VersioningEnabled)
	v1 := metatest.Obj("b", "k")
	metatest.MustPut(t, s, v1)
	del, err := s.DeleteObjectVersion(ctx, "b", "k", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var dm *meta.DeleteMarkerError
	tests := []struct {
		name, bucket, key, version string
		bucket_, object            bool
		err                        func(error) bool
	}{
		{"no bucket", "nope", "k", "", false, false, func(err error) bool { return errors.Is(err, meta.ErrNoSuchBucket) }},
		{"no key", "b", "other", "", true, false, func(err error) bool { return errors.Is(err, meta.ErrNoSuchKey) }},
		{"current is a marker", "b", "k", "", true, false, func(err error) bool { return errors.As(err, &dm) && dm.Marker.VersionID == del.Marker.VersionID }},
		{"marker by version", "b", "k", del.Marker.VersionID, true, true, func(err error) bool { return err == nil }},
		{"old version", "b", "k", v1.VersionID, true, true, func(err error) bool { return err == nil }},
		{"no such version", "b", "k", meta.NewVersionID(99), true, false, func(err error) bool { return errors.Is(err, meta.ErrNoSuchVersion) }},
		{"null version missing", "b", "k", meta.NullVersion, true, false, func(err error) bool { return errors.Is(err, meta.ErrNoSuchVersion) }},
		{"bad version", "b", "k", "zz", true, false, func(err error) bool { return errors.Is(err, meta.ErrInvalidVersion) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, o, err := s.GetBucketObject(ctx, tc.bucket, tc.key, tc.version)
			if !tc.err(err) {
				t.Fatalf("error %v", err)
			}
			if (b != nil) != tc.bucket_ {
				t.Errorf("bucket %v, want one: %v", b, tc.bucket_)
			}
			if b != nil && b.Name != "b" {
				t.Errorf("bucket %q", b.Name)
			}
			if (o != nil) != tc.object {
				t.Errorf("object %v, want one: %v", o, tc.object)
			}
		})
	}
}
