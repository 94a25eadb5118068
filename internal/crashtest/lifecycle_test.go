package crashtest

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

// TestCrashDuringLifecyclePass SIGKILLs the server in the middle of a
// lifecycle pass that expires 3,000 objects (paced so the pass spans
// several steps), restarts it and checks that the pass resumes by itself,
// expires every object it should exactly once (none is left, none counted
// twice), leaves every other object byte for byte, and leaves no blob
// orphaned or missing.
func TestCrashDuringLifecyclePass(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	const expiring, kept = 3000, 100
	dataDir := t.TempDir()
	args := []string{"--lifecycle-rate", "1500"}
	srv := startServer(t, dataDir, args...)
	c := newClient(srv.url)
	c.bucket = "crashlc"
	if _, _, err := c.ok(http.MethodPut, "", nil, nil); err != nil {
		t.Fatalf("creating the bucket: %v", err)
	}
	body := func(key string) []byte {
		n := 100
		if strings.HasSuffix(key, "0") { // one in ten is a blob, not inline
			n = 40 << 10
		}
		return content(uint64(len(key))*7919+uint64(key[len(key)-1]), n, nil)
	}
	var keys []string
	for i := range expiring {
		keys = append(keys, fmt.Sprintf("tmp/%05d", i))
	}
	for i := range kept {
		keys = append(keys, fmt.Sprintf("keep/%05d", i))
	}
	putAll(t, c, keys, body)

	// Every tmp/ object expires at once (a date in the past).
	doc := []byte(`<LifecycleConfiguration><Rule><ID>tmp</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Date>2020-01-01T00:00:00.000Z</Date></Expiration></Rule></LifecycleConfiguration>`)
	sum := md5.Sum(doc)
	req, _ := http.NewRequest(http.MethodPut, srv.url+"/"+c.bucket+"?lifecycle", bytes.NewReader(doc))
	req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	auth.SignV4(req, accessKey, secretKey, region, time.Now(), "")
	if resp, err := c.hc.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("putting the lifecycle: %v %v", resp, err)
	}

	// Run a pass and kill the server while it runs (1,000 objects a step,
	// paced at 1,500 objects/s: the kill lands mid-step or between steps).
	go admin(c, srv.url, http.MethodPost, "jobs/lifecycle/run")
	time.Sleep(1200 * time.Millisecond)
	srv.kill()
	left := countPrefix(t, dataDir, "tmp/")
	t.Logf("SIGKILL mid-pass: %d of %d expiring objects left", left, expiring)

	srv = startServer(t, dataDir, args...)
	c.base = srv.url
	j := jobState(t, c, srv.url)
	if !j.PassStarted.IsZero() {
		// Interrupted: the restarted node resumes it by itself.
		t.Logf("the restarted node finds the pass interrupted (cursor %s); waiting for it to resume", j.Cursor)
		deadline := time.Now().Add(60 * time.Second)
		for jobState(t, c, srv.url).Passes < j.Passes+1 && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
	} else if _, err := admin(c, srv.url, http.MethodPost, "jobs/lifecycle/run"); err != nil {
		t.Fatal(err) // the kill came before the pass began or after it ended
	}
	j = jobState(t, c, srv.url)
	if !j.PassStarted.IsZero() {
		t.Fatalf("the pass did not finish after the restart: %+v", j)
	}
	if j.Total["expired"] > expiring {
		t.Errorf("%d expirations counted for %d objects: some were repeated", j.Total["expired"], expiring)
	}

	objs, err := c.list()
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != kept {
		t.Errorf("%d objects listed after the pass, want the %d kept ones", len(objs), kept)
	}
	for _, k := range keys[expiring:] {
		b, err := c.get(k)
		if err != nil || !bytes.Equal(b, body(k)) {
			t.Errorf("%s: %d bytes, err %v: a kept object changed", k, len(b), err)
		}
	}
	srv.stop(t)
	checkRefs(t, dataDir, 1)
}

// putAll writes every key, 8 at a time.
func putAll(t *testing.T, c *client, keys []string, body func(string) []byte) {
	t.Helper()
	var wg sync.WaitGroup
	next := make(chan string)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				if err := c.put(k, body(k)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for _, k := range keys {
		next <- k
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// admin calls the node's admin API as root.
func admin(c *client, base, method, path string) ([]byte, error) {
	req, err := http.NewRequest(method, base+"/_strongroom/admin/v1/"+path, http.NoBody)
	if err != nil {
		return nil, err
	}
	auth.SignV4(req, accessKey, secretKey, region, time.Now(), "")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b.String())
	}
	return b.Bytes(), nil
}

func jobState(t *testing.T, c *client, base string) *meta.Job {
	t.Helper()
	b, err := admin(c, base, http.MethodGet, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	var js []*meta.Job
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	for _, j := range js {
		if j.Name == "lifecycle" {
			return j
		}
	}
	t.Fatalf("no lifecycle job in %s", b)
	return nil
}

// countPrefix counts a prefix's objects in the (stopped) node's metadata.
func countPrefix(t *testing.T, dataDir, prefix string) int {
	t.Helper()
	m, err := bolt.Open(filepath.Join(dataDir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n := 0
	if err := m.ListObjects(t.Context(), "crashlc", prefix, "", func(*meta.Object) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
