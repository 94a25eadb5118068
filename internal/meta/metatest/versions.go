package metatest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// listed renders a key's versions as the listing returns them:
// "etag[*]" per version (* = latest), "DM[*]" for a delete marker.
func listed(t testing.TB, s meta.Store, bucket, prefix, keyMarker, versionMarker string) []string {
	t.Helper()
	var out []string
	err := s.ListObjectVersions(ctx, bucket, prefix, keyMarker, versionMarker, func(o *meta.Object, latest bool) error {
		e := o.Key + ":" + o.ETag
		if o.DeleteMarker {
			e = o.Key + ":DM"
		}
		if o.VersionID == "" {
			e += "(null)"
		}
		if latest {
			e += "*"
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func putETag(t testing.TB, s meta.Store, bucket, key, etag string, blobs ...string) (*meta.Object, *meta.Object) {
	t.Helper()
	o := obj(bucket, key, blobs...)
	o.ETag = etag
	old := mustPut(t, s, o)
	return o, old
}

func testVersioningTransitions(t *testing.T, be Backend) {
	type step struct {
		op      string // "put", "del", "delv" (by the etag's version), "state"
		arg     string // etag, or versioning state
		removed string // etag removed for good ("" none; "DM" a marker)
		marker  bool   // a delete marker was created
	}
	tests := []struct {
		name  string
		steps []step
		want  []string
		get   string // current etag, "DM" for a delete marker, "" for none
	}{
		{"never versioned", []step{{"put", "a", "", false}, {"put", "b", "a", false}}, []string{"k:b(null)*"}, "b"},
		{"never versioned delete", []step{{"put", "a", "", false}, {"del", "", "a", false}}, nil, ""},
		{"enabled keeps every version", []step{{"state", "Enabled", "", false}, {"put", "a", "", false}, {"put", "b", "", false}},
			[]string{"k:b*", "k:a"}, "b"},
		{"enabled delete adds a marker", []step{{"state", "Enabled", "", false}, {"put", "a", "", false}, {"del", "", "", true}},
			[]string{"k:DM*", "k:a"}, "DM"},
		{"delete of a missing key adds a marker", []step{{"state", "Enabled", "", false}, {"del", "", "", true}},
			[]string{"k:DM*"}, "DM"},
		{"removing the marker restores", []step{{"state", "Enabled", "", false}, {"put", "a", "", false}, {"del", "", "", true}, {"delv", "DM", "DM", false}},
			[]string{"k:a*"}, "a"},
		{"removing the current promotes the next", []step{{"state", "Enabled", "", false}, {"put", "a", "", false}, {"put", "b", "", false}, {"delv", "b", "b", false}},
			[]string{"k:a*"}, "a"},
		{"removing a noncurrent one", []step{{"state", "Enabled", "", false}, {"put", "a", "", false}, {"put", "b", "", false}, {"delv", "a", "a", false}},
			[]string{"k:b*"}, "b"},
		{"put over a marker", []step{{"state", "Enabled", "", false}, {"put", "a", "", false}, {"del", "", "", true}, {"put", "b", "", false}},
			[]string{"k:b*", "k:DM", "k:a"}, "b"},
		{"current removed, next is a marker", []step{{"state", "Enabled", "", false}, {"put", "a", "", false}, {"del", "", "", true}, {"put", "b", "", false}, {"delv", "b", "b", false}},
			[]string{"k:DM*", "k:a"}, "DM"},
		{"unversioned object becomes the null version", []step{{"put", "a", "", false}, {"state", "Enabled", "", false}, {"put", "b", "", false}},
			[]string{"k:b*", "k:a(null)"}, "b"},
		{"null version deleted by id", []step{{"put", "a", "", false}, {"state", "Enabled", "", false}, {"put", "b", "", false}, {"delv", "a", "a", false}},
			[]string{"k:b*"}, "b"},
		{"suspended overwrites the current null", []step{{"state", "Suspended", "", false}, {"put", "a", "", false}, {"put", "b", "a", false}},
			[]string{"k:b(null)*"}, "b"},
		{"suspended keeps non-null versions", []step{{"state", "Enabled", "", false}, {"put", "a", "", false}, {"state", "Suspended", "", false}, {"put", "n1", "", false}, {"put", "n2", "n1", false}},
			[]string{"k:n2(null)*", "k:a"}, "n2"},
		{"suspended replaces a noncurrent null", []step{{"put", "n1", "", false}, {"state", "Enabled", "", false}, {"put", "a", "", false}, {"state", "Suspended", "", false}, {"put", "n2", "n1", false}},
			[]string{"k:n2(null)*", "k:a"}, "n2"},
		{"suspended delete: null marker replaces the null", []step{{"state", "Enabled", "", false}, {"put", "a", "", false}, {"state", "Suspended", "", false}, {"put", "n", "", false}, {"del", "", "n", true}},
			[]string{"k:DM(null)*", "k:a"}, "DM"},
		{"suspended put replaces a null marker", []step{{"state", "Suspended", "", false}, {"put", "a", "", false}, {"del", "", "a", true}, {"put", "b", "DM", false}},
			[]string{"k:b(null)*"}, "b"},
		{"re-enabled keeps the null", []step{{"state", "Suspended", "", false}, {"put", "n", "", false}, {"state", "Enabled", "", false}, {"put", "a", "", false}, {"put", "b", "", false}},
			[]string{"k:b*", "k:a", "k:n(null)"}, "b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := be.Open(t)
			mustBucket(t, s, "b")
			ids := map[string]string{} // etag -> version ID ("DM" the last marker)
			for i, st := range tc.steps {
				var removed *meta.Object
				var marker *meta.Object
				switch st.op {
				case "state":
					setVersioning(t, s, "b", st.arg)
					continue
				case "put":
					o, old := putETag(t, s, "b", "k", st.arg, "blob-"+st.arg)
					ids[st.arg], removed = o.VersionID, old
				case "del", "delv":
					id := ""
					if st.op == "delv" {
						if id = ids[st.arg]; id == "" {
							id = meta.NullVersion
						}
					}
					d, err := s.DeleteObjectVersion(ctx, "b", "k", id, nil)
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					removed, marker = d.Removed, d.Marker
					if marker != nil {
						ids["DM"] = marker.VersionID
					}
				}
				got := ""
				if removed != nil {
					got = removed.ETag
					if removed.DeleteMarker {
						got = "DM"
					}
				}
				if got != st.removed || (marker != nil) != st.marker {
					t.Fatalf("step %d (%s %s): removed %q marker %v, want %q %v", i, st.op, st.arg, got, marker != nil, st.removed, st.marker)
				}
			}
			if got := listed(t, s, "b", "", "", ""); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("versions = %q, want %q", got, tc.want)
			}
			cur, err := s.GetObject(ctx, "b", "k")
			var dm *meta.DeleteMarkerError
			switch {
			case tc.get == "DM":
				if !errors.As(err, &dm) || !errors.Is(err, meta.ErrNoSuchKey) || !dm.Marker.DeleteMarker {
					t.Fatalf("GetObject = %v, %v; want a delete marker", cur, err)
				}
			case tc.get == "":
				if !errors.Is(err, meta.ErrNoSuchKey) || errors.As(err, &dm) {
					t.Fatalf("GetObject = %v, %v; want NoSuchKey", cur, err)
				}
			case err != nil || cur.ETag != tc.get:
				t.Fatalf("GetObject = %v, %v; want %q", cur, err, tc.get)
			}
			var n int
			s.ListObjects(ctx, "b", "", "", func(*meta.Object) error { n++; return nil })
			if want := map[bool]int{true: 1, false: 0}[tc.get != "" && tc.get != "DM"]; n != want {
				t.Fatalf("ListObjects saw %d objects, want %d", n, want)
			}
			// Every version listed is readable by its ID.
			s.ListObjectVersions(ctx, "b", "", "", "", func(o *meta.Object, _ bool) error {
				id := o.VersionID
				if id == "" {
					id = meta.NullVersion
				}
				got, err := s.GetObjectVersion(ctx, "b", "k", id)
				if err != nil || got.ETag != o.ETag || got.DeleteMarker != o.DeleteMarker {
					t.Errorf("GetObjectVersion(%s) = %v, %v", id, got, err)
				}
				return nil
			})
		})
	}
}

func testVersionErrors(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	setVersioning(t, s, "b", meta.VersioningEnabled)
	o, _ := putETag(t, s, "b", "k", "a")
	if o.VersionID == "" || strings.ContainsAny(o.VersionID, "+/=?&") {
		t.Fatalf("version ID %q is not URL-safe", o.VersionID)
	}
	for _, tc := range []struct {
		key, id string
		want    error
	}{
		{"k", "not-a-version", meta.ErrInvalidVersion},
		{"k", meta.NullVersion, meta.ErrNoSuchVersion},
		{"other", o.VersionID, meta.ErrNoSuchVersion},
		{"k", meta.NewVersionID(1 << 40), meta.ErrNoSuchVersion},
		{"k", sameSeq(t, o.VersionID), meta.ErrNoSuchVersion}, // right sequence, other random bits
	} {
		if _, err := s.GetObjectVersion(ctx, "b", tc.key, tc.id); !errors.Is(err, tc.want) {
			t.Errorf("GetObjectVersion(%s, %s) = %v, want %v", tc.key, tc.id, err, tc.want)
		}
	}
	if _, err := s.DeleteObjectVersion(ctx, "b", "k", "bogus", nil); !errors.Is(err, meta.ErrInvalidVersion) {
		t.Fatalf("delete bogus: %v", err)
	}
	if d, err := s.DeleteObjectVersion(ctx, "b", "k", meta.NewVersionID(99), nil); err != nil || d.Removed != nil || d.Marker != nil {
		t.Fatalf("delete unknown version = %+v, %v; want nothing", d, err)
	}
	// A delete marker cannot be updated.
	d, _ := s.DeleteObjectVersion(ctx, "b", "k", "", nil)
	if err := s.UpdateObjectVersion(ctx, "b", "k", d.Marker.VersionID, func(o *meta.Object) error { return nil }); !errors.Is(err, meta.ErrNoSuchVersion) {
		t.Fatalf("update marker: %v", err)
	}
	if err := s.UpdateObject(ctx, "b", "k", func(o *meta.Object) error { return nil }); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("update current marker: %v", err)
	}
	// A noncurrent version's metadata can change, and keeps its place.
	if err := s.UpdateObjectVersion(ctx, "b", "k", o.VersionID, func(o *meta.Object) error { o.ACL = "public-read"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetObjectVersion(ctx, "b", "k", o.VersionID); got.ACL != "public-read" {
		t.Fatalf("ACL = %q", got.ACL)
	}
	if got := listed(t, s, "b", "", "", ""); !reflect.DeepEqual(got, []string{"k:DM*", "k:a"}) {
		t.Fatalf("versions = %q", got)
	}
	// The bucket is not empty while versions or markers remain.
	if _, err := s.DeleteBucket(ctx, "b"); !errors.Is(err, meta.ErrBucketNotEmpty) {
		t.Fatalf("DeleteBucket = %v", err)
	}
	s.DeleteObjectVersion(ctx, "b", "k", o.VersionID, nil)
	if _, err := s.DeleteBucket(ctx, "b"); !errors.Is(err, meta.ErrBucketNotEmpty) {
		t.Fatalf("DeleteBucket with a marker = %v", err)
	}
	s.DeleteObjectVersion(ctx, "b", "k", d.Marker.VersionID, nil)
	if _, err := s.DeleteBucket(ctx, "b"); err != nil {
		t.Fatalf("DeleteBucket empty = %v", err)
	}
}

func testVersionPreconditionSeesCurrent(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	setVersioning(t, s, "b", meta.VersioningEnabled)
	putETag(t, s, "b", "k", "a")
	s.DeleteObjectVersion(ctx, "b", "k", "", nil)
	var seen *meta.Object
	seenCalled := false
	if _, err := s.PutObject(ctx, obj("b", "k"), func(cur *meta.Object) error { seen, seenCalled = cur, true; return nil }); err != nil {
		t.Fatal(err)
	}
	if !seenCalled || seen != nil {
		t.Fatalf("precondition saw %v behind a delete marker, want nil", seen)
	}
	errNo := errors.New("no")
	if _, err := s.PutObject(ctx, obj("b", "k"), func(cur *meta.Object) error { return errNo }); !errors.Is(err, errNo) {
		t.Fatal(err)
	}
	if got := listed(t, s, "b", "", "", ""); len(got) != 3 {
		t.Fatalf("a refused put changed the versions: %q", got)
	}
}

func testListObjectVersionsPaging(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	putETag(t, s, "b", "a/0", "n") // null version, before versioning
	setVersioning(t, s, "b", meta.VersioningEnabled)
	keys := []string{"a/0", "a/1", "a/1\x00x", "a/2", "b/0", "c"}
	for round := 0; round < 3; round++ {
		for i, k := range keys {
			if (i+round)%4 == 3 {
				s.DeleteObjectVersion(ctx, "b", k, "", nil)
				continue
			}
			putETag(t, s, "b", k, fmt.Sprintf("r%d", round))
		}
	}
	type entry struct {
		key, id string
		latest  bool
	}
	all := func(prefix, km, vm string, limit int) []entry {
		var out []entry
		s.ListObjectVersions(ctx, "b", prefix, km, vm, func(o *meta.Object, latest bool) error {
			if len(out) == limit {
				return meta.ErrStop
			}
			id := o.VersionID
			if id == "" {
				id = meta.NullVersion
			}
			out = append(out, entry{o.Key, id, latest})
			return nil
		})
		return out
	}
	full := all("", "", "", -1)
	if len(full) != 1+3*len(keys) {
		t.Fatalf("listed %d versions, want %d", len(full), 1+3*len(keys))
	}
	for _, prefix := range []string{"", "a/", "a/1"} {
		var want []entry
		for _, e := range full {
			if strings.HasPrefix(e.key, prefix) {
				want = append(want, e)
			}
		}
		for page := 1; page <= 4; page++ {
			var got []entry
			km, vm := "", ""
			for {
				p := all(prefix, km, vm, page)
				got = append(got, p...)
				if len(p) < page {
					break
				}
				km, vm = p[len(p)-1].key, p[len(p)-1].id
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("prefix %q, pages of %d:\n got %v\nwant %v", prefix, page, got, want)
			}
		}
	}
	// key-marker alone starts after every version of the key.
	for _, e := range all("", "a/1", "", -1) {
		if e.key <= "a/1" {
			t.Fatalf("key-marker a/1 listed %v", e)
		}
	}
	if got := all("", "a/1", "", 1); got[0].key != "a/1\x00x" {
		t.Fatalf("after a/1: %v", got)
	}
}

func testBlobRefsSeesNoncurrentVersions(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	setVersioning(t, s, "b", meta.VersioningEnabled)
	putETag(t, s, "b", "k", "a", "blob-a")
	putETag(t, s, "b", "k", "b", "blob-b")
	s.DeleteObjectVersion(ctx, "b", "k", "", nil)
	var got []string
	s.BlobRefs(ctx, func(id string) error { got = append(got, id); return nil })
	if !reflect.DeepEqual(slices.Sorted(slices.Values(got)), []string{"blob-a", "blob-b"}) {
		t.Fatalf("BlobRefs = %v", got)
	}
}

func sameSeq(t *testing.T, id string) string {
	seq, err := meta.VersionSeq(id)
	if err != nil {
		t.Fatal(err)
	}
	return meta.NewVersionID(seq)
}
