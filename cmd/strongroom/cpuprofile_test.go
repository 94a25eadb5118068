package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"
)

// TestServeCPUProfile: serve --cpuprofile writes a CPU profile when the
// server stops, with its samples labelled by request method and path
// (the bucket and the key's first segment, not the rest of the key).
func TestServeCPUProfile(t *testing.T) {
	t.Setenv("STRONGROOM_ROOT_KEY", "")
	dir := t.TempDir()
	prof := filepath.Join(dir, "cpu.pprof")
	banner, stop := startServe(t, "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--cpuprofile", prof)
	url := bannerValue(banner, "strongroom serving")
	if !strings.HasPrefix(url, "http://") {
		stop()
		t.Fatalf("banner address %q", url)
	}
	// Unsigned requests are refused, but served (and sampled) all the same.
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		resp, err := http.Get(url + "/labelbkt/labelmode-r1/obj-secret")
		if err != nil {
			stop()
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(prof)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("not a gzipped profile: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// The labels' keys and values are in the profile's string table.
	for _, s := range []string{"op", "GET", "path", "/labelbkt/labelmode-r1"} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("the profile has no %q", s)
		}
	}
	if bytes.Contains(b, []byte("obj-secret")) {
		t.Error("a label holds the whole key")
	}
}

// TestServeCPUProfileRefused: a --cpuprofile that cannot be written, or
// while another CPU profile runs, fails the start before anything is
// created, and leaves the other profile sampling.
func TestServeCPUProfileRefused(t *testing.T) {
	t.Setenv("STRONGROOM_ROOT_KEY", "")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := serveOnce(t, "--addr", "127.0.0.1:0", "--data", data, "--cpuprofile", filepath.Join(dir, "no", "such", "dir", "cpu.pprof")); err == nil {
		t.Error("a profile in a missing directory was accepted")
	}
	var other bytes.Buffer
	if err := pprof.StartCPUProfile(&other); err != nil {
		t.Skipf("this test binary already profiles (go test -cpuprofile): %v", err)
	}
	_, err := serveOnce(t, "--addr", "127.0.0.1:0", "--data", data, "--cpuprofile", filepath.Join(dir, "cpu.pprof"))
	burnCPUForProfileTest(300 * time.Millisecond)
	pprof.StopCPUProfile()
	if err == nil || !strings.Contains(err.Error(), "cpu profile") {
		t.Errorf("a second CPU profile: %v, want refused", err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the refused starts created the data directory: %v", err)
	}
	zr, err := gzip.NewReader(&other)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(zr)
	if !bytes.Contains(b, []byte("burnCPUForProfileTest")) {
		t.Error("the running profile stopped sampling when the second was refused")
	}
}

// burnCPUForProfileTest spins for d, for a profile to sample it by name.
func burnCPUForProfileTest(d time.Duration) {
	x := uint64(1)
	for end := time.Now().Add(d); time.Now().Before(end); {
		for range 10000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	if x == 0 {
		panic("unreachable")
	}
}

// TestBenchServerProfileNeedsChild: --server-cpuprofile profiles the child
// server bench starts; with --endpoint there is none, and it is refused.
func TestBenchServerProfileNeedsChild(t *testing.T) {
	err := run([]string{"bench", "--endpoint", "http://127.0.0.1:1", "--server-cpuprofile", filepath.Join(t.TempDir(), "cpu.pprof")}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--server-cpuprofile") {
		t.Errorf("bench --endpoint --server-cpuprofile: %v, want refused", err)
	}
}
