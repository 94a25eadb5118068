package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/replication"
)

// TestCrashDuringReplication SIGKILLs the server while writes (objects and
// delete markers) keep the replication queue busy, restarts it, lets the
// queue drain, and checks that every source version, every acknowledged
// one among them, was replicated exactly once: the destination holds the
// same version IDs, each once, with the same bytes, and every source
// version is COMPLETED. The queue is durable (an entry is removed only in
// the transaction that records the outcome) and a transfer repeated after
// the crash finds its replica already there.
func TestCrashDuringReplication(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	src, dst := newClient(srv.url), newClient(srv.url)
	src.bucket, dst.bucket = "replsrc", "repldst"
	vc := []byte("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>")
	for _, c := range []*client{src, dst} {
		if _, _, err := c.ok(http.MethodPut, "", nil, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ok(http.MethodPut, "", url.Values{"versioning": {""}}, vc); err != nil {
			t.Fatal(err)
		}
	}
	srv.stop(t)
	// The configuration goes in directly (its handlers are another
	// branch's).
	cfg := &replication.Config{Rules: []replication.Rule{{ID: "all", Enabled: true, DeleteMarkers: true, Destination: replication.Destination{Bucket: dst.bucket}}}}
	withMeta(t, dataDir, func(m *bolt.Store) {
		if err := m.UpdateBucket(context.Background(), src.bucket, func(b *meta.Bucket) error {
			b.Config = map[string][]byte{replication.ConfigName: cfg.Encode()}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})

	// One transfer at a time, so the writers outrun the queue.
	args := []string{"--replication-workers", "1"}
	srv = startServer(t, dataDir, args...)
	src.base, dst.base = srv.url, srv.url
	body := func(key string, n int) []byte {
		size := 200
		if n%4 == 0 {
			size = 48 << 10 // a blob, not inline
		}
		return content(uint64(len(key))*31+uint64(n), size, nil)
	}
	var (
		mu     sync.Mutex
		acked  = map[string][]byte{} // version ID -> bytes (nil: a delete marker)
		killed atomic.Bool
		wg     sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !killed.Load(); n++ {
				key := fmt.Sprintf("w%d/k%d", w, n%5)
				var data []byte
				method := http.MethodDelete
				if n%7 != 6 {
					method, data = http.MethodPut, body(key, n)
				}
				_, h, err := src.ok(method, key, nil, data)
				if err != nil {
					return // the kill
				}
				mu.Lock()
				acked[h.Get("x-amz-version-id")] = data
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	killed.Store(true)
	srv.kill()
	wg.Wait()
	var backlog int
	withMeta(t, dataDir, func(m *bolt.Store) {
		es, err := m.NextReplications(context.Background(), 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		backlog = len(es)
	})
	t.Logf("SIGKILL with %d versions acknowledged and %d queued", len(acked), backlog)
	if backlog == 0 {
		t.Log("the queue was empty at the kill: the crash did not land mid-backlog this time")
	}

	srv = startServer(t, dataDir, args...)
	src.base, dst.base = srv.url, srv.url
	deadline := time.Now().Add(90 * time.Second)
	for {
		b, err := admin(src, srv.url, http.MethodGet, "replication/"+src.bucket)
		if err != nil {
			t.Fatal(err)
		}
		var st []struct{ Backlog int64 }
		if err := json.Unmarshal(b, &st); err != nil || len(st) != 1 {
			t.Fatalf("status %s: %v", b, err)
		}
		if st[0].Backlog == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog %d not drained after the restart", st[0].Backlog)
		}
		time.Sleep(100 * time.Millisecond)
	}

	srcVs, err := src.listVersions()
	if err != nil {
		t.Fatal(err)
	}
	dstVs, err := dst.listVersions()
	if err != nil {
		t.Fatal(err)
	}
	inSrc := map[string]listedVersion{}
	for _, v := range srcVs {
		inSrc[v.ID] = v
	}
	for id := range acked {
		if _, ok := inSrc[id]; !ok {
			t.Errorf("acknowledged version %s is missing from the source", id)
		}
	}
	copies := map[string]int{}
	for _, v := range dstVs {
		copies[v.ID]++
		if _, ok := inSrc[v.ID]; !ok {
			t.Errorf("the destination holds version %s of %s, which the source never had", v.ID, v.Key)
		}
	}
	for _, v := range srcVs {
		if n := copies[v.ID]; n != 1 {
			t.Errorf("source version %s of %s has %d replicas, want 1", v.ID, v.Key, n)
			continue
		}
		if v.XMLName.Local == "DeleteMarker" {
			continue // checked in the metadata below
		}
		q := url.Values{"versionId": {v.ID}}
		sb, sh, err := src.ok(http.MethodGet, v.Key, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s := sh.Get("x-amz-replication-status"); s != replication.StatusCompleted {
			t.Errorf("source %s %s: status %q, want COMPLETED", v.Key, v.ID, s)
		}
		db, dh, err := dst.ok(http.MethodGet, v.Key, q, nil)
		if err != nil || !bytes.Equal(sb, db) || dh.Get("x-amz-replication-status") != replication.StatusReplica {
			t.Errorf("replica of %s %s: %d bytes (source %d), status %q, err %v", v.Key, v.ID, len(db), len(sb), dh.Get("x-amz-replication-status"), err)
		}
		if data, ok := acked[v.ID]; ok && !bytes.Equal(data, sb) {
			t.Errorf("source %s %s does not hold the acknowledged bytes", v.Key, v.ID)
		}
	}
	t.Logf("%d source versions, %d replicas, each exactly once", len(srcVs), len(dstVs))
	srv.stop(t)
	checkRefs(t, dataDir, 1)
	withMeta(t, dataDir, func(m *bolt.Store) {
		for _, v := range srcVs {
			if v.XMLName.Local != "DeleteMarker" {
				continue
			}
			o, err := m.GetObjectVersion(context.Background(), src.bucket, v.Key, v.ID)
			if err != nil || o.ReplicationStatus != replication.StatusCompleted {
				t.Errorf("source delete marker %s %s: %+v %v, want COMPLETED", v.Key, v.ID, o, err)
			}
		}
	})
}

// withMeta opens a stopped node's metadata for fn.
func withMeta(t *testing.T, dataDir string, fn func(*bolt.Store)) {
	t.Helper()
	m, err := bolt.Open(filepath.Join(dataDir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	fn(m)
}
