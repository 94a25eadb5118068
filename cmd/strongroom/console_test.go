package main

import (
	"crypto/tls"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestServeConsole: --console-addr serves the console on its own
// listener, over HTTPS with the --tls-self-signed certificate, and the
// banner names it; without the flag there is none.
func TestServeConsole(t *testing.T) {
	t.Setenv("STRONGROOM_ROOT_KEY", "")
	data := filepath.Join(t.TempDir(), "data")
	banner, stopServe := startServe(t, "--addr", "127.0.0.1:0", "--data", data, "--tls-self-signed", "--console-addr", "127.0.0.1:0")
	stop := sync.OnceValue(stopServe)
	defer stop()
	url := bannerValue(banner, "operator console:")
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("banner %q: want the console's https URL", banner)
	}
	main := strings.TrimPrefix(bannerValue(banner, "strongroom serving"), "https://")
	if strings.HasSuffix(url, main) {
		t.Fatalf("the console shares the main listener %s", main)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("GET /login: %d %v", resp.StatusCode, resp.Header)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	banner, stopServe = startServe(t, "--addr", "127.0.0.1:0", "--data", data)
	defer stopServe()
	if v := bannerValue(banner, "operator console:"); v != "" {
		t.Fatalf("a console without --console-addr: %q", v)
	}
}
