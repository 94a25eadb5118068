package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestOfflineChangesAudited: key and user commands run on a stopped node's
// data directory append their audit records to --audit-log, without the
// secret they print.
func TestOfflineChangesAudited(t *testing.T) {
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	data, log := filepath.Join(dir, "data"), filepath.Join(dir, "audit.log")
	// A data directory as the first serve leaves it (admin commands work
	// on an existing deployment only).
	n := testnode.Start(t, testnode.Options{DataDir: data})
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "user", "create", "carol", "--data", data, "--audit-log", log)
	secret := field(out, "secret key")
	mustCLI(t, "user", "policy-set", "carol", "readonly", "--data", data, "--audit-log", log)
	mustCLI(t, "key", "create", "vault", "--data", data, "--audit-log", log)
	mustCLI(t, "key", "rotate", "vault", "--data", data, "--audit-log", log)
	if _, err := cli(t, "key", "rotate", "missing", "--data", data, "--audit-log", log); err == nil {
		t.Fatal("rotating a missing key succeeded")
	}
	mustCLI(t, "key", "list", "--data", data, "--audit-log", log) // a read: not audited

	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(string(b)), "\n")
	want := []string{
		`"type":"user","action":"create","outcome":"ok"`,
		`"type":"user","action":"policy-set","outcome":"ok"`,
		`"type":"key","action":"create","outcome":"ok"`,
		`"type":"key","action":"rotate","outcome":"ok"`,
		`"type":"key","action":"rotate","outcome":"failed"`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d audit lines, want %d:\n%s", len(got), len(want), b)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) || !strings.Contains(got[i], `"source":"cli"`) {
			t.Errorf("line %d: %s, want %s from the cli", i, got[i], w)
		}
	}
	if secret == "" || strings.Contains(string(b), secret) {
		t.Errorf("the audit log holds carol's secret (or none was printed)")
	}
}
