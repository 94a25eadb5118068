package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// TestHelpEverywhere: --help (and -h) on every command and subcommand prints
// its usage on standard output and succeeds; the top-level usage names
// every command; version names the Go version.
func TestHelpEverywhere(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"},
		{"serve", "--help"}, {"serve", "-h"},
		{"user", "--help"}, {"user", "create", "--help"}, {"user", "list", "-h"}, {"user", "root-credentials", "--help"},
		{"key", "--help"}, {"key", "list", "--help"}, {"key", "create", "--help"},
		{"jobs", "--help"}, {"jobs", "run", "--help"}, {"jobs", "list", "-h"},
		{"bench", "--help"}, {"bench", "load", "--help"}, {"fsck", "--help"}, {"backup", "--help"}, {"restore", "--help"},
	} {
		var out, errb bytes.Buffer
		if err := run(args, &out, &errb); err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		if !strings.Contains(strings.ToLower(out.String()), "usage") {
			t.Errorf("%v printed no usage on stdout: %q (stderr %q)", args, out.String(), errb.String())
		}
	}
	var out bytes.Buffer
	if err := run([]string{"--help"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"serve", "user", "key", "jobs", "bench", "version", "backup", "restore"} {
		if !strings.Contains(out.String(), "strongroom "+cmd) {
			t.Errorf("the usage does not list %q", cmd)
		}
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out.Reset()
		if err := run(args, &out, &out); err != nil || !strings.Contains(out.String(), runtime.Version()) || !strings.HasPrefix(out.String(), "strongroom ") {
			t.Errorf("%v: %q, %v", args, out.String(), err)
		}
	}
	if err := run([]string{"frobnicate"}, &out, &out); err == nil {
		t.Error("an unknown command succeeded")
	}
}
