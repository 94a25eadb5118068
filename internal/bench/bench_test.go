package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// The test binary doubles as the child server: with this variable set it
// serves like `strongroom serve` instead of running tests, so the child
// path (spawn, address on stdout, RSS from /proc) is exercised without
// building cmd/strongroom.
const serveEnv = "STRONGROOM_BENCH_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		if err := testServe(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "test server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// testServe is a minimal `strongroom serve` (same assembly, same banner),
// and `strongroom bench yardstick`.
func testServe(args []string) error {
	if len(args) >= 2 && args[0] == "bench" && args[1] == "yardstick" {
		return ServeYardstick(args[2:], os.Stdout)
	}
	if len(args) == 0 || args[0] != "serve" {
		return fmt.Errorf("want serve, got %q", args)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "")
	data := fs.String("data", "", "")
	fs.String("log-level", "warn", "")
	selfSigned := fs.Bool("tls-self-signed", false, "")
	kmsCfg := bindTestKMSFlags(fs) // kmsproviders_test.go
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg := server.Config{
		Addr: *addr, DataDir: *data,
		RootAccessKey: os.Getenv("STRONGROOM_ROOT_ACCESS_KEY"), RootSecretKey: os.Getenv("STRONGROOM_ROOT_SECRET_KEY"),
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		KMSConfig: *kmsCfg,
	}
	n, err := server.Open(context.Background(), cfg)
	if err != nil {
		return err
	}
	ln, err := n.Listen()
	if err != nil {
		return err
	}
	scheme := "http"
	if *selfSigned {
		certFile, keyFile, _, err := server.SelfSignedCert(*data)
		if err != nil {
			return err
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return err
		}
		ln, scheme = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}), "https"
	}
	fmt.Printf("%s%s://%s\n", ServePrefix, scheme, ln.Addr())
	return n.Serve(ln)
}

func tinyConfig(t *testing.T) Config {
	return Config{
		WorkDir:     t.TempDir(),
		Concurrency: 4,
		Streams:     2,
		Duration:    200 * time.Millisecond,
		SmallSize:   4 * KiB,
		MediumSize:  64 * KiB,
		LargeSize:   MiB,
		Verify:      true,
		Progress:    testWriter{t},
		// This test binary is the yardstick process too.
		YardstickCmd: []string{os.Args[0]},
		YardstickEnv: []string{serveEnv + "=1"},
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func checkReport(t *testing.T, rep *Report, wantRSS bool) {
	t.Helper()
	if len(rep.Results) != 6 {
		t.Errorf("got %d results, want 6 (PUT/GET x 3 sizes)", len(rep.Results))
	}
	for _, r := range append(append([]Result(nil), rep.Results...), rep.Yardsticks...) {
		if r.Errors > 0 || r.Ops == 0 {
			t.Errorf("%s %s %s: %d ops, %d errors (%s)", r.Target, r.Op, sizeName(r.Size), r.Ops, r.Errors, r.FirstErr)
		}
	}
	if len(rep.Yardsticks) != 9 {
		t.Errorf("got %d yardsticks, want 9", len(rep.Yardsticks))
	}
	var ratios int
	for _, f := range rep.Figures {
		if f.Ratio > 0 {
			ratios++
		}
	}
	if ratios != 6 {
		t.Errorf("got %d figures with a ratio, want 6: %+v", ratios, rep.Figures)
	}
	if wantRSS && rep.PeakRSS <= 0 {
		t.Error("no server peak RSS")
	}
	if wantRSS && (rep.AnonPeak <= 0 || rep.AnonPeak > rep.PeakRSS) {
		t.Errorf("anonymous peak %d, whole-run peak %d: want it sampled, and below the peak", rep.AnonPeak, rep.PeakRSS)
	}
	var tab, js bytes.Buffer
	if err := rep.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"durable-create", "PUT 4 KiB", "GET 1 MiB", "ratio"} {
		if !strings.Contains(tab.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, tab.String())
		}
	}
	t.Log("\n" + tab.String())
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Figures) != len(rep.Figures) {
		t.Errorf("JSON does not round-trip: %v", err)
	}
}

// TestQuickChild runs the benchmark the way `strongroom bench --quick`
// does, against a child server process, with tiny sizes, plus the big
// upload path.
func TestQuickChild(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.ServerCmd = []string{os.Args[0]}
	cfg.ServerEnv = []string{serveEnv + "=1"}
	cfg.Big, cfg.BigSize = true, 8*MiB+123
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, true)
	if len(rep.Big) != 2 || !bigOK(rep.Big) || rep.BigPeakRSS <= 0 {
		t.Errorf("big upload: %+v, peak RSS %d", rep.Big, rep.BigPeakRSS)
	}
}

