package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/strongroom-dev/strongroom/internal/durable"
	"github.com/strongroom-dev/strongroom/internal/iam"
)

// rootCredsFile is DATA/root-credentials.json: the root access key, and its
// secret sealed under the root key (as users' secrets are). Files written
// before sealing hold SecretKey in clear; a node start rewrites them sealed.
type rootCredsFile struct {
	User         string `json:"user"`
	AccessKey    string `json:"accessKey"`
	SealedSecret []byte `json:"sealedSecret,omitempty"`
	SecretKey    string `json:"secretKey,omitempty"` // legacy clear form only
}

// ErrNoRootCredentials means the data directory holds no root credentials
// (a node has not started there, or they come from the configuration).
var ErrNoRootCredentials = errors.New("no root credentials in the data directory")

// LoadRootCredentials reads the root credentials kept in a data directory,
// opening the secret with the root key. It never writes: a legacy clear
// file is read as it is (the node's next start seals it).
func LoadRootCredentials(dir string, rootKey []byte) (iam.Credentials, error) {
	c, _, err := readRootCredentials(dir, rootKey)
	return c, err
}

// readRootCredentials also reports whether the file holds the secret in
// clear.
func readRootCredentials(dir string, rootKey []byte) (c iam.Credentials, clear bool, err error) {
	path := filepath.Join(dir, rootFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, false, fmt.Errorf("%s: %w", path, ErrNoRootCredentials)
	}
	if err != nil {
		return c, false, err
	}
	var f rootCredsFile
	if err := json.Unmarshal(b, &f); err != nil || f.AccessKey == "" || (f.SealedSecret == nil) == (f.SecretKey == "") {
		return c, false, fmt.Errorf("reading %s: not a root credentials file", path)
	}
	c = iam.Credentials{User: iam.RootUser, AccessKey: f.AccessKey, SecretKey: f.SecretKey}
	if f.SecretKey != "" {
		return c, true, nil
	}
	if c.SecretKey, err = iam.OpenRootSecret(rootKey, f.AccessKey, f.SealedSecret); err != nil {
		return iam.Credentials{}, false, fmt.Errorf("reading %s: %w", path, err)
	}
	return c, false, nil
}

// sealedRootCredentials is the file image of c, its secret sealed.
func sealedRootCredentials(c iam.Credentials, rootKey []byte) ([]byte, error) {
	sealed, err := iam.SealRootSecret(rootKey, c.AccessKey, c.SecretKey)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(rootCredsFile{User: iam.RootUser, AccessKey: c.AccessKey, SealedSecret: sealed}, "", "  ")
}

// ensureRootCredentials loads the data directory's root credentials,
// sealing a legacy clear file in place, or generates them (created). The
// caller holds the data directory (the keyring lock); creation still never
// replaces a file another process made.
func ensureRootCredentials(dir string, rootKey []byte, log *slog.Logger) (c iam.Credentials, created bool, err error) {
	path := filepath.Join(dir, rootFile)
	c, clear, err := readRootCredentials(dir, rootKey)
	switch {
	case err == nil && clear:
		b, err := sealedRootCredentials(c, rootKey)
		if err != nil {
			return c, false, err
		}
		if err := durable.WriteFile(path, b, 0o600); err != nil {
			return c, false, fmt.Errorf("sealing %s: %w", path, err)
		}
		log.Info("sealed the root secret in the root credentials file under the root key", "file", path)
		return c, false, nil
	case err == nil:
		return c, false, nil
	case !errors.Is(err, ErrNoRootCredentials):
		return c, false, err
	}
	c = *iam.NewCredentials()
	c.User = iam.RootUser
	b, err := sealedRootCredentials(c, rootKey)
	if err != nil {
		return c, false, err
	}
	if err := durable.CreateFile(path, b, 0o600); err != nil {
		return c, false, fmt.Errorf("creating %s: %w", path, err)
	}
	return c, true, nil
}
