package sse

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms"
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

// objectAAD must encode what kms.EncodeContext(objectContext(...)) does:
// object keys under bucket keys are authenticated with it.
func TestObjectAADMatchesContext(t *testing.T) {
	for _, c := range []struct{ bucket, key, ctx string }{
		{"b", "k", ""},
		{"bucket-name", "a/b/c ü.txt", ""},
		{"b", "", ""},
		{"b", "k", "eyJhIjoiYiJ9"}, // {"a":"b"}
	} {
		oc, err := objectContext(c.bucket, c.key, c.ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, err := objectAAD(c.bucket, c.key, c.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := kms.EncodeContext(oc); !bytes.Equal(got, want) {
			t.Errorf("%+v: got %x, want %x", c, got, want)
		}
	}
	if _, err := objectAAD("b", "k", "not base64!"); err == nil {
		t.Error("a bad client context was accepted")
	}
}
