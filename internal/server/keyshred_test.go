package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// TestKeyDeletionStep: a due key is destroyed in the provider and its
// report stored, once; a key whose material went before the report was
// stored (a crash between the two) is recorded destroyed, not retried
// forever; a key not yet due is left alone.
func TestKeyDeletionStep(t *testing.T) {
	ctx := context.Background()
	k, m := keyringAndStore(t) // keyretire_test.go
	now := time.Now()
	ids := map[string]string{}
	for name, due := range map[string]time.Time{"due": now.Add(-time.Minute), "crashed": now.Add(-time.Minute), "later": now.Add(24 * time.Hour)} {
		info, err := k.CreateKey(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = info.ID
		if _, err := m.UpdateKeyPolicy(ctx, info.ID, func(p *meta.KeyPolicy) error { p.DeletionDate = due; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	// The crash: material gone, report never written.
	if err := k.DestroyKey(ctx, ids["crashed"]); err != nil {
		t.Fatal(err)
	}
	var lines bytes.Buffer
	task := keyDeletionSpec(k, m, audit.NewWriter(&lines), slog.New(slog.NewTextHandler(io.Discard, nil))).Task
	counts := jobs.Counts{}
	if _, err := task.Step(ctx, now, nil, counts); err != nil {
		t.Fatalf("step: %v", err)
	}
	if counts["destroyed"] != 2 || counts["failed"] != 0 {
		t.Errorf("counts %v, want 2 destroyed", counts)
	}
	for name, want := range map[string]bool{"due": true, "crashed": true, "later": false} {
		p, err := m.GetKeyPolicy(ctx, ids[name])
		if err != nil {
			t.Fatal(err)
		}
		if got := !p.Destroyed.IsZero() && p.Shred != nil; got != want {
			t.Errorf("%s: destroyed %v, want %v", name, got, want)
		}
		_, err = k.DescribeKey(ctx, ids[name])
		if gone := errors.Is(err, kms.ErrNotFound); gone != want {
			t.Errorf("%s: material gone %v (%v), want %v", name, gone, err, want)
		}
	}
	// Once recorded, a key is not visited again.
	counts = jobs.Counts{}
	if _, err := task.Step(ctx, now.Add(time.Minute), nil, counts); err != nil || len(counts) != 0 {
		t.Errorf("second step: %v, counts %v", err, counts)
	}
	destroys := 0
	for _, l := range strings.Split(strings.TrimSpace(lines.String()), "\n") {
		var e audit.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		if e.Action == "destroy" && e.Outcome == audit.OK {
			destroys++
		}
	}
	if destroys != 2 {
		t.Errorf("%d destroy audit lines, want 2:\n%s", destroys, lines.String())
	}
}
