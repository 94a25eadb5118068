package kmip

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"strongroom/internal/kms"
)

func TestRoundTrip(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	encCtx := map[string]string{"aws:s3:arn": "arn:aws:s3:::b/k"}
	dk, err := p.GenerateDataKey(ctx, "", encCtx)
	if err != nil {
		t.Fatal(err)
	}
	if dk.KeyID != kms.DefaultKeyName || len(dk.Plaintext) != kms.DataKeySize {
		t.Fatalf("key id %q, %d bytes", dk.KeyID, len(dk.Plaintext))
	}
	pt, err := p.Decrypt(ctx, dk.Ciphertext, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pt, dk.Plaintext) {
		t.Fatal("plaintext differs")
	}
	if _, err := p.Decrypt(ctx, dk.Ciphertext, map[string]string{"aws:s3:arn": "arn:aws:s3:::b/other"}); !errors.Is(err, kms.ErrDecrypt) {
		t.Fatalf("wrong context: %v", err)
	}
}
