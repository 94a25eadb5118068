package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestScaleOutTiny runs the scale-out comparison at a tiny size so it
// cannot rot: every figure is measured, nothing fails, and a PUT costs the
// PostgreSQL round trips of one transaction (a handful, not dozens).
func TestScaleOutTiny(t *testing.T) {
	rep, err := ScaleOut(context.Background(), ScaleOutConfig{WorkDir: t.TempDir(), SmallSize: 4 * KiB, BigSize: MiB,
		BigCount: 1, Concurrency: 2, Duration: 150 * time.Millisecond, Nodes: 2, Serial: 10})
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]StoreFigures{"embedded": rep.Embedded, "postgres+s3": rep.ScaleOut} {
		if f.Errors != 0 || f.SmallPUT <= 0 || f.SmallGET <= 0 || f.BigPUT <= 0 || f.BigGET <= 0 {
			t.Errorf("%s: %+v", name, f)
		}
	}
	if len(rep.Aggregate) != 2 || rep.Aggregate[1].Nodes != 2 || rep.Aggregate[1].SmallPUT <= 0 || rep.Aggregate[1].Errors != 0 {
		t.Errorf("aggregate: %+v", rep.Aggregate)
	}
	if rep.RoundTripsPerPUT < 1 || rep.RoundTripsPerPUT > 12 || rep.RoundTripsPerGET < 1 {
		t.Errorf("round trips per PUT %.2f, per GET %.2f", rep.RoundTripsPerPUT, rep.RoundTripsPerGET)
	}
	var out bytes.Buffer
	rep.WriteTable(&out)
	if !strings.Contains(out.String(), "round trips") || !strings.Contains(out.String(), "PostgreSQL + S3") {
		t.Errorf("table:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
}
