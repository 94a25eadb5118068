// Package softhsmtest makes SoftHSM2 tokens for tests: a private token
// directory and configuration (SOFTHSM2_CONF is set for the test), one
// initialised token, its PIN in a file. A machine without SoftHSM2 fails
// the test: scripts/test.sh installs it (Debian package softhsm2).
package softhsmtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11/softhsm"
)

// ModuleEnv names a module to use instead of the usual SoftHSM2 paths.
const ModuleEnv = softhsm.ModuleEnv

// Token is an initialised SoftHSM2 token.
type Token struct {
	Module   string // path of libsofthsm2.so
	Label    string
	PIN      string
	PINFile  string // holds PIN
	Conf     string // the SOFTHSM2_CONF file
	TokenDir string // SoftHSM2's token directory (one subdirectory per token)
}

// Module returns the SoftHSM2 module's path, failing the test without it.
func Module(t testing.TB) string {
	t.Helper()
	m, err := softhsm.Module()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// New makes a fresh token directory with one token labelled label and
// points SOFTHSM2_CONF at it for the rest of the test (the module reads it
// when it is initialised: open providers after New).
func New(t testing.TB, label string) Token {
	t.Helper()
	tok, err := softhsm.NewToken(t.TempDir(), label)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", tok.Conf)
	return Token(tok)
}

// Dir returns the directory holding the token's objects.
func (tok Token) Dir(t testing.TB) string {
	t.Helper()
	ents, err := os.ReadDir(tok.TokenDir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("token directory %s: %v (%d entries)", tok.TokenDir, err, len(ents))
	}
	return filepath.Join(tok.TokenDir, ents[0].Name())
}

// Remove takes the token away under running processes (its directory is
// moved aside, as if the device were unplugged); the returned function
// puts it back.
func (tok Token) Remove(t testing.TB) (restore func()) {
	t.Helper()
	d := tok.Dir(t)
	aside := strings.TrimSuffix(tok.TokenDir, "/") + "-removed"
	if err := os.Rename(d, aside); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := os.Rename(aside, d); err != nil {
			t.Fatal(err)
		}
	}
}
