package secrets

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealBinding(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	sealed, err := SealUnder(key, []byte("remote\x00eu\x00AK"), "s3cr3t")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("s3cr3t")) {
		t.Fatal("sealed form holds the secret")
	}
	if s, err := OpenUnder(key, []byte("remote\x00eu\x00AK"), sealed); err != nil || s != "s3cr3t" {
		t.Fatalf("open = %q, %v", s, err)
	}
	for name, tc := range map[string]struct {
		key, aad, sealed []byte
	}{
		"other root key": {bytes.Repeat([]byte{2}, 32), []byte("remote\x00eu\x00AK"), sealed},
		"other owner":    {key, []byte("AK"), sealed},
		"truncated":      {key, []byte("remote\x00eu\x00AK"), sealed[:10]},
		"flipped byte":   {key, []byte("remote\x00eu\x00AK"), append(append([]byte(nil), sealed[:len(sealed)-1]...), sealed[len(sealed)-1]^1)},
	} {
		if _, err := OpenUnder(tc.key, tc.aad, tc.sealed); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: %v, want ErrOpen", name, err)
		}
	}
}
