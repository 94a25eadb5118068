// Package kmstest holds the contract checks every key provider's tests
// share (builtin keyring, KMIP, PKCS#11).
package kmstest

import (
	"context"
	"errors"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// Admin is a provider under test: key management and a key state serial.
type Admin interface {
	kms.KeyAdmin
	kms.StateSerial
}

// DisableRefuses disables keyID (which must exist and be enabled) and
// checks what disabling promises: the key state serial moves, and new data
// keys, unwraps and rotation are refused with kms.ErrDisabled. It returns
// a data key made before disabling, for the caller's further checks.
func DisableRefuses(t *testing.T, ctx context.Context, p Admin, keyID string) kms.DataKey {
	t.Helper()
	dk, err := p.GenerateDataKey(ctx, keyID, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := p.KeyStateSerial()
	info, err := p.DisableKey(ctx, keyID)
	if err != nil || info.Enabled {
		t.Fatalf("DisableKey = %+v, %v", info, err)
	}
	if p.KeyStateSerial() == before {
		t.Error("KeyStateSerial did not change on DisableKey")
	}
	if _, err := p.GenerateDataKey(ctx, keyID, nil); !errors.Is(err, kms.ErrDisabled) {
		t.Errorf("GenerateDataKey on a disabled key: %v, want ErrDisabled", err)
	}
	if _, err := p.Decrypt(ctx, dk.Ciphertext, nil); !errors.Is(err, kms.ErrDisabled) {
		t.Errorf("Decrypt under a disabled key: %v, want ErrDisabled", err)
	}
	if _, err := p.RotateKey(ctx, keyID); !errors.Is(err, kms.ErrDisabled) {
		t.Errorf("RotateKey of a disabled key: %v, want ErrDisabled", err)
	}
	return dk
}
