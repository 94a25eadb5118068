// Package crashtest kills a real strongroom server process with SIGKILL in
// the middle of uploads, restarts it on the same data directory and checks
// the durability contract of the embedded storage:
//
//   - every acknowledged write is there, byte for byte;
//   - no partial object is ever listed or served: each key holds the state
//     of its last acknowledged operation or of the operation that was in
//     flight when the process died, nothing else;
//   - the start-up sweep leaves no orphan: the blob files on disk are
//     exactly the blobs the metadata references, and blobs/tmp is empty.
//
// Each worker owns a set of keys and operates on them one request at a
// time (small PUTs, multipart uploads, deletes), so for every key there is
// at most one operation whose outcome is unknown when the kill lands.
package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

const (
	accessKey = "crashtestroot"
	secretKey = "crashtest-secret-key-0123456789"
	region    = "us-east-1"
	bucket    = "crash"

	workers       = 8
	keysPerWorker = 10
	rounds        = 3
	partSize      = 5 << 20 // the minimum for all parts but the last
)

var binary string // the strongroom binary built by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "crashtest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "strongroom")
	cmd := exec.Command("go", "build", "-o", binary, "github.com/strongroom-dev/strongroom/cmd/strongroom")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "crashtest: building strongroom:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// --- the server process -------------------------------------------------

type proc struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	log  *bytes.Buffer
}

var logMu sync.Mutex

type lockedWriter struct{ b *bytes.Buffer }

func (w lockedWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return w.b.Write(p)
}

func startServer(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{}), log: new(bytes.Buffer)}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--log-level", "warn"}, extra...)
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), "STRONGROOM_ROOT_ACCESS_KEY="+accessKey, "STRONGROOM_ROOT_SECRET_KEY="+secretKey)
	p.cmd.Stderr = lockedWriter{p.log}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "strongroom serving "); ok {
				found <- strings.TrimSpace(u)
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case p.url = <-found:
		return p
	case <-p.done:
		t.Fatalf("server exited at start: %s", p.logText())
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start: %s", p.logText())
	}
	return nil
}

func (p *proc) logText() string {
	logMu.Lock()
	defer logMu.Unlock()
	return p.log.String()
}

// kill sends SIGKILL and reaps the process.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

// stop shuts the server down gracefully.
func (p *proc) stop(t *testing.T) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Errorf("server did not stop on SIGTERM: %s", p.logText())
		p.kill()
	}
}

// --- a minimal signed S3 client -----------------------------------------

type client struct {
	base   string
	bucket string
	hc     *http.Client
}

func newClient(base string) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: workers * 2, DisableCompression: true}
	return &client{base: base, bucket: bucket, hc: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

func (c *client) do(method, key string, query url.Values, body []byte) (*http.Response, []byte, error) {
	u := c.base + "/" + c.bucket
	if key != "" {
		u += "/" + key
	}
	if len(query) > 0 {
		u += "?" + strings.ReplaceAll(query.Encode(), "+", "%20")
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	auth.SignV4(req, accessKey, secretKey, region, time.Now(), "")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, nil, err
	}
	return resp, b, nil
}

// ok requires a 2xx answer.
func (c *client) ok(method, key string, query url.Values, body []byte) ([]byte, http.Header, error) {
	resp, b, err := c.do(method, key, query, body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, nil, fmt.Errorf("%s %s?%s: %s: %s", method, key, query.Encode(), resp.Status, b)
	}
	return b, resp.Header, nil
}

func (c *client) put(key string, data []byte) error {
	_, _, err := c.ok(http.MethodPut, key, nil, data)
	return err
}

func (c *client) multipart(key string, data []byte) error {
	_, err := c.multipartH(key, data)
	return err
}

// multipartH uploads in parts and returns the completion's headers.
func (c *client) multipartH(key string, data []byte) (http.Header, error) {
	b, _, err := c.ok(http.MethodPost, key, url.Values{"uploads": {""}}, nil)
	if err != nil {
		return nil, err
	}
	var init struct{ UploadId string }
	if err := xml.Unmarshal(b, &init); err != nil || init.UploadId == "" {
		return nil, fmt.Errorf("CreateMultipartUpload: %v: %s", err, b)
	}
	type part struct {
		PartNumber int
		ETag       string
	}
	var parts []part
	for n, off := 1, 0; off < len(data); n++ {
		end := min(off+partSize, len(data))
		if len(data)-end < partSize/4 && end < len(data) {
			end = len(data) // a short tail joins the last part
		}
		_, h, err := c.ok(http.MethodPut, key, url.Values{"partNumber": {strconv.Itoa(n)}, "uploadId": {init.UploadId}}, data[off:end])
		if err != nil {
			return nil, err
		}
		parts = append(parts, part{n, h.Get("ETag")})
		off = end
	}
	var x bytes.Buffer
	x.WriteString("<CompleteMultipartUpload>")
	for _, p := range parts {
		fmt.Fprintf(&x, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", p.PartNumber, p.ETag)
	}
	x.WriteString("</CompleteMultipartUpload>")
	b, h, err := c.ok(http.MethodPost, key, url.Values{"uploadId": {init.UploadId}}, x.Bytes())
	if err != nil {
		return nil, err
	}
	// Complete may report an error in a 200 body.
	if bytes.Contains(b, []byte("<Error>")) {
		return nil, fmt.Errorf("CompleteMultipartUpload: %s", b)
	}
	return h, nil
}

func (c *client) del(key string) error {
	_, _, err := c.ok(http.MethodDelete, key, nil, nil)
	return err
}

// get returns the object's bytes, or nil and no error when there is none.
func (c *client) get(key string) ([]byte, error) {
	resp, b, err := c.do(http.MethodGet, key, nil, nil)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(b)) {
			return nil, fmt.Errorf("GET %s: Content-Length %s, got %d bytes", key, cl, len(b))
		}
		return b, nil
	case http.StatusNotFound:
		return nil, nil
	}
	return nil, fmt.Errorf("GET %s: %s: %s", key, resp.Status, b)
}

