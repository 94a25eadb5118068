// Package pkcs11 is the PKCS#11 key provider: customer master keys are
// non-extractable AES-256 key objects in an HSM token, and data keys are
// wrapped and unwrapped inside the HSM.
//
// Each version of a CMK is its own token object (CKO_SECRET_KEY, CKK_AES,
// CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE) labelled
// "NAME#VERSION"; rotation adds the next version. A disabled key has
// CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP and CKA_UNWRAP cleared on every
// version, so the HSM itself refuses to use it; enabling sets them again.
// The root key of a data directory can be sealed by the token's own key
// (label "strongroom root key", not a valid CMK name, so no client can
// name it).
//
// Data keys come from crypto/rand and are wrapped with CKM_AES_GCM
// (C_Encrypt, additional data = the ciphertext header naming key and
// version, then kms.EncodeContext of the encryption context) or, on tokens
// without GCM encryption, CKM_AES_KEY_WRAP_PAD (C_WrapKey of a session
// object holding the data key and a SHA-256 of that same additional data,
// checked after unwrap). The ciphertext names its mechanism, key and
// version, so either decrypts wherever the token has the mechanism.
//
// The implementation needs cgo (github.com/miekg/pkcs11 dlopens the
// module at run time); a build without cgo keeps the package, whose Open
// then fails with ErrNoCgo.
package pkcs11

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// PINEnv is the environment variable the PIN is read from when no PIN file
// is given.
const PINEnv = "STRONGROOM_PKCS11_PIN"

// Mechanisms of the data key wrap (Config.Mechanism).
const (
	MechGCM = "gcm" // CKM_AES_GCM through C_Encrypt/C_Decrypt
	MechKWP = "kwp" // CKM_AES_KEY_WRAP_PAD through C_WrapKey/C_UnwrapKey
)

// ErrNoCgo is returned by Open in a build without cgo.
var ErrNoCgo = errors.New("pkcs11: this strongroom was built without cgo; the PKCS#11 provider needs a cgo build")

// Config opens a provider.
type Config struct {
	Module string // path of the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so)
	Token  string // token label
	PIN    string // user PIN; see ReadPIN
	// Sessions is the size of the session pool (default 2 x GOMAXPROCS,
	// at least 4): requests beyond it wait for a free session.
	Sessions int
	// Mechanism forces MechGCM or MechKWP for new wraps; default: GCM
	// where the token can encrypt with it, else KWP.
	Mechanism string
	// RefreshEvery is how long the list of keys and versions is trusted
	// before the token is asked again (keys rotated by another process
	// are used from then on); default one minute.
	RefreshEvery time.Duration
	// RetryEvery is the least time between attempts to reopen a token
	// found unreachable; default one second.
	RetryEvery time.Duration
	Logger     *slog.Logger // default: discard
}

// ReadPIN returns the PIN from file (its first line) or, if file is "",
// from STRONGROOM_PKCS11_PIN. The PIN is never taken from a flag's value
// (it would show in the process list) and never logged.
func ReadPIN(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("pkcs11: reading PIN file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		clear(b)
		pin := strings.TrimRight(line, "\r \t")
		if pin == "" {
			return "", fmt.Errorf("pkcs11: PIN file %s is empty", file)
		}
		return pin, nil
	}
	if pin := os.Getenv(PINEnv); pin != "" {
		return pin, nil
	}
	return "", fmt.Errorf("pkcs11: no PIN: give --pkcs11-pin-file or set %s", PINEnv)
}
