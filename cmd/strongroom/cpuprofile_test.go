package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
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
	if !strings.HasPrefix(url, "http://") {
		t.Errorf("banner address %q", url)
	}
}
