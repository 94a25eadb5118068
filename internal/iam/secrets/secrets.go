// Package secrets seals the secret keys strongroom keeps (users', the
// root account's, remote deployments') under the root key: AES-256-GCM
// under a key derived from the root key, each secret bound by additional
// data to whose it is. It imports nothing of strongroom, so every keeper
// of secrets can use the one construction.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// ErrOpen: a sealed secret does not open (a wrong root key, other
// additional data, or damage).
var ErrOpen = errors.New("secrets: the sealed secret does not open under this root key")

// AEAD is the cipher that seals secrets under rootKey.
func AEAD(rootKey []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, rootKey, nil, "strongroom/iam/v1 secret keys", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal seals secret with g, bound to aad: nonce | ciphertext.
func Seal(g cipher.AEAD, aad []byte, secret string) []byte {
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(secret)+g.Overhead())
	rand.Read(nonce)
	return g.Seal(nonce, nonce, []byte(secret), aad)
}

// Open opens what Seal sealed with the same aad (ErrOpen if it does not).
func Open(g cipher.AEAD, aad, sealed []byte) (string, error) {
	ns := g.NonceSize()
	if len(sealed) < ns+g.Overhead() {
		return "", ErrOpen
	}
	b, err := g.Open(nil, sealed[:ns], sealed[ns:], aad)
	if err != nil {
		return "", ErrOpen
	}
	return string(b), nil
}

// SealUnder is Seal with the cipher of rootKey.
func SealUnder(rootKey, aad []byte, secret string) ([]byte, error) {
	g, err := AEAD(rootKey)
	if err != nil {
		return nil, err
	}
	return Seal(g, aad, secret), nil
}

// OpenUnder is Open with the cipher of rootKey.
func OpenUnder(rootKey, aad, sealed []byte) (string, error) {
	g, err := AEAD(rootKey)
	if err != nil {
		return "", err
	}
	return Open(g, aad, sealed)
}
