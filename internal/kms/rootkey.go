package kms

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/durable"
)

// RootKeyEnv is the environment variable LoadRootKey's envValue usually
// comes from.
const RootKeyEnv = "STRONGROOM_ROOT_KEY"

// ErrNoRootKey is returned by LoadRootKey when neither source is set.
var ErrNoRootKey = errors.New("kms: no root key configured (set " + RootKeyEnv + " or a root key file)")

// LoadRootKey returns the root key from envValue (the value of
// STRONGROOM_ROOT_KEY: base64, standard or URL alphabet, padded or not) or,
// if envValue is empty, from the file at filePath (exactly RootKeySize raw
// bytes, or base64 text as above; surrounding white space is ignored).
// Giving both is an error (which one is meant would be a guess); giving
// neither returns ErrNoRootKey. The key must be RootKeySize bytes and not all
// zero. Errors never contain the key or the file's contents.
func LoadRootKey(envValue string, filePath string) ([]byte, error) {
	switch {
	case envValue != "" && filePath != "":
		return nil, fmt.Errorf("kms: both %s and a root key file are set; use one", RootKeyEnv)
	case envValue != "":
		key, err := decodeRootKey([]byte(strings.TrimSpace(envValue)))
		if err != nil {
			return nil, fmt.Errorf("kms: %s: %w", RootKeyEnv, err)
		}
		return key, nil
	case filePath != "":
		data, err := os.ReadFile(filePath)
		if err != nil {
			return nil, fmt.Errorf("kms: reading root key file: %w", err)
		}
		defer clear(data)
		var key []byte
		if len(data) == RootKeySize {
			key = checkRootKey(bytes.Clone(data))
			if key == nil {
				err = errZeroKey
			}
		} else {
			key, err = decodeRootKey(bytes.TrimSpace(data))
		}
		if err != nil {
			return nil, fmt.Errorf("kms: root key file %s: %w", filePath, err)
		}
		return key, nil
	default:
		return nil, ErrNoRootKey
	}
}

var errZeroKey = errors.New("root key is all zero bytes")

func decodeRootKey(text []byte) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		key := make([]byte, enc.DecodedLen(len(text)))
		n, err := enc.Decode(key, text)
		if err == nil && n == RootKeySize {
			key = checkRootKey(key[:n])
			if key == nil {
				return nil, errZeroKey
			}
			return key, nil
		}
		clear(key)
	}
	return nil, fmt.Errorf("must be base64 of %d bytes (or a file of exactly %d raw bytes)", RootKeySize, RootKeySize)
}

// checkRootKey returns key, or nil (having zeroed it) if it is all zero.
func checkRootKey(key []byte) []byte {
	var acc byte
	for _, b := range key {
		acc |= b
	}
	if acc == 0 {
		clear(key)
		return nil
	}
	return key
}

// GenerateRootKeyFile creates a new random root key and writes it, base64
// encoded with a trailing newline, to a new file at path with mode 0600. It
// never replaces an existing file (that would orphan the keyring it opens):
// if path exists the error matches fs.ErrExist. The file is durable when this
// returns: written to a temp file, fsynced, hard-linked into place (atomic,
// no overwrite), and the directory fsynced.
func GenerateRootKeyFile(path string) ([]byte, error) {
	key := make([]byte, RootKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("kms: random: %w", err)
	}
	text := make([]byte, base64.StdEncoding.EncodedLen(RootKeySize)+1)
	base64.StdEncoding.Encode(text, key)
	text[len(text)-1] = '\n'
	defer clear(text)
	if err := durable.CreateFile(path, text, 0o600); err != nil {
		clear(key)
		return nil, fmt.Errorf("kms: writing root key file: %w", err)
	}
	return key, nil
}
