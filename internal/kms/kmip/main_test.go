package kmip

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms/kmip/kmiptest"
)

// srv is the package's one PyKMIP server. Tests that stop it restore it.
var srv *kmiptest.Server

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kmiptest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv, err = kmiptest.New(dir)
	if err != nil {
		// Never a skip: CI installs python3-pykmip.
		fmt.Fprintln(os.Stderr, "starting PyKMIP:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	srv.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// open connects a provider with its own name prefix, so tests do not see
// each other's keys.
func open(t testing.TB) *Provider {
	t.Helper()
	p, err := Open(context.Background(), Config{Addr: srv.Addr, CertFile: srv.CertFile, KeyFile: srv.KeyFile, CAFile: srv.CAFile,
		Prefix: t.Name() + ":", Group: t.Name()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
