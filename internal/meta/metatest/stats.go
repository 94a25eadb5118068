package metatest

import (
	"maps"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// statsOf reads the counters as "mode/alg" -> {objects, bytes}, without
// zero entries.
func statsOf(t *testing.T, s meta.Store) map[string][2]int64 {
	t.Helper()
	st, err := s.(meta.ObjectStats).ObjectStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]int64{}
	for _, e := range st {
		if e.Objects != 0 || e.Bytes != 0 {
			out[e.Mode+"/"+e.Algorithm] = [2]int64{e.Objects, e.Bytes}
		}
	}
	return out
}

func sized(o *meta.Object, size int64, mode string) *meta.Object {
	o.Size = size
	if mode != "" {
		o.Encryption = &meta.Encryption{Mode: mode, Algorithm: "AES256"}
	}
	return o
}

func testObjectStatsFollowEveryChange(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "plain")
	mustBucket(t, s, "ver")
	setVersioning(t, s, "ver", meta.VersioningEnabled)
	mustBucket(t, s, "sus")
	setVersioning(t, s, "sus", meta.VersioningSuspended)

	type want = map[string][2]int64
	steps := []struct {
		name string
		do   func() error
		want want
	}{
		{"put plain", func() error { _, err := s.PutObject(ctx, sized(obj("plain", "a"), 10, ""), nil); return err },
			want{"/": {1, 10}}},
		{"put managed", func() error { _, err := s.PutObject(ctx, sized(obj("plain", "b"), 20, "managed"), nil); return err },
			want{"/": {1, 10}, "managed/AES256": {1, 20}}},
		{"overwrite replaces", func() error { _, err := s.PutObject(ctx, sized(obj("plain", "a"), 7, "kms"), nil); return err },
			want{"managed/AES256": {1, 20}, "kms/AES256": {1, 7}}},
		{"versioned put keeps the old", func() error {
			if _, err := s.PutObject(ctx, sized(obj("ver", "k"), 5, "customer"), nil); err != nil {
				return err
			}
			_, err := s.PutObject(ctx, sized(obj("ver", "k"), 6, "customer"), nil)
			return err
		}, want{"managed/AES256": {1, 20}, "kms/AES256": {1, 7}, "customer/AES256": {2, 11}}},
		{"delete marker counts nothing", func() error { _, err := s.DeleteObject(ctx, "ver", "k", nil); return err },
			want{"managed/AES256": {1, 20}, "kms/AES256": {1, 7}, "customer/AES256": {2, 11}}},
		{"permanent delete of a version", func() error {
			var id string
			err := s.ListObjectVersions(ctx, "ver", "", "", "", func(o *meta.Object, _ bool) error {
				if !o.DeleteMarker && o.Size == 5 {
					id = o.VersionID
				}
				return nil
			})
			if err != nil {
				return err
			}
			_, err = s.DeleteObjectVersion(ctx, "ver", "k", id, nil)
			return err
		}, want{"managed/AES256": {1, 20}, "kms/AES256": {1, 7}, "customer/AES256": {1, 6}}},
		{"suspended put replaces the null version", func() error {
			if _, err := s.PutObject(ctx, sized(obj("sus", "n"), 3, ""), nil); err != nil {
				return err
			}
			_, err := s.PutObject(ctx, sized(obj("sus", "n"), 4, ""), nil)
			return err
		}, want{"/": {1, 4}, "managed/AES256": {1, 20}, "kms/AES256": {1, 7}, "customer/AES256": {1, 6}}},
		{"suspended delete removes the null version", func() error { _, err := s.DeleteObject(ctx, "sus", "n", nil); return err },
			want{"managed/AES256": {1, 20}, "kms/AES256": {1, 7}, "customer/AES256": {1, 6}}},
		{"update that re-encrypts moves the class", func() error {
			return s.UpdateObject(ctx, "plain", "b", func(o *meta.Object) error { o.Encryption.Mode = "kms"; return nil })
		}, want{"kms/AES256": {2, 27}, "customer/AES256": {1, 6}}},
		{"complete upload", func() error {
			if err := s.CreateUpload(ctx, &meta.Upload{ID: "u1", Bucket: "plain", Key: "m"}); err != nil {
				return err
			}
			_, _, err := s.CompleteUpload(ctx, "plain", "u1", sized(obj("plain", "m"), 100, "managed"), nil)
			return err
		}, want{"managed/AES256": {1, 100}, "kms/AES256": {2, 27}, "customer/AES256": {1, 6}}},
		{"refused precondition changes nothing", func() error {
			s.PutObject(ctx, sized(obj("plain", "a"), 1, ""), func(*meta.Object) error { return meta.ErrStop })
			return nil
		}, want{"managed/AES256": {1, 100}, "kms/AES256": {2, 27}, "customer/AES256": {1, 6}}},
		{"plain delete", func() error { _, err := s.DeleteObject(ctx, "plain", "a", nil); return err },
			want{"managed/AES256": {1, 100}, "kms/AES256": {1, 20}, "customer/AES256": {1, 6}}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := statsOf(t, s); !maps.Equal(got, st.want) {
			t.Fatalf("after %s: counters %v, want %v", st.name, got, st.want)
		}
	}

	// Durable: the same after a reopen.
	before := statsOf(t, s)
	s = be.Reopen(t, s)
	if got := statsOf(t, s); !maps.Equal(got, before) {
		t.Fatalf("reopened counters %v, want %v", got, before)
	}
}

// TestReplicasCounted: a replica installed by PutReplica is counted like a
// local write (late and older ones too), one installed before is not
// counted again, a null replica replacing the null version takes its
// place in the counters, and delete markers count nothing.
func testReplicasCounted(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "ver")
	setVersioning(t, s, "ver", meta.VersioningEnabled)
	mustBucket(t, s, "plain")
	type want = map[string][2]int64
	v2 := sized(replica("ver", "k", "v2", 20, false), 5, "kms")
	steps := []struct {
		name string
		o    *meta.Object
		want want
	}{
		{"first replica", v2, want{"kms/AES256": {1, 5}}},
		{"late older replica", sized(replica("ver", "k", "v1", 10, false), 3, "kms"), want{"kms/AES256": {2, 8}}},
		{"replayed replica", v2, want{"kms/AES256": {2, 8}}},
		{"delete marker replica", replica("ver", "k", "", 30, true), want{"kms/AES256": {2, 8}}},
		{"null replica", sized(replica("plain", "n", "n1", 40, false), 7, ""), want{"kms/AES256": {2, 8}, "/": {1, 7}}},
		{"null replica replaces", sized(replica("plain", "n", "n2", 50, false), 9, "managed"), want{"kms/AES256": {2, 8}, "managed/AES256": {1, 9}}},
	}
	for _, st := range steps {
		if st.o.Bucket == "plain" {
			st.o.VersionID = ""
		}
		c := *st.o
		if _, _, err := s.PutReplica(ctx, &c); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := statsOf(t, s); !maps.Equal(got, st.want) {
			t.Fatalf("after %s: counters %v, want %v", st.name, got, st.want)
		}
	}
}
