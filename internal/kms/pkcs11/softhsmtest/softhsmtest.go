// Package softhsmtest makes SoftHSM2 tokens for tests: a private token
// directory and configuration (SOFTHSM2_CONF is set for the test), one
// initialised token, its PIN in a file. A machine without SoftHSM2 fails
// the test: scripts/test.sh installs it (Debian package softhsm2).
package softhsmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ModuleEnv names a module to use instead of the usual SoftHSM2 paths.
const ModuleEnv = "STRONGROOM_TEST_PKCS11_MODULE"

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
	cands := []string{os.Getenv(ModuleEnv), "/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so"}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	t.Fatalf("SoftHSM2 module not found (apt-get install softhsm2, or set %s)", ModuleEnv)
	return ""
}

// New makes a fresh token directory with one token labelled label and
// points SOFTHSM2_CONF at it for the rest of the test (the module reads it
// when it is initialised: open providers after New).
func New(t testing.TB, label string) Token {
	t.Helper()
	mod := Module(t)
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		t.Fatal("softhsm2-util not found (apt-get install softhsm2)")
	}
	dir := t.TempDir()
	tok := Token{Module: mod, Label: label, PIN: "1234-test-pin", Conf: filepath.Join(dir, "softhsm2.conf"), TokenDir: filepath.Join(dir, "tokens"), PINFile: filepath.Join(dir, "pin")}
	if err := os.Mkdir(tok.TokenDir, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := "directories.tokendir = " + tok.TokenDir + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(tok.Conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tok.PINFile, []byte(tok.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", tok.Conf)
	cmd := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", tok.PIN, "--so-pin", "5678-test-so")
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+tok.Conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	return tok
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
