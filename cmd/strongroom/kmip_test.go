package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms/kmip/kmiptest"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestKeyCommandsKMIP drives `strongroom key` with --kms kmip against a
// real PyKMIP server, and loads the same settings from a config file.
func TestKeyCommandsKMIP(t *testing.T) {
	srv, err := kmiptest.New(t.TempDir())
	if err != nil {
		t.Fatalf("starting PyKMIP (never skipped: install python3-pykmip): %v", err)
	}
	t.Cleanup(srv.Stop)
	data := t.TempDir() // disabling searches its metadata for locked versions
	flags := []string{"--data", data, "--kms", "kmip", "--kmip-addr", srv.Addr, "--kmip-cert", srv.CertFile, "--kmip-key", srv.KeyFile, "--kmip-ca", srv.CAFile}
	// Initialised as serve --kms kmip does (admin commands need a data
	// directory).
	n := testnode.Start(t, testnode.Options{DataDir: data, KMS: server.KMSConfig{KMS: "kmip", KMIPAddr: srv.Addr, KMIPCert: srv.CertFile, KMIPKey: srv.KeyFile, KMIPCA: srv.CAFile}})
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	keyringBefore, _ := os.ReadFile(filepath.Join(data, "keyring"))
	key := func(args ...string) string { return mustCLI(t, append(append([]string{"key"}, args...), flags...)...) }
	key("create", "cli-key")
	key("rotate", "cli-key")
	if out := key("disable", "cli-key"); !strings.Contains(out, "cli-key") || !strings.Contains(out, "false") {
		t.Errorf("disable printed %q", out)
	}
	key("enable", "cli-key")
	out := key("list")
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "cli-key ") {
			line = l
		}
	}
	if f := strings.Fields(line); len(f) < 3 || f[1] != "true" || f[2] != "2" {
		t.Errorf("list shows %q for cli-key:\n%s", line, out)
	}
	if !strings.Contains(out, "strongroom-default") {
		t.Errorf("list lacks the default key:\n%s", out)
	}
	if _, err := cli(t, append([]string{"key", "create", "cli-key"}, flags...)...); err == nil {
		t.Error("creating an existing key succeeded")
	}
	// The keyring was not touched: the keys are on the KMIP server.
	if after, _ := os.ReadFile(filepath.Join(data, "keyring")); !bytes.Equal(after, keyringBefore) {
		t.Error("the key commands changed the data directory's keyring")
	}

	// serve reads the same settings from its config file.
	conf := filepath.Join(t.TempDir(), "strongroom.yaml")
	os.WriteFile(conf, []byte("kms: kmip\nkmip-addr: "+srv.Addr+"\nkmip-cert: "+srv.CertFile+"\nkmip-key: "+srv.KeyFile+"\nkmip-ca: "+srv.CAFile+"\n"), 0o600)
	cfg, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--config", conf, "--kmip-addr", "127.0.0.1:5696"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KMS != "kmip" || cfg.KMIPCert != srv.CertFile || cfg.KMIPKey != srv.KeyFile || cfg.KMIPCA != srv.CAFile || cfg.KMIPAddr != "127.0.0.1:5696" {
		t.Errorf("loaded %+v", cfg.KMSConfig)
	}
}
