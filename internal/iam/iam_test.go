package iam

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

// TestRootSecretSealing: the root secret opens only with the root key it
// was sealed under and for its own access key; the sealed form does not
// hold it; a user's sealed secret under the same access key id is not a
// root secret (separate additional data).
func TestRootSecretSealing(t *testing.T) {
	key, other := make([]byte, 32), make([]byte, 32)
	rand.Read(key)
	rand.Read(other)
	const ak, secret = "ROOTACCESSKEY0000001", "root/secret+0123456789abcdefghijklmnopq"
	sealed, err := SealRootSecret(key, ak, secret)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), secret) {
		t.Fatal("the sealed form holds the secret")
	}
	if got, err := OpenRootSecret(key, ak, sealed); err != nil || got != secret {
		t.Fatalf("OpenRootSecret = %q, %v", got, err)
	}
	i, err := New(nil, "", "", key)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		key    []byte
		ak     string
		sealed []byte
	}{
		"other root key":          {other, ak, sealed},
		"other access key":        {key, "OTHERACCESSKEY000001", sealed},
		"truncated":               {key, ak, sealed[:10]},
		"a user's sealed secret":  {key, ak, i.sealSecret(ak, secret)},
		"flipped ciphertext byte": {key, ak, append(append([]byte{}, sealed[:20]...), append([]byte{sealed[20] ^ 1}, sealed[21:]...)...)},
	} {
		if _, err := OpenRootSecret(c.key, c.ak, c.sealed); !errors.Is(err, ErrRootSecret) {
			t.Errorf("%s: %v, want ErrRootSecret", name, err)
		}
	}
}
