package auth

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// TestSigningKeyCacheSeesNewSecret: the cached signing key is not used
// once the access key's secret changes: a request signed with the old
// secret is refused at once, one signed with the new secret accepted.
func TestSigningKeyCacheSeesNewSecret(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	c := creds{rtAK: rtSecret}
	v := &Verifier{Creds: c, Now: at(now)}
	verify := func(secret string) error {
		r, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1/bkt/key", nil)
		SignV4(r, rtAK, secret, "us-east-1", now, "")
		_, err := v.Verify(r, "")
		return err
	}
	for range 2 { // the second from the cache
		if err := verify(rtSecret); err != nil {
			t.Fatalf("signed with the secret: %v", err)
		}
	}
	c[rtAK] = rtSecret + "-rotated"
	if err := verify(rtSecret); !errors.Is(err, errs.SignatureDoesNotMatch) {
		t.Fatalf("signed with the old secret after rotation: %v, want SignatureDoesNotMatch", err)
	}
	if err := verify(rtSecret + "-rotated"); err != nil {
		t.Fatalf("signed with the new secret: %v", err)
	}
}