type listed struct {
	Key  string
	Size int64
}

func (c *client) list() ([]listed, error) {
	var all []listed
	token := ""
	for {
		q := url.Values{"list-type": {"2"}, "max-keys": {"1000"}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		b, _, err := c.ok(http.MethodGet, "", q, nil)
		if err != nil {
			return nil, err
		}
		var r struct {
			Contents              []listed
			IsTruncated           bool
			NextContinuationToken string
		}
		if err := xml.Unmarshal(b, &r); err != nil {
			return nil, err
		}
		all = append(all, r.Contents...)
		if !r.IsTruncated {
			return all, nil
		}
		token = r.NextContinuationToken
	}
}

// --- the model ----------------------------------------------------------

// state is what a key holds: nothing, or the content generated from seed.
type state struct {
	exists bool
	seed   uint64
	size   int
	sum    [32]byte
}

func (s state) String() string {
	if !s.exists {
		return "absent"
	}
	return fmt.Sprintf("%d bytes (seed %d)", s.size, s.seed)
}

// keyState is a key's last acknowledged state and, when an operation's
// outcome is unknown (the process died under it), the state it would have
// left.
type keyState struct {
	acked   state
	pending *state
	ackOps  int // acknowledged operations over the whole test
}

func content(seed uint64, size int, buf []byte) []byte {
	buf = slices.Grow(buf[:0], size)[:size]
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24), byte(seed >> 32), byte(seed >> 40), 7})
	r.Read(buf)
	return buf
}

func keyName(w, k int) string { return fmt.Sprintf("w%d/k%02d", w, k) }

// --- the test -----------------------------------------------------------

func TestCrashDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CRASHTEST_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (set CRASHTEST_SEED to replay the same operation mix)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	dataDir, model, srv, c := startCrashRun(t)

	var totalAcked, totalPending int
	// A loaded machine acknowledges few operations per round: run more
	// rounds (up to three times as many) until enough were exercised.
	another := func(round int) bool { return round <= rounds || (totalAcked < 20 && round <= 3*rounds) }
	round := 1
	for ; another(round); round++ {
		killAfter := 700*time.Millisecond + time.Duration(rng.Int64N(int64(1800*time.Millisecond)))
		acked, pending := load(t, c, srv, model, seed+uint64(round)*1000, killAfter)
		totalAcked += acked
		totalPending += pending
		t.Logf("round %d: SIGKILL after %v; %d operations acknowledged, %d in flight", round, killAfter.Round(time.Millisecond), acked, pending)
		if t.Failed() {
			t.FailNow()
		}

		blobsBefore, tmpBefore := countBlobs(t, dataDir)
		srv = startServer(t, dataDir)
		c = newClient(srv.url)
		blobsAfter, tmpAfter := countBlobs(t, dataDir)
		t.Logf("round %d: restart swept %d blob files (%d -> %d), %d temp files removed", round, len(blobsBefore)-len(blobsAfter), len(blobsBefore), len(blobsAfter), tmpBefore)
		if tmpAfter != 0 {
			t.Errorf("round %d: blobs/tmp holds %d files after restart", round, tmpAfter)
		}
		verify(t, c, model, round)

		// Stop cleanly and compare the files to the metadata's references.
		srv.stop(t)
		checkRefs(t, dataDir, round)
		if t.Failed() {
			t.FailNow()
		}
		if another(round + 1) {
			srv = startServer(t, dataDir)
			c = newClient(srv.url)
		}
	}
	if totalAcked < 20 {
		t.Errorf("only %d operations were acknowledged in %d rounds: the test exercised too little", totalAcked, round-1)
	}
	t.Logf("%d acknowledged operations verified, %d in-flight outcomes resolved", totalAcked, totalPending)
}

