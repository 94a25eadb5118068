package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestInterleaved: with Rounds set, the run ends with alternating rounds
// of the small size and reports, per ratio, one value per round and their
// median (PUT to durable-create, GET to net/http, each mode's PUT and GET
// to the first mode's); the small figures are judged by those medians,
// and the note says each phase began quiesced.
func TestInterleaved(t *testing.T) {
	n := testnode.Start(t, testnode.Options{})
	cfg := tinyConfig(t)
	cfg.Endpoint, cfg.AccessKey, cfg.SecretKey = n.URL, n.AccessKey, n.SecretKey
	cfg.Only = []int{cfg.SmallSize}
	for _, name := range []string{"none", "sse-s3"} {
		m, err := LookupMode(name)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Modes = append(cfg.Modes, m)
	}
	cfg.Rounds, cfg.RoundDuration, cfg.settle = 3, 100*time.Millisecond, 20*time.Millisecond
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"PUT 4 KiB none / durable-create", "PUT 4 KiB sse-s3 / none", "GET 4 KiB none / net/http", "GET 4 KiB sse-s3 / none"}
	if len(rep.Interleaved) != len(want) {
		t.Fatalf("interleaved: %+v, want %q", rep.Interleaved, want)
	}
	for i, x := range rep.Interleaved {
		if x.Name != want[i] || len(x.Ratios) != cfg.Rounds || x.Median <= 0 || x.Min > x.Median || x.Median > x.Max ||
			x.CILow < x.Min || x.CILow > x.Median || x.CIHigh < x.Median || x.CIHigh > x.Max {
			t.Errorf("interleaved %d: %+v, want %q with %d ratios", i, x, want[i], cfg.Rounds)
		}
	}
	quiet := false
	for _, n := range rep.Notes {
		quiet = quiet || strings.HasPrefix(n, "interleaved rounds: each phase began after sync(2)")
	}
	if !quiet {
		t.Errorf("notes %q: want the phases' quiescing reported", rep.Notes)
	}
	judged := 0
	for _, f := range rep.Figures {
		if strings.HasSuffix(f.Name, "4 KiB") && (f.Mode == "none" || f.Mode == "sse-s3") {
			if !strings.Contains(f.Target, "interleaved median") || !strings.Contains(f.Target, "95% CI") || f.Pass == nil {
				t.Errorf("figure %s %s: target %q, pass %v; want judged by its interleaved median", f.Name, f.Mode, f.Target, f.Pass)
			}
			judged++
		}
	}
	if judged != 4 {
		t.Errorf("%d small figures judged, want 4", judged)
	}
	var out bytes.Buffer
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "interleaved rounds (3)") || !strings.Contains(out.String(), "confidence interval of the median") {
		t.Errorf("table lacks the interleaved rounds:\n%s", out.String())
	}
}

// TestMedianCI95: the bootstrap interval of a median holds the median,
// stays within the rounds' range, is the same every time, collapses for
// rounds that agree, and narrows as rounds of the same scatter are added.
func TestMedianCI95(t *testing.T) {
	scatter := []float64{0.84, 0.93, 0.88, 0.97, 0.91, 0.79, 0.95, 0.90, 1.02, 0.89}
	var many []float64
	for range 4 {
		many = append(many, scatter...)
	}
	width := map[string]float64{}
	for _, tc := range []struct {
		name   string
		rs     []float64
		lo, hi float64 // both 0: only the general properties
	}{
		{"one round", []float64{0.93}, 0.93, 0.93},
		{"rounds that agree", []float64{0.9, 0.9, 0.9, 0.9, 0.9}, 0.9, 0.9},
		{"ten rounds", scatter, 0, 0},
		{"forty rounds", many, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newInterleaved(tc.name, tc.rs)
			if tc.lo != 0 && (x.CILow != tc.lo || x.CIHigh != tc.hi) {
				t.Fatalf("interval %v-%v, want %v-%v", x.CILow, x.CIHigh, tc.lo, tc.hi)
			}
			if x.CILow > x.Median || x.CIHigh < x.Median || x.CILow < x.Min || x.CIHigh > x.Max {
				t.Fatalf("interval %v-%v around median %v of %v-%v", x.CILow, x.CIHigh, x.Median, x.Min, x.Max)
			}
			if again := newInterleaved(tc.name, tc.rs); again.CILow != x.CILow || again.CIHigh != x.CIHigh {
				t.Fatalf("interval %v-%v, then %v-%v", x.CILow, x.CIHigh, again.CILow, again.CIHigh)
			}
			width[tc.name] = x.CIHigh - x.CILow
		})
	}
	if w10, w40 := width["ten rounds"], width["forty rounds"]; !(w10 > 0 && w40 < w10*0.75) {
		t.Errorf("interval width %.3f over ten rounds, %.3f over forty of the same scatter: want it to narrow", w10, w40)
	}
}

// TestSettle: settle waits for an idle process and gives up, reporting so,
// on one that stays busy (the interleaved and provider rounds count such
// phases in their notes).
func TestSettle(t *testing.T) {
	// An idle process of its own: this one and its children (servers of
	// other tests) need not be idle under a loaded test run.
	idle := exec.Command("sleep", "60")
	if err := idle.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { idle.Process.Kill(); idle.Wait() }()
	if _, ok := settle(context.Background(), []int{idle.Process.Pid}, 50*time.Millisecond); !ok {
		t.Error("an idle process did not settle")
	}
	self := []int{os.Getpid()}
	var stop atomic.Bool
	defer stop.Store(true)
	for range 2 { // two cores' worth of work until the test ends: busy even on a loaded machine
		go func() {
			for !stop.Load() {
			}
		}()
	}
	const window = 50 * time.Millisecond // five clock ticks: /proc counts CPU in 10 ms
	waited, ok := settle(context.Background(), self, window)
	if ok {
		t.Errorf("a busy process settled after %s", waited)
	}
	if waited < settleTries*window {
		t.Errorf("gave up after %s, want %d windows", waited, settleTries)
	}
}
