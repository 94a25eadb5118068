package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/server"
)

// TestMigrateCommandLine: migrate prints its usage on --help, requires
// --to and --blobs, and refuses a directory that holds no deployment
// before it connects to anything.
func TestMigrateCommandLine(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run([]string{"migrate", "--help"}, &out, &errb); err != nil || !strings.Contains(out.String(), "usage: strongroom migrate") {
		t.Fatalf("migrate --help: %v, %q", err, out.String())
	}
	out.Reset()
	if err := run([]string{"--help"}, &out, &out); err != nil || !strings.Contains(out.String(), "strongroom migrate") {
		t.Fatalf("the usage does not list migrate: %v", err)
	}
	for _, args := range [][]string{
		{"migrate", "--data", t.TempDir()},
		{"migrate", "--to", "postgres://u@127.0.0.1:1/db"},
		{"migrate", "--blobs", "file:///tmp/x"},
	} {
		if err := run(args, &out, &errb); err == nil || !strings.Contains(err.Error(), "--to and --blobs are required") {
			t.Errorf("%v: %v, want the usage", args, err)
		}
	}
	empty := filepath.Join(t.TempDir(), "none")
	err := run([]string{"migrate", "--data", empty, "--to", "postgres://u@127.0.0.1:1/db", "--blobs", "file:///tmp/x"}, &out, &errb)
	if !errors.Is(err, server.ErrNoDataDir) {
		t.Fatalf("migrate from a directory without a deployment: %v, want ErrNoDataDir", err)
	}
}

// TestFsckRefusesScaleOut: fsck of a scale-out deployment is refused with
// the reason, before anything is opened.
func TestFsckRefusesScaleOut(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{
		{"fsck", "--meta", "postgres://u@127.0.0.1:1/db"},
		{"fsck", "--blobs", "file:///tmp/x"},
	} {
		if err := run(args, &out, &out); err == nil || !strings.Contains(err.Error(), "embedded data directory only") {
			t.Errorf("%v: %v, want the refusal", args, err)
		}
	}
}
