package bolt

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// TestListObjectVersionsBoundedMemory lists 100k versions of few keys and
// checks the heap stays bounded: the store reads chunks, never the whole
// version index.
func TestListObjectVersionsBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("100k versions")
	}
	s, _ := openTemp(t)
	mustBucket(t, s, "b")
	setVersioning(t, s, "b", meta.VersioningEnabled)
	const n = 100_000
	pad := strings.Repeat("x", 512)
	// Transactions of 2000 installs, without fsync (setup only): fast, and
	// small enough that bbolt's unsplit nodes stay cheap to insert into.
	s.db.NoSync = true
	for start := 0; start < n; start += 2000 {
		err := s.db.Update(func(tx *bbolt.Tx) error {
			d, err := data(tx, "b")
			if err != nil {
				return err
			}
			for i := start; i < start+2000; i++ {
				o := obj("b", fmt.Sprintf("key-%02d", i%50), fmt.Sprintf("blob-%d", i))
				o.UserMeta = map[string]string{"pad": pad}
				if _, err := install(tx, d, o, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.db.NoSync = false
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	count, latest := 0, 0
	err := s.ListObjectVersions(ctx, "b", "", "", "", func(o *meta.Object, l bool) error {
		if count++; count%5000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		if l {
			latest++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != n || latest != 50 {
		t.Fatalf("listed %d versions (%d latest), want %d (50)", count, latest, n)
	}
	// 100k decoded versions would hold ~100 MB; a chunk holds ~1 MB.
	if grew := int64(peak) - int64(base); grew > 16<<20 {
		t.Fatalf("heap grew by %d MiB while listing", grew>>20)
	}
	t.Logf("heap growth while listing %d versions: %d KiB", n, (int64(peak)-int64(base))>>10)
}
