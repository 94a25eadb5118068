package sse

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// SSE-C objects on disk are wrapped under customerKEK: it must keep
// deriving crypto/hkdf's bytes.
func TestCustomerKEKMatchesHKDF(t *testing.T) {
	for range 50 {
		key, salt := make([]byte, 32), make([]byte, 32)
		rand.Read(key)
		rand.Read(salt)
		want, err := hkdf.Key(sha256.New, key, salt, "strongroom/sse-c/v1 kek", 32)
		if err != nil {
			t.Fatal(err)
		}
		if got := customerKEK(key, salt); !bytes.Equal(got, want) {
			t.Fatalf("customerKEK = %x, want %x", got, want)
		}
	}
}
