package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"strongroom/internal/durable"
	"strongroom/internal/kms"
	"strongroom/internal/kms/pkcs11"
)

// Key providers (KMSConfig.Provider).
const (
	KMSBuiltin = "builtin"
	KMSPKCS11  = "pkcs11"
)

// sealedRootKeyFile holds the root key sealed by an external provider
// (instead of root.key in clear).
const sealedRootKeyFile = "root.key.sealed"

// KMSConfig chooses the key provider; the same keys are flags of serve and
// of the key commands.
type KMSConfig struct {
	Provider      string `yaml:"kms"` // builtin (default) or pkcs11
	PKCS11Module  string `yaml:"pkcs11-module"`
	PKCS11Token   string `yaml:"pkcs11-token"`
	PKCS11PINFile string `yaml:"pkcs11-pin-file"` // else $STRONGROOM_PKCS11_PIN
	// PKCS11Sessions sizes the session pool (0: the provider's default).
	PKCS11Sessions int `yaml:"pkcs11-sessions"`
	// PKCS11Mechanism forces "gcm" or "kwp" (tests); default: the token's best.
	PKCS11Mechanism string `yaml:"-"`
}

// external is an open provider other than the builtin keyring.
type external interface {
	kms.Provider
	kms.KeyAdmin
	kms.RootSealer
	Close() error
}

