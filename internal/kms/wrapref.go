package kms

import "encoding/binary"

// WrapRef names the master key version a wrapped data key is wrapped
// under, as its ciphertext says (not authenticated: for accounting and for
// choosing what to rewrap, never for access decisions).
type WrapRef struct {
	Provider string // "builtin", "pkcs11" or "kmip"
	Key      string // canonical CMK id
	Version  uint32 // CMK version, >= 1
}

// ciphertextMagic maps the magic of each provider's ciphertext format to
// the provider. Every format starts the same way: magic (4 bytes), a
// format or mechanism byte, uint16 n, n bytes of key id, uint32 version.
var ciphertextMagic = map[string]string{
	wrapMagic: "builtin", // Keyring
	"SRP1":    "pkcs11",  // internal/kms/pkcs11
	"SRKM":    "kmip",    // internal/kms/kmip
}

// ParseWrapRef reads the key and version a ciphertext names; ok is false
// for anything that is not a provider ciphertext.
func ParseWrapRef(ct []byte) (WrapRef, bool) {
	if len(ct) < 7 {
		return WrapRef{}, false
	}
	prov, ok := ciphertextMagic[string(ct[:4])]
	if !ok {
		return WrapRef{}, false
	}
	n := int(binary.BigEndian.Uint16(ct[5:]))
	if n == 0 || n > MaxKeyNameLen || len(ct) < 7+n+4 {
		return WrapRef{}, false
	}
	id := string(ct[7 : 7+n])
	v := binary.BigEndian.Uint32(ct[7+n:])
	if validName(id) != nil || v == 0 {
		return WrapRef{}, false
	}
	return WrapRef{Provider: prov, Key: id, Version: v}, true
}
