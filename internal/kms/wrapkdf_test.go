package kms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// deriveAEAD must keep deriving crypto/hkdf's key and nonce: keyrings and
// wrapped keys on disk depend on it.
func TestDeriveAEADMatchesHKDF(t *testing.T) {
	for _, info := range []string{wrapInfo, fileKeyInfo} {
		for range 50 {
			secret, salt, msg := make([]byte, 32), make([]byte, saltSize), make([]byte, 40)
			rand.Read(secret)
			rand.Read(salt)
			rand.Read(msg)
			okm, err := hkdf.Key(sha256.New, secret, salt, info, 32+12)
			if err != nil {
				t.Fatal(err)
			}
			block, _ := aes.NewCipher(okm[:32])
			ref, _ := cipher.NewGCM(block)
			aead, nonce, err := deriveAEAD(secret, salt, info)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(nonce, okm[32:]) {
				t.Fatalf("%s: nonce %x, want %x", info, nonce, okm[32:])
			}
			if got, want := aead.Seal(nil, nonce, msg, nil), ref.Seal(nil, okm[32:], msg, nil); !bytes.Equal(got, want) {
				t.Fatalf("%s: sealed %x, want %x", info, got, want)
			}
		}
	}
}
