package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLoadSmall runs the scale run's mode at N=2000 and checks that every
// figure of the report is filled in and that the data directory is gone.
func TestLoadSmall(t *testing.T) {
	work := t.TempDir()
	rep, err := Load(context.Background(), LoadConfig{
		Objects: 2000, WorkDir: work, Concurrency: 16, BlobEvery: 50,
		ProbeDuration: 200 * time.Millisecond, Progress: testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.RateCurve) != 10 || rep.RateCurve[9].Objects != 2000 {
		t.Errorf("rate curve %+v", rep.RateCurve)
	}
	if rep.LoadErrors != 0 || rep.BlobObjects != 40 {
		t.Errorf("load: %d errors, %d blob objects (want 0, 40)", rep.LoadErrors, rep.BlobObjects)
	}
	if rep.MetaBytes <= 0 || rep.InlineBytes <= 0 || rep.MetaBeyondInline <= 0 || rep.MetaPerObject <= rep.MetaBeyondInline {
		t.Errorf("metadata figures: %d bytes, %d inline, %.0f/object, %.0f beyond inline", rep.MetaBytes, rep.InlineBytes, rep.MetaPerObject, rep.MetaBeyondInline)
	}
	if rep.StartupSeconds <= 0 || rep.StartupEmptySecond <= 0 || rep.StartupAfterCrash <= 0 {
		t.Errorf("start-up times %v, %v, %v", rep.StartupSeconds, rep.StartupEmptySecond, rep.StartupAfterCrash)
	}
	// The peak is VmHWM reset at the load's start, so it can sit below the
	// empty figure when the GC handed memory back in between.
	if rep.RSSEmpty <= 0 || rep.RSSLoadPeak <= 0 || rep.RSSAtRest <= 0 || rep.RSSAfterOpen <= 0 || rep.HeapAtRest <= 0 {
		t.Errorf("RSS figures: %+v", rep)
	}
	if len(rep.Probe) != 4*probeRounds || rep.PutRatio <= 0 || rep.GetRatio <= 0 {
		t.Fatalf("probe figures: %+v, ratios %v %v", rep.Probe, rep.PutRatio, rep.GetRatio)
	}
	for _, p := range rep.Probe {
		if p.Ops == 0 || p.Errors != 0 {
			t.Errorf("probe %s %s: %d ops, %d errors (%s)", p.Op, p.Mode, p.Ops, p.Errors, p.FirstErr)
		}
	}
	for name, l := range map[string]Latency{"no delimiter": rep.ListNoDelim, "delimiter": rep.ListDelim, "in prefix": rep.ListInside} {
		if l.Requests == 0 || l.P50ms <= 0 || l.Keys+l.Prefixes == 0 {
			t.Errorf("listing %s: %+v", name, l)
		}
	}
	if len(rep.Targets) != 4 {
		t.Errorf("targets: %+v", rep.Targets)
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(js.Bytes(), &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"meta_bytes_per_object_beyond_inline", "startup_s", "rss_at_rest", "rss_load_peak", "put_ratio", "get_ratio", "list_deep_delimiter", "load_s"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("JSON report lacks %q", k)
		}
	}
	var table strings.Builder
	rep.WriteTable(&table)
	if !strings.Contains(table.String(), "start-up") {
		t.Errorf("table:\n%s", table.String())
	}
	if ents, _ := os.ReadDir(work); len(ents) != 0 {
		t.Errorf("work directory keeps %d entries", len(ents))
	}
}
