package bolt

import (
	"maps"
	"path/filepath"
	"sync"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
)

// TestContract runs the store contract (internal/meta/metatest) on bbolt.
func TestContract(t *testing.T) {
	var mu sync.Mutex
	paths := map[meta.Store]string{}
	open := func(t testing.TB, path string) meta.Store {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		mu.Lock()
		paths[s] = path
		mu.Unlock()
		return s
	}
	metatest.Run(t, metatest.Backend{
		Open: func(t testing.TB) meta.Store { return open(t, filepath.Join(t.TempDir(), "meta.db")) },
		Reopen: func(t testing.TB, s meta.Store) meta.Store {
			mu.Lock()
			path := paths[s]
			mu.Unlock()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, path)
		},
	})
}

func mustBucket(t testing.TB, s *Store, name string) { t.Helper(); metatest.MustBucket(t, s, name) }
func obj(bucket, key string, blobs ...string) *meta.Object {
	return metatest.Obj(bucket, key, blobs...)
}
func setVersioning(t testing.TB, s *Store, bucket, state string) {
	t.Helper()
	metatest.SetVersioning(t, s, bucket, state)
}

// statsOf reads the counters as "mode/alg" -> {objects, bytes}, without
// zero entries.
func statsOf(t *testing.T, s *Store) map[string][2]int64 {
	t.Helper()
	st, err := s.ObjectStats(ctx)
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

// TestObjectStatsSeededAtOpen: a database without counters (written
// before they existed) is counted once at open, to the same numbers.
func TestObjectStatsSeededAtOpen(t *testing.T) {
	s, path := openTemp(t)
	mustBucket(t, s, "plain")
	mustBucket(t, s, "ver")
	setVersioning(t, s, "ver", meta.VersioningEnabled)
	for i, o := range []*meta.Object{obj("plain", "a"), obj("plain", "b"), obj("ver", "k"), obj("ver", "k")} {
		o.Size = int64(10 * (i + 1))
		if i%2 == 1 {
			o.Encryption = &meta.Encryption{Mode: "kms", Algorithm: "AES256"}
		}
		if _, err := s.PutObject(ctx, o, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeleteObject(ctx, "ver", "k", nil); err != nil {
		t.Fatal(err)
	}
	before := statsOf(t, s)
	if want := map[string][2]int64{"/": {2, 40}, "kms/AES256": {2, 60}}; !maps.Equal(before, want) {
		t.Fatalf("counters %v, want %v", before, want)
	}
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bkStats) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := statsOf(t, s2); !maps.Equal(got, before) {
		t.Fatalf("seeded counters %v, want %v", got, before)
	}
}
