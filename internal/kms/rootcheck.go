package kms

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// RootCheckBlob is the shared blob that records which root key a
// deployment uses, so a node started with another one refuses to start
// instead of failing requests.
//
// Format, version 1:
//
//	offset  size  field
//	0       8     magic "SRROOTCK"
//	8       2     format version = 1, uint16 big endian
//	10      32    salt, random
//	42      32    check value = HKDF-SHA256(root key, salt, rootCheckInfo)
//
// The check value is a key derivation under a random salt, not a hash of
// the key: it tells one key from another and nothing else.
const RootCheckBlob = "root-key-check"

const (
	rootCheckMagic   = "SRROOTCK"
	rootCheckVersion = 1
	rootCheckSize    = 32
	rootCheckInfo    = "strongroom/kms/root-key-check/v1"
	rootCheckLen     = len(rootCheckMagic) + 2 + saltSize + rootCheckSize
)

// ErrRootKeyMismatch: this node's root key is not the deployment's.
var ErrRootKeyMismatch = errors.New("this node's root key differs from the deployment's")

// CheckRootKey compares root with the root key the deployment sharing
// blobs recorded, recording root when none is (the first node to start).
// A different key fails with ErrRootKeyMismatch.
func CheckRootKey(ctx context.Context, blobs meta.SharedBlobs, root []byte) error {
	if len(root) != RootKeySize {
		return fmt.Errorf("kms: root key must be %d bytes, got %d", RootKeySize, len(root))
	}
	rec, err := blobs.GetBlob(ctx, RootCheckBlob)
	if err == nil {
		return matchRootCheck(root, rec)
	}
	if !errors.Is(err, meta.ErrNoSuchBlob) {
		return fmt.Errorf("kms: reading the deployment's root key check: %w", err)
	}
	return blobs.UpdateBlob(ctx, RootCheckBlob, func(old []byte) ([]byte, error) {
		if old != nil { // another node recorded one meanwhile
			return old, matchRootCheck(root, old)
		}
		return newRootCheck(root)
	})
}

func newRootCheck(root []byte) ([]byte, error) {
	out := make([]byte, rootCheckLen)
	copy(out, rootCheckMagic)
	binary.BigEndian.PutUint16(out[len(rootCheckMagic):], rootCheckVersion)
	salt := out[len(rootCheckMagic)+2 : len(rootCheckMagic)+2+saltSize]
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("kms: random: %w", err)
	}
	c, err := rootCheck(root, salt)
	if err != nil {
		return nil, err
	}
	copy(out[len(rootCheckMagic)+2+saltSize:], c)
	return out, nil
}

func matchRootCheck(root, rec []byte) error {
	if len(rec) != rootCheckLen || string(rec[:len(rootCheckMagic)]) != rootCheckMagic ||
		binary.BigEndian.Uint16(rec[len(rootCheckMagic):]) != rootCheckVersion {
		return fmt.Errorf("kms: the deployment's root key check (%s) is damaged or of an unknown version", RootCheckBlob)
	}
	salt := rec[len(rootCheckMagic)+2 : len(rootCheckMagic)+2+saltSize]
	c, err := rootCheck(root, salt)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(c, rec[len(rootCheckMagic)+2+saltSize:]) != 1 {
		return ErrRootKeyMismatch
	}
	return nil
}

func rootCheck(root, salt []byte) ([]byte, error) {
	c, err := hkdf.Key(sha256.New, root, salt, rootCheckInfo, rootCheckSize)
	if err != nil {
		return nil, errors.New("kms: key derivation failed")
	}
	return c, nil
}
