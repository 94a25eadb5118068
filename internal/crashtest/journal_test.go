package crashtest

import (
	"context"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// TestCrashOrphansAreJournaled: right after a SIGKILL in the middle of
// PUTs, overwrites, deletes and multipart uploads, every blob file on disk
// is either referenced by the metadata or in the pending-write journal,
// so the start-up sweep, which reads only the journal, finds every orphan
// (checkRefs after the restart proves it left none).
func TestCrashOrphansAreJournaled(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	dataDir, model, srv, c := startCrashRun(t)
	unjournaled, orphans := 0, 0
	for round := 1; round <= 3; round++ {
		killAfter := 500*time.Millisecond + time.Duration(rng.Int64N(int64(1500*time.Millisecond)))
		load(t, c, srv, model, seed+uint64(round)*1000, killAfter)
		if t.Failed() {
			t.FailNow()
		}
		o, u := journalCovers(t, dataDir, round)
		orphans += o
		unjournaled += u
		srv = startServer(t, dataDir)
		c = newClient(srv.url)
		verify(t, c, model, round)
		srv.stop(t)
		checkRefs(t, dataDir, round)
		if t.Failed() {
			t.FailNow()
		}
		srv = startServer(t, dataDir)
		c = newClient(srv.url)
	}
	t.Logf("%d orphans found after the kills, all journaled", orphans)
	if unjournaled != 0 {
		t.Fatalf("%d orphan blobs were not journaled", unjournaled)
	}
}

// startCrashRun starts a server on a new data directory with the test's
// bucket, and the model of the workers' keys.
func startCrashRun(t *testing.T) (dataDir string, model map[string]*keyState, srv *proc, c *client) {
	t.Helper()
	dataDir = t.TempDir()
	model = make(map[string]*keyState)
	for w := range workers {
		for k := range keysPerWorker {
			model[keyName(w, k)] = &keyState{}
		}
	}
	srv = startServer(t, dataDir)
	c = newClient(srv.url)
	if _, _, err := c.ok(http.MethodPut, "", nil, nil); err != nil {
		t.Fatalf("creating the bucket: %v", err)
	}
	return dataDir, model, srv, c
}

// journalCovers checks a killed node's data directory: each blob file is
// referenced or journaled. It returns the orphans and the unjournaled ones.
func journalCovers(t *testing.T, dataDir string, round int) (orphans, unjournaled int) {
	t.Helper()
	files, _ := countBlobs(t, dataDir)
	m, err := bolt.Open(filepath.Join(dataDir, "meta.db"))
	if err != nil {
		t.Fatalf("round %d: opening the metadata: %v", round, err)
	}
	defer m.Close()
	ctx := context.Background()
	refs, pending := map[string]bool{}, map[string]bool{}
	if err := m.BlobRefs(ctx, func(id string) error { refs[id] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := m.ListPending(ctx, time.Now().Add(time.Hour), func(id string, _ time.Time) error { pending[id] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if refs[f] {
			continue
		}
		orphans++
		if !pending[f] {
			unjournaled++
			t.Errorf("round %d: orphan blob %s is not journaled", round, f)
		}
	}
	t.Logf("round %d: %d blob files, %d orphans, %d journal entries", round, len(files), orphans, len(pending))
	return orphans, unjournaled
}
