// Package softhsm makes SoftHSM2 tokens outside tests (the benchmark's
// PKCS#11 provider runs): a private token directory and configuration, one
// initialised token, its PIN in a file. It does not import testing, so the
// production binary can use it; softhsmtest wraps it for tests.
package softhsm

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ModuleEnv names a module to use instead of the usual SoftHSM2 paths.
const ModuleEnv = "STRONGROOM_TEST_PKCS11_MODULE"

// ErrMissing: SoftHSM2 is not installed (Debian package softhsm2).
var ErrMissing = errors.New("SoftHSM2 not found (apt-get install softhsm2)")

// Token is an initialised SoftHSM2 token.
type Token struct {
	Module   string // path of libsofthsm2.so
	Label    string
	PIN      string
	PINFile  string // holds PIN
	Conf     string // the SOFTHSM2_CONF file
	TokenDir string // SoftHSM2's token directory (one subdirectory per token)
}

// Env is the environment a process needs to see the token
// (SOFTHSM2_CONF is read when the module is initialised).
func (t Token) Env() []string { return []string{"SOFTHSM2_CONF=" + t.Conf} }

// Module returns the SoftHSM2 module's path.
func Module() (string, error) {
	cands := []string{os.Getenv(ModuleEnv), "/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so"}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: no module (or set %s)", ErrMissing, ModuleEnv)
}

// NewToken makes a token directory and configuration in dir (which must
// exist) with one token labelled label. The caller points SOFTHSM2_CONF
// at tok.Conf for the processes that open it (Env).
func NewToken(dir, label string) (Token, error) {
	mod, err := Module()
	if err != nil {
		return Token{}, err
	}
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		return Token{}, fmt.Errorf("%w: no softhsm2-util", ErrMissing)
	}
	tok := Token{Module: mod, Label: label, PIN: "1234-test-pin", Conf: filepath.Join(dir, "softhsm2.conf"), TokenDir: filepath.Join(dir, "tokens"), PINFile: filepath.Join(dir, "pin")}
	if err := os.Mkdir(tok.TokenDir, 0o700); err != nil {
		return Token{}, err
	}
	conf := "directories.tokendir = " + tok.TokenDir + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(tok.Conf, []byte(conf), 0o600); err != nil {
		return Token{}, err
	}
	if err := os.WriteFile(tok.PINFile, []byte(tok.PIN+"\n"), 0o600); err != nil {
		return Token{}, err
	}
	cmd := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", tok.PIN, "--so-pin", "5678-test-so")
	cmd.Env = append(os.Environ(), tok.Env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return Token{}, fmt.Errorf("softhsm2-util --init-token: %w\n%s", err, out)
	}
	return tok, nil
}
