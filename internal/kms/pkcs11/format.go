//go:build cgo

package pkcs11

import (
	"encoding/binary"
	"fmt"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// Ciphertext (a wrapped data key), format version 1:
//
//	offset  size  field
//	0       4     magic "SRP1"
//	4       1     mechanism: 1 = CKM_AES_GCM, 2 = CKM_AES_KEY_WRAP_PAD
//	5       2     n = len(key id), uint16 big endian
//	7       n     canonical CMK id
//	7+n     4     CMK version, uint32 big endian, >= 1
//	11+n    ...   GCM: 1-byte IV length, IV, ciphertext and 16-byte tag;
//	              KWP: the wrapped (data key || SHA-256(additional data))
//
// The additional data is bytes 0..11+n followed by
// kms.EncodeContext(encCtx): key, version, mechanism and context are all
// authenticated.
const (
	magic   = "SRP1"
	mechGCM = 1
	mechKWP = 2
	gcmTag  = 16
)

type header struct {
	mech    byte
	keyID   string
	version uint32
	hdrLen  int
	body    []byte // aliases the ciphertext
}

func appendHeader(dst []byte, mech byte, keyID string, version uint32) []byte {
	dst = append(dst, magic...)
	dst = append(dst, mech)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(keyID)))
	dst = append(dst, keyID...)
	return binary.BigEndian.AppendUint32(dst, version)
}

// aad is the additional data of a wrap: header then encoded context.
func aad(hdr []byte, encCtx map[string]string) []byte {
	return append(append(make([]byte, 0, len(hdr)+64), hdr...), kms.EncodeContext(encCtx)...)
}

// parse checks a ciphertext's structure (not its authenticity). Errors
// match kms.ErrDecrypt. valid checks the key id.
func parse(ct []byte, valid func(string) bool) (header, error) {
	var h header
	if len(ct) < 7 || string(ct[:4]) != magic {
		return h, fmt.Errorf("%w (not a PKCS#11 provider ciphertext)", kms.ErrDecrypt)
	}
	h.mech = ct[4]
	if h.mech != mechGCM && h.mech != mechKWP {
		return h, fmt.Errorf("%w (unknown mechanism %d)", kms.ErrDecrypt, h.mech)
	}
	n := int(binary.BigEndian.Uint16(ct[5:]))
	if n == 0 || n > kms.MaxKeyNameLen || len(ct) < 7+n+4+1 {
		return h, fmt.Errorf("%w (truncated or bad key id length)", kms.ErrDecrypt)
	}
	h.keyID = string(ct[7 : 7+n])
	if !valid(h.keyID) {
		return h, fmt.Errorf("%w (bad key id)", kms.ErrDecrypt)
	}
	h.version = binary.BigEndian.Uint32(ct[7+n:])
	if h.version == 0 {
		return h, fmt.Errorf("%w (bad key version)", kms.ErrDecrypt)
	}
	h.hdrLen = 7 + n + 4
	h.body = ct[h.hdrLen:]
	return h, nil
}

// gcmBody splits a GCM body into IV and sealed data.
func gcmBody(body []byte) (iv, sealed []byte, err error) {
	if len(body) < 1 {
		return nil, nil, fmt.Errorf("%w (truncated)", kms.ErrDecrypt)
	}
	n := int(body[0])
	if n < 12 || len(body) < 1+n+gcmTag+1 {
		return nil, nil, fmt.Errorf("%w (truncated)", kms.ErrDecrypt)
	}
	return body[1 : 1+n], body[1+n:], nil
}

// validCMK accepts canonical CMK names.
func validCMK(id string) bool {
	c, err := kms.ParseKeyID(id)
	return err == nil && c == id
}
