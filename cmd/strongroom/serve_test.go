package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startServe runs `strongroom serve ARGS` in-process and returns the
// banner's lines once it is printed, and a stop function.
func startServe(t *testing.T, args ...string) (banner []string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := serveUntil(ctx, args, pw, io.Discard)
		pw.CloseWithError(errors.New("serve ended"))
		done <- err
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		banner = append(banner, sc.Text())
		if strings.HasPrefix(sc.Text(), "  root access key:") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return errors.New("serve did not stop")
		}
	}
	if len(banner) == 0 {
		t.Fatalf("serve printed no banner: %v", stop())
	}
	return banner, stop
}

func bannerValue(banner []string, prefix string) string {
	for _, l := range banner {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestServeSelfSigned: --tls-self-signed serves HTTPS with a certificate
// whose SHA-256 fingerprint is the one printed, and keeps it across
// restarts.
func TestServeSelfSigned(t *testing.T) {
	t.Setenv("STRONGROOM_ROOT_KEY", "")
	data := filepath.Join(t.TempDir(), "data")
	var fingerprints []string
	for range 2 {
		banner, stop := startServe(t, "--addr", "127.0.0.1:0", "--data", data, "--tls-self-signed")
		addr := strings.TrimPrefix(bannerValue(banner, "strongroom serving"), "https://")
		fp := bannerValue(banner, "SHA-256 fingerprint:")
		if addr == "" || fp == "" {
			stop()
			t.Fatalf("banner: %q", banner)
		}
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			stop()
			t.Fatal(err)
		}
		sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
		conn.Close()
		if got := strings.ToUpper(hex.EncodeToString(sum[:])); strings.ReplaceAll(fp, ":", "") != got {
			t.Errorf("printed fingerprint %s, served certificate %s", fp, got)
		}
		fingerprints = append(fingerprints, fp)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	if fingerprints[0] != fingerprints[1] {
		t.Errorf("the certificate changed across restarts: %v", fingerprints)
	}
	if _, err := serveOnce(t, "--addr", "127.0.0.1:0", "--data", data, "--tls-self-signed", "--tls-cert", "x", "--tls-key", "y"); err == nil {
		t.Error("--tls-self-signed with --tls-cert was accepted")
	}
}

// serveOnce runs serve and stops it at once (for starts that must fail).
func serveOnce(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out strings.Builder
	err := serveUntil(ctx, args, &out, io.Discard)
	return out.String(), err
}

// TestServeBindFailureCreatesNothing: a start on a fresh data directory
// whose address (or a dialect listener's) is taken fails before anything
// is written: no root key, no data directory.
func TestServeBindFailureCreatesNothing(t *testing.T) {
	t.Setenv("STRONGROOM_ROOT_KEY", "")
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, args := range [][]string{
		{"--addr", taken.Addr().String()},
		{"--addr", "127.0.0.1:0", "--oss-addr", taken.Addr().String()},
	} {
		data := filepath.Join(t.TempDir(), "data")
		out, err := serveOnce(t, append(args, "--data", data)...)
		if err == nil {
			t.Fatalf("%v: serve on a taken address succeeded", args)
		}
		if out != "" {
			t.Errorf("%v: a banner was printed for a start that failed: %q", args, out)
		}
		if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: the data directory was created: %v", args, err)
		}
	}
}
