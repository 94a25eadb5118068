package main

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestOriginAllowFlag: --origin-allow is repeatable (and comma-separated),
// and given on the command line it replaces the config file's list.
func TestOriginAllowFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "strongroom.yaml")
	os.WriteFile(file, []byte("origin-allow: [10.0.0.0/8, origin.internal]\norigin-max-size: 1048576\n"), 0o600)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--origin-allow", "127.0.0.1", "--origin-allow", "fd00::/8,localhost"}, []string{"127.0.0.1", "fd00::/8", "localhost"}},
		{[]string{"--config", file}, []string{"10.0.0.0/8", "origin.internal"}},
		{[]string{"--config", file, "--origin-allow", "127.0.0.1"}, []string{"127.0.0.1"}},
	} {
		cfg, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), c.args)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(cfg.OriginAllow, c.want) {
			t.Errorf("%v: origin-allow %v, want %v", c.args, cfg.OriginAllow, c.want)
		}
	}
	cfg, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--config", file})
	if err != nil || cfg.OriginMaxSize != 1<<20 {
		t.Errorf("origin-max-size from the file: %d %v", cfg.OriginMaxSize, err)
	}
}