// TestTLSChild: --tls serves the child and the net/http yardstick over
// HTTPS with the run's certificate, which the client trusts.
func TestTLSChild(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.ServerCmd = []string{os.Args[0]}
	cfg.ServerEnv = []string{serveEnv + "=1"}
	cfg.TLS = true
	cfg.Only = []int{cfg.SmallSize}
	cfg.Rounds, cfg.RoundDuration, cfg.settle = 2, 300*time.Millisecond, 50*time.Millisecond
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Both servers are processes the bench can read, so the rounds carry
	// their CPU per request too.
	if x, ok := rep.interleaved(cpuRatioPrefix + "GET 4 KiB none / net/http"); !ok || x.Median <= 0 {
		t.Errorf("no server CPU/op ratio of GET to the yardstick: %v %v (%+v)", x.Median, ok, rep.Interleaved)
	}
	if rep.YardstickPID <= 0 || rep.YardstickPID == os.Getpid() || rep.YardstickPID == rep.ServerPID {
		t.Errorf("yardstick pid %d (bench %d, server %d): want a process of its own", rep.YardstickPID, os.Getpid(), rep.ServerPID)
	}
	if !rep.TLS || !strings.HasPrefix(rep.Endpoint, "https://") {
		t.Fatalf("TLS %v, endpoint %s: want the child over https", rep.TLS, rep.Endpoint)
	}
	for _, r := range append(append([]Result(nil), rep.Results...), rep.Yardsticks...) {
		if r.Errors > 0 || r.Ops == 0 {
			t.Errorf("%s %s %s: %d ops, %d errors (%s)", r.Target, r.Op, sizeName(r.Size), r.Ops, r.Errors, r.FirstErr)
		}
	}
	var tab bytes.Buffer
	rep.WriteTable(&tab)
	if !strings.Contains(tab.String(), "over HTTPS") {
		t.Errorf("table does not say HTTPS:\n%s", tab.String())
	}
	cfg.Endpoint, cfg.AccessKey, cfg.SecretKey = "https://127.0.0.1:1", "a", "b"
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "--tls") {
		t.Errorf("--tls with --endpoint: %v, want a refusal", err)
	}
}

// TestEndpoint runs against an external (here in-process) server.
func TestEndpoint(t *testing.T) {
	n := testnode.Start(t, testnode.Options{})
	cfg := tinyConfig(t)
	cfg.Endpoint, cfg.AccessKey, cfg.SecretKey = n.URL, n.AccessKey, n.SecretKey
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, false)
}

func TestModes(t *testing.T) {
	for _, name := range ModeNames {
		m, err := LookupMode(name)
		if err != nil || m.Name != name {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := LookupMode("rot13"); err == nil {
		t.Error("unknown mode accepted")
	}
}

func TestGenReader(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i)
	}
	for _, n := range []int64{0, 1, 999, 1000, 1001, 12345} {
		g := &genReader{data: data, remain: n}
		var a bytes.Buffer
		if _, err := a.ReadFrom(g); err != nil || int64(a.Len()) != n {
			t.Errorf("Read: %d bytes, want %d (%v)", a.Len(), n, err)
		}
		g = &genReader{data: data, remain: n}
		var b bytes.Buffer
		if m, err := g.WriteTo(&b); err != nil || m != n || !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("WriteTo: %d bytes, want %d (%v), same as Read: %v", m, n, err, bytes.Equal(a.Bytes(), b.Bytes()))
		}
	}
}

// TestYardstickProcess: the yardstick process serves the run's bytes, its
// data file is gone once it serves, and one that cannot start (here: no
// certificate can be made where --tls-dir points) is an error naming it,
// with its log.
func TestYardstickProcess(t *testing.T) {
	work := t.TempDir()
	data := []byte(strings.Repeat("0123456789abcdef", 1024))
	argv, env := []string{os.Args[0]}, []string{serveEnv + "=1"}
	c, err := startYardstick(context.Background(), argv, env, work, data, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	if _, err := os.Stat(filepath.Join(work, "yardstick.data")); !os.IsNotExist(err) {
		t.Errorf("yardstick.data still there once the yardstick serves: %v", err)
	}
	resp, err := http.Get(c.url + "/b/plain/16/w0-0")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	off := offsetFor(0, 0, len(data)-16)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data[off:off+16]) {
		t.Errorf("GET from the yardstick: %s %q, want the run's bytes", resp.Status, body)
	}

	notDir := filepath.Join(work, "file")
	os.WriteFile(notDir, nil, 0o600)
	if _, err := startYardstick(context.Background(), argv, env, t.TempDir(), data, notDir); err == nil || !strings.Contains(err.Error(), "the yardstick exited before serving") {
		t.Errorf("a yardstick that cannot start: %v", err)
	}
}

// TestMemoryStandIn: without --big the memory target is judged on the
// anonymous peak of the phases, never on the whole-run peak, which counts
// the mapped metadata database (page cache that grows with every object).
func TestMemoryStandIn(t *testing.T) {
	for _, tt := range []struct {
		anon int64
		pass bool
	}{{55 * MiB, true}, {300 * MiB, false}} {
		b := &run{rep: &Report{PeakRSS: 640 * MiB, AnonPeak: tt.anon}}
		b.judge()
		var anon, whole *Figure
		for i, f := range b.rep.Figures {
			switch f.Name {
			case "server anon RSS, peak of phases":
				anon = &b.rep.Figures[i]
			case "server peak RSS":
				whole = &b.rep.Figures[i]
			}
		}
		if anon == nil || whole == nil {
			t.Fatalf("figures %+v: want the anonymous and the whole-run peak", b.rep.Figures)
		}
		if anon.Target != "< 256 MiB" || anon.Pass == nil || *anon.Pass != tt.pass {
			t.Errorf("anonymous peak %d MiB: target %q, pass %v; want judged %v", tt.anon/MiB, anon.Target, anon.Pass, tt.pass)
		}
		if whole.Target != "" || whole.Pass != nil {
			t.Errorf("whole-run peak judged: %q %v", whole.Target, whole.Pass)
		}
	}
}