// openProvider opens the configured external provider, or returns nil for
// the builtin keyring.
func openProvider(ctx context.Context, c KMSConfig, log *slog.Logger) (external, error) {
	switch c.Provider {
	case "", KMSBuiltin:
		return nil, nil
	case KMSPKCS11:
		pin, err := pkcs11.ReadPIN(c.PKCS11PINFile)
		if err != nil {
			return nil, err
		}
		p, err := pkcs11.Open(ctx, pkcs11.Config{Module: c.PKCS11Module, Token: c.PKCS11Token, PIN: pin,
			Sessions: c.PKCS11Sessions, Mechanism: c.PKCS11Mechanism, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("opening the PKCS#11 key provider (token %q): %w", c.PKCS11Token, err)
		}
		return p, nil
	}
	return nil, fmt.Errorf("unknown key provider %q (builtin or %s)", c.Provider, KMSPKCS11)
}

// rootKeyFrom returns the root key of a data directory whose root key an
// external provider seals: it opens root.key.sealed. On a new data
// directory (create) it makes a random root key and seals it; a root key
// given by the operator (STRONGROOM_ROOT_KEY or file) is sealed on the first
// start, and checked against the sealed one afterwards. A root.key in clear
// is refused: the point is that the data directory alone opens nothing.
func rootKeyFrom(ctx context.Context, dataDir, file string, p kms.RootSealer, create bool, log *slog.Logger) ([]byte, error) {
	path := filepath.Join(dataDir, sealedRootKeyFile)
	var given []byte
	if os.Getenv(kms.RootKeyEnv) != "" || file != "" {
		var err error
		if given, err = kms.LoadRootKey(os.Getenv(kms.RootKeyEnv), file); err != nil {
			return nil, err
		}
		defer clear(given)
	}
	sealed, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := p.OpenRootKey(ctx, sealed)
		if err != nil {
			return nil, fmt.Errorf("the root key of %s is sealed by the key provider and does not open: %w", dataDir, err)
		}
		if given != nil && subtle.ConstantTimeCompare(key, given) != 1 {
			clear(key)
			return nil, fmt.Errorf("the root key given (%s or --root-key-file) is not the one sealed in %s", kms.RootKeyEnv, path)
		}
		return key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("reading the sealed root key: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, rootKeyFile)); err == nil {
		return nil, fmt.Errorf("%s holds the root key in clear, but with an external key provider the provider seals it: move the file out of the data directory and start once with --root-key-file pointing at it (it is then sealed into %s), then keep it offline or destroy it", filepath.Join(dataDir, rootKeyFile), sealedRootKeyFile)
	}
	if !create {
		return nil, fmt.Errorf("the data directory %s has no sealed root key (%s)", dataDir, sealedRootKeyFile)
	}
	if given != nil {
		// Seal only the key that opens this directory's keyring: a sealed
		// wrong key could not be replaced by the right one later.
		if _, err := os.Stat(filepath.Join(dataDir, keyringFile)); err == nil {
			k, err := kms.OpenKeyring(filepath.Join(dataDir, keyringFile), given)
			if err != nil {
				return nil, fmt.Errorf("the root key given does not open the keyring of %s, not sealing it: %w", dataDir, err)
			}
			k.Close()
		}
	}
	key := bytes.Clone(given)
	if key == nil {
		if _, err := os.Stat(filepath.Join(dataDir, keyringFile)); err == nil {
			return nil, fmt.Errorf("the data directory %s has a keyring but no %s: give its root key once (%s or --root-key-file) to seal it", dataDir, sealedRootKeyFile, kms.RootKeyEnv)
		}
		key = make([]byte, kms.RootKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generating root key: %w", err)
		}
	}
	if sealed, err = p.SealRootKey(ctx, key); err != nil {
		clear(key)
		return nil, fmt.Errorf("sealing the root key: %w", err)
	}
	if err := durable.CreateFile(path, sealed, 0o600); err != nil {
		clear(key)
		return nil, fmt.Errorf("writing the sealed root key: %w", err)
	}
	if log != nil {
		log.Info("the root key is sealed by the key provider; the data directory holds it only sealed", "file", path)
	}
	return key, nil
}

// composite is the node's provider when an external one is configured:
// new keys and key state come from it; ciphertexts the builtin keyring
// made before the switch still decrypt with the keyring.
type composite struct {
	external
	keyring *kms.Keyring
}

var (
	_ kms.Encrypter   = composite{}
	_ kms.StateSerial = composite{}
)

func (c composite) Decrypt(ctx context.Context, ct []byte, encCtx map[string]string) ([]byte, error) {
	if kms.IsKeyringCiphertext(ct) {
		return c.keyring.Decrypt(ctx, ct, encCtx)
	}
	return c.external.Decrypt(ctx, ct, encCtx)
}

func (c composite) Encrypt(ctx context.Context, keyID string, pt []byte, encCtx map[string]string) ([]byte, string, error) {
	e, ok := c.external.(kms.Encrypter)
	if !ok {
		return nil, "", errors.New("kms: the key provider cannot encrypt")
	}
	return e.Encrypt(ctx, keyID, pt, encCtx)
}

func (c composite) KeyStateSerial() uint64 {
	n := c.keyring.KeyStateSerial()
	if s, ok := c.external.(kms.StateSerial); ok {
		n += s.KeyStateSerial()
	}
	return n
}

// OpenKeysOffline opens the key management of a stopped node: the
// external provider when one is configured, else the data directory's
// keyring. close releases it.
func OpenKeysOffline(ctx context.Context, dataDir, rootKeyFile string, c KMSConfig) (kms.KeyAdmin, func() error, error) {
	ext, err := openProvider(ctx, c, nil)
	if err != nil {
		return nil, nil, err
	}
	if ext != nil {
		return ext, ext.Close, nil
	}
	k, err := OpenKeyringOffline(dataDir, rootKeyFile)
	if err != nil {
		return nil, nil, err
	}
	return k, k.Close, nil
}

// RootKeyOffline returns the root key of a data directory for the CLI:
// from the external provider that seals it, else as LoadRootKey (which
// may create one for a new data directory).
func RootKeyOffline(ctx context.Context, dataDir, rootKeyFile string, c KMSConfig) ([]byte, error) {
	ext, err := openProvider(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	if ext == nil {
		return LoadRootKey(dataDir, rootKeyFile, nil)
	}
	defer ext.Close()
	return rootKeyFrom(ctx, dataDir, rootKeyFile, ext, false, nil)
}

func closeExternal(ext external) {
	if ext != nil {
		ext.Close()
	}
}