// load runs the workers until the server is SIGKILLed after killAfter.
func load(t *testing.T, c *client, srv *proc, model map[string]*keyState, seed uint64, killAfter time.Duration) (acked, pending int) {
	var killed atomic.Bool
	var nAcked, nPending atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex // guards model entries' updates (each key has one writer)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			var buf []byte
			for op := 0; ; op++ {
				key := keyName(w, r.IntN(keysPerWorker))
				var next state
				var err error
				switch x := r.IntN(100); {
				case x < 12:
					next = state{}
					err = c.del(key)
				case x < 30:
					// Multipart: two or three parts.
					size := partSize + 1 + r.IntN(partSize+partSize/2)
					next = state{exists: true, seed: r.Uint64(), size: size}
					buf = content(next.seed, size, buf)
					next.sum = sha256.Sum256(buf)
					err = c.multipart(key, buf)
				default:
					size := r.IntN(256 << 10)
					if r.IntN(4) == 0 {
						size = r.IntN(64)
					}
					next = state{exists: true, seed: r.Uint64(), size: size}
					buf = content(next.seed, size, buf)
					next.sum = sha256.Sum256(buf)
					err = c.put(key, buf)
				}
				mu.Lock()
				ks := model[key]
				if err == nil {
					ks.acked, ks.pending = next, nil
					ks.ackOps++
					nAcked.Add(1)
				} else {
					n := next
					ks.pending = &n
					nPending.Add(1)
				}
				mu.Unlock()
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
	return int(nAcked.Load()), int(nPending.Load())
}

// verify checks every key against the model, and that nothing else is
// listed, then resolves unknown outcomes to what was found.
func verify(t *testing.T, c *client, model map[string]*keyState, round int) {
	t.Helper()
	objs, err := c.list()
	if err != nil {
		t.Fatalf("round %d: listing: %v", round, err)
	}
	sizes := make(map[string]int64, len(objs))
	for _, o := range objs {
		if _, ok := model[o.Key]; !ok {
			t.Errorf("round %d: listed %q, which no one wrote", round, o.Key)
		}
		sizes[o.Key] = o.Size
	}
	for key, ks := range model {
		b, err := c.get(key)
		if err != nil {
			t.Errorf("round %d: %v", round, err)
			continue
		}
		got := state{exists: b != nil, size: len(b)}
		if b != nil {
			got.sum = sha256.Sum256(b)
		}
		same := func(s state) bool {
			return s.exists == got.exists && (!s.exists || s.size == got.size && s.sum == got.sum)
		}
		size, isListed := sizes[key]
		switch {
		case isListed != got.exists:
			t.Errorf("round %d: %s: listed %v but GET found %v", round, key, isListed, got)
		case isListed && size != int64(got.size):
			t.Errorf("round %d: %s: listed with %d bytes, GET returned %d", round, key, size, got.size)
		}
		switch {
		case same(ks.acked):
		case ks.pending != nil && same(*ks.pending):
			ks.acked = *ks.pending
		default:
			want := "the acknowledged state " + ks.acked.String()
			if ks.pending != nil {
				want += " or the in-flight " + ks.pending.String()
			}
			t.Errorf("round %d: %s holds %d bytes (exists %v) matching neither %s", round, key, got.size, got.exists, want)
		}
		ks.pending = nil
	}
}

// countBlobs lists the committed blob files and counts the temp files.
func countBlobs(t *testing.T, dataDir string) (blobs []string, tmp int) {
	t.Helper()
	root := filepath.Join(dataDir, "blobs")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if strings.HasPrefix(rel, "tmp"+string(filepath.Separator)) {
			tmp++
			return nil
		}
		blobs = append(blobs, d.Name())
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return blobs, tmp
}

// checkRefs compares the blob files with the metadata's references (the
// server must be stopped: it holds the metadata file's lock).
func checkRefs(t *testing.T, dataDir string, round int) {
	t.Helper()
	files, tmp := countBlobs(t, dataDir)
	if tmp != 0 {
		t.Errorf("round %d: %d temp files after a clean stop", round, tmp)
	}
	m, err := bolt.Open(filepath.Join(dataDir, "meta.db"))
	if err != nil {
		t.Fatalf("round %d: opening the metadata: %v", round, err)
	}
	defer m.Close()
	refs := make(map[string]bool)
	if err := m.BlobRefs(context.Background(), func(id string) error { refs[id] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	onDisk := make(map[string]bool, len(files))
	for _, f := range files {
		onDisk[f] = true
		if !refs[f] {
			t.Errorf("round %d: orphan blob file %s (no metadata references it)", round, f)
		}
	}
	for id := range refs {
		if !onDisk[id] {
			t.Errorf("round %d: the metadata references blob %s, which is not on disk", round, id)
		}
	}
	t.Logf("round %d: %d blob files, all referenced, none missing", round, len(files))
}
