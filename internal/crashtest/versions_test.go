package crashtest

import (
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCrashDuringVersionedOverwrites SIGKILLs the server while workers
// overwrite and delete keys of a versioned bucket. After each restart
// every acknowledged version is there under its version ID with its bytes
// (delete markers as markers), newest first; no version ID appears twice;
// the only versions nobody acknowledged are the in-flight operations' (at
// most one per key); and the blob files are exactly those referenced.
func TestCrashDuringVersionedOverwrites(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CRASHTEST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	c := versionedClient(srv.url)
	if _, _, err := c.ok(http.MethodPut, "", nil, nil); err != nil {
		t.Fatalf("creating the bucket: %v", err)
	}
	vc := []byte("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>")
	if _, _, err := c.ok(http.MethodPut, "", url.Values{"versioning": {""}}, vc); err != nil {
		t.Fatalf("enabling versioning: %v", err)
	}
	model := map[string]*versionHistory{}
	for w := range workers {
		for k := range keysPerWorker / 2 {
			model[keyName(w, k)] = &versionHistory{}
		}
	}
	const vrounds = 2
	total := 0
	for round := 1; round <= vrounds; round++ {
		killAfter := 1500*time.Millisecond + time.Duration(rng.Int64N(int64(1500*time.Millisecond)))
		n := loadVersions(t, c, srv, model, seed+uint64(round)*7919, killAfter)
		total += n
		t.Logf("round %d: SIGKILL after %v; %d versioned operations acknowledged", round, killAfter.Round(time.Millisecond), n)
		srv = startServer(t, dataDir)
		c = versionedClient(srv.url)
		verifyVersions(t, c, model, round)
		srv.stop(t)
		checkRefs(t, dataDir, round)
		if t.Failed() {
			t.FailNow()
		}
		if round < vrounds {
			srv = startServer(t, dataDir)
			c = versionedClient(srv.url)
		}
	}
	if total < 20 {
		t.Errorf("only %d operations acknowledged: the test exercised too little", total)
	}
}

func versionedClient(base string) *client {
	c := newClient(base)
	c.bucket = "crashver"
	return c
}

// aVersion is one version of a key: a delete marker or content.
type aVersion struct {
	id     string // "" while unknown (the in-flight operation)
	marker bool
	size   int
	sum    [32]byte
}

// versionHistory is a key's acknowledged versions, oldest first, and the
// version its in-flight operation would add.
type versionHistory struct {
	acked   []aVersion
	pending *aVersion
}

func loadVersions(t *testing.T, c *client, srv *proc, model map[string]*versionHistory, seed uint64, killAfter time.Duration) int {
	var killed atomic.Bool
	var acked atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			var buf []byte
			for {
				key := keyName(w, r.IntN(keysPerWorker/2))
				var v aVersion
				var h http.Header
				var err error
				switch x := r.IntN(100); {
				case x < 15:
					v.marker = true
					_, h, err = c.ok(http.MethodDelete, key, nil, nil)
					if err == nil && h.Get("x-amz-delete-marker") != "true" {
						err = fmt.Errorf("DELETE %s: no delete marker", key)
					}
				case x < 25:
					v.size = partSize + 1 + r.IntN(partSize)
					buf = content(r.Uint64(), v.size, buf)
					v.sum = sha256.Sum256(buf)
					h, err = c.multipartH(key, buf)
				default:
					v.size = r.IntN(128 << 10)
					buf = content(r.Uint64(), v.size, buf)
					v.sum = sha256.Sum256(buf)
					_, h, err = c.ok(http.MethodPut, key, nil, buf)
				}
				mu.Lock()
				hist := model[key]
				if err == nil {
					v.id = h.Get("x-amz-version-id")
					hist.acked = append(hist.acked, v)
					hist.pending = nil
					acked.Add(1)
				} else {
					hist.pending = &v
				}
				mu.Unlock()
				if err == nil && v.id == "" {
					t.Errorf("worker %d: %s acknowledged without a version ID", w, key)
					return
				}
				if err != nil {
					if !killed.Load() {
						t.Errorf("worker %d: %s failed before the kill: %v\nserver log:\n%s", w, key, err, srv.logText())
					}
					return
				}
			}
		}()
	}
	time.Sleep(killAfter)
	killed.Store(true)
	srv.kill()
	wg.Wait()
	return int(acked.Load())
}

