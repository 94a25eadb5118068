package kms

import (
	"context"
	"crypto/rand"
	"fmt"
)

// GenerateDataKeyWith is GenerateDataKey for a provider that wraps but
// does not generate (KMIP, PKCS#11): a random data key from crypto/rand,
// wrapped by e under keyID.
func GenerateDataKeyWith(ctx context.Context, e Encrypter, keyID string, encCtx map[string]string) (DataKey, error) {
	pt := make([]byte, DataKeySize)
	if _, err := rand.Read(pt); err != nil {
		return DataKey{}, ErrUnavailable.WithMessage("No randomness available.")
	}
	ct, id, err := e.Encrypt(ctx, keyID, pt, encCtx)
	if err != nil {
		clear(pt)
		return DataKey{}, err
	}
	return DataKey{Plaintext: pt, Ciphertext: ct, KeyID: id}, nil
}

// CheckEncryptSize refuses a plaintext Encrypt does not take.
func CheckEncryptSize(plaintext []byte) error {
	if len(plaintext) == 0 || len(plaintext) > MaxEncryptSize {
		return fmt.Errorf("kms: plaintext must be 1 to %d bytes, got %d", MaxEncryptSize, len(plaintext))
	}
	return nil
}
