package kms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/strongroom-dev/strongroom/internal/kdf"
)

// Keyring ciphertext (a wrapped data key), format version 1:
//
//	offset  size   field
//	0       4      magic "SRKR"
//	4       1      format version = 1
//	5       2      n = len(key id), uint16 big endian, 1..MaxKeyNameLen
//	7       n      canonical CMK id
//	7+n     4      CMK version, uint32 big endian, >= 1
//	11+n    32     salt, random per wrap
//	43+n    m+16   AES-256-GCM ciphertext and tag of the m-byte plaintext
//
// The GCM key and nonce are HKDF-SHA256(secret = CMK version secret,
// salt = salt, info = wrapInfo), 32 + 12 bytes: every wrap gets its own key,
// so the number of wraps under one CMK version is not limited by the
// 2^32-random-nonces bound of plain AES-GCM. The additional data is the
// header (bytes 0..11+n: magic, version, key id, key version) followed by
// EncodeContext(encCtx), so the key id, the key version and the encryption
// context are all authenticated; the salt is authenticated through the key.
const (
	wrapMagic    = "SRKR"
	wrapVersion1 = 1
	saltSize     = 32
	tagSize      = 16
	wrapInfo     = "strongroom/kms/keyring/v1 data key wrap"
)

// wrapHeader is the parsed, not yet authenticated, header of a ciphertext.
type wrapHeader struct {
	keyID   string
	version uint32
	aadLen  int    // length of the header part that goes into the AAD
	salt    []byte // aliases the ciphertext
	sealed  []byte // aliases the ciphertext
}

// sealWrapped wraps plaintext under secret (CMK keyID, version).
func sealWrapped(secret []byte, keyID string, version uint32, plaintext []byte, encCtx map[string]string) ([]byte, error) {
	hdrLen := len(wrapMagic) + 1 + 2 + len(keyID) + 4
	out := make([]byte, 0, hdrLen+saltSize+len(plaintext)+tagSize)
	out = append(out, wrapMagic...)
	out = append(out, wrapVersion1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(keyID)))
	out = append(out, keyID...)
	out = binary.BigEndian.AppendUint32(out, version)
	salt := out[hdrLen : hdrLen+saltSize]
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("kms: random: %w", err)
	}
	out = out[:hdrLen+saltSize]
	aead, nonce, err := deriveAEAD(secret, salt, wrapInfo)
	if err != nil {
		return nil, err
	}
	return aead.Seal(out, nonce, plaintext, wrapAAD(out[:hdrLen], encCtx)), nil
}

// parseWrapped checks the structure of a ciphertext. Errors match ErrDecrypt.
func parseWrapped(ct []byte) (wrapHeader, error) {
	var h wrapHeader
	if len(ct) < len(wrapMagic)+1 || string(ct[:len(wrapMagic)]) != wrapMagic {
		return h, fmt.Errorf("%w (not a keyring ciphertext)", ErrDecrypt)
	}
	if v := ct[len(wrapMagic)]; v != wrapVersion1 {
		return h, fmt.Errorf("%w (unsupported ciphertext version %d)", ErrDecrypt, v)
	}
	p := len(wrapMagic) + 1
	if len(ct) < p+2 {
		return h, fmt.Errorf("%w (truncated)", ErrDecrypt)
	}
	n := int(binary.BigEndian.Uint16(ct[p:]))
	p += 2
	if n == 0 || n > MaxKeyNameLen || len(ct) < p+n+4+saltSize+tagSize {
		return h, fmt.Errorf("%w (truncated or bad key id length)", ErrDecrypt)
	}
	h.keyID = string(ct[p : p+n])
	if validName(h.keyID) != nil {
		return h, fmt.Errorf("%w (bad key id)", ErrDecrypt)
	}
	p += n
	h.version = binary.BigEndian.Uint32(ct[p:])
	p += 4
	h.aadLen = p
	h.salt = ct[p : p+saltSize]
	h.sealed = ct[p+saltSize:]
	return h, nil
}

// openWrapped authenticates and decrypts a parsed ciphertext.
func openWrapped(secret, ct []byte, h wrapHeader, encCtx map[string]string) ([]byte, error) {
	aead, nonce, err := deriveAEAD(secret, h.salt, wrapInfo)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(nil, nonce, h.sealed, wrapAAD(ct[:h.aadLen], encCtx))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// wrapAAD returns a copy of the header followed by the encoded context.
func wrapAAD(hdr []byte, encCtx map[string]string) []byte {
	return appendContext(append(make([]byte, 0, len(hdr)+64), hdr...), encCtx)
}

// deriveAEAD returns AES-256-GCM keyed with, and the nonce taken from,
// HKDF-SHA256(secret, salt, info). The derived key bytes are zeroed; the
// AES key schedule inside the AEAD cannot be.
//
// kdf gives crypto/hkdf's bytes without its allocations (this runs on every
// SSE-S3 read).
func deriveAEAD(secret, salt []byte, info string) (cipher.AEAD, []byte, error) {
	var ib [64]byte
	okm := make([]byte, 32+12) // the nonce part is returned
	kdf.Key(okm, secret, salt, append(ib[:0], info...))
	defer clear(okm[:32])
	block, err := aes.NewCipher(okm[:32])
	if err != nil {
		return nil, nil, errors.New("kms: cipher setup failed")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, errors.New("kms: cipher setup failed")
	}
	return aead, okm[32:], nil
}