type listedVersion struct {
	XMLName  xml.Name
	Key      string
	ID       string `xml:"VersionId"`
	IsLatest bool
	Size     int64
}

// listVersions pages through ListObjectVersions (small pages, to cross
// page boundaries inside keys).
func (c *client) listVersions() ([]listedVersion, error) {
	var all []listedVersion
	km, vm := "", ""
	for {
		q := url.Values{"versions": {""}, "max-keys": {"7"}}
		if km != "" {
			q.Set("key-marker", km)
			q.Set("version-id-marker", vm)
		}
		b, _, err := c.ok(http.MethodGet, "", q, nil)
		if err != nil {
			return nil, err
		}
		var r struct {
			Entries             []listedVersion `xml:",any"`
			IsTruncated         bool
			NextKeyMarker       string
			NextVersionIdMarker string
		}
		if err := xml.Unmarshal(b, &r); err != nil {
			return nil, err
		}
		for _, e := range r.Entries {
			if e.XMLName.Local == "Version" || e.XMLName.Local == "DeleteMarker" {
				all = append(all, e)
			}
		}
		if !r.IsTruncated {
			return all, nil
		}
		km, vm = r.NextKeyMarker, r.NextVersionIdMarker
	}
}

func verifyVersions(t *testing.T, c *client, model map[string]*versionHistory, round int) {
	t.Helper()
	listed, err := c.listVersions()
	if err != nil {
		t.Fatalf("round %d: listing versions: %v", round, err)
	}
	byKey := map[string][]listedVersion{}
	seen := map[string]bool{}
	for _, v := range listed {
		if seen[v.ID] {
			t.Errorf("round %d: version %s listed twice", round, v.ID)
		}
		seen[v.ID] = true
		if model[v.Key] == nil {
			t.Errorf("round %d: listed %q, which no one wrote", round, v.Key)
		}
		byKey[v.Key] = append(byKey[v.Key], v)
	}
	for key, hist := range model {
		got := byKey[key] // newest first
		want := len(hist.acked)
		extra := len(got) - want
		if extra < 0 || extra > 1 || extra == 1 && hist.pending == nil {
			t.Errorf("round %d: %s has %d versions, %d acknowledged (in flight: %v)", round, key, len(got), want, hist.pending != nil)
			continue
		}
		// The newest may be the in-flight operation's; the rest are the
		// acknowledged ones, newest first.
		if extra == 1 {
			p := *hist.pending
			p.id = got[0].ID
			if err := c.checkVersion(key, got[0], p); err != nil {
				t.Errorf("round %d: in-flight version: %v", round, err)
			}
			hist.acked = append(hist.acked, p)
			got = got[1:]
		}
		hist.pending = nil
		for i, v := range got {
			a := hist.acked[want-1-i]
			if v.ID != a.id {
				t.Errorf("round %d: %s version %d is %s, want acknowledged %s", round, key, i, v.ID, a.id)
				continue
			}
			if err := c.checkVersion(key, v, a); err != nil {
				t.Errorf("round %d: %v", round, err)
			}
		}
		if len(byKey[key]) > 0 && !byKey[key][0].IsLatest {
			t.Errorf("round %d: %s: the newest version is not marked latest", round, key)
		}
	}
}

// checkVersion reads one listed version and compares it with the model.
func (c *client) checkVersion(key string, l listedVersion, want aVersion) error {
	if (l.XMLName.Local == "DeleteMarker") != want.marker {
		return fmt.Errorf("%s@%s: listed as %s, want marker %v", key, l.ID, l.XMLName.Local, want.marker)
	}
	if want.marker {
		return nil
	}
	resp, b, err := c.do(http.MethodGet, key, url.Values{"versionId": {l.ID}}, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || len(b) != want.size || sha256.Sum256(b) != want.sum || l.Size != int64(want.size) {
		return fmt.Errorf("%s@%s: %s, %d bytes (listed %d), want %d bytes of the acknowledged content", key, l.ID, resp.Status, len(b), l.Size, want.size)
	}
	return nil
}
