package kmip

import (
	"encoding/binary"
	"fmt"

	"github.com/strongroom-dev/strongroom/internal/kms"
)

// KMIP provider ciphertext (a wrapped data key), format version 1:
//
//	offset  size  field
//	0       4     magic "SRKM"
//	4       1     format version = 1
//	5       2     n = len(key name), uint16 big endian, 1..kms.MaxKeyNameLen
//	7       n     canonical CMK name
//	7+n     4     CMK version, uint32 big endian, >= 1
//	11+n    2     u = len(KMIP unique identifier), 1..maxUIDLen
//	13+n    u     unique identifier of the version's key on the KMIP server
//	13+n+u  12    GCM nonce, random per wrap
//	25+n+u  m     AES-256-GCM ciphertext of the m-byte plaintext
//	...     16    GCM tag
//
// The server seals with AES-256-GCM under the version's key, which never
// leaves it; the additional data is the header (bytes 0..13+n+u) followed
// by kms.EncodeContext(encCtx), so the name, version, identifier and
// encryption context are all authenticated by the KMIP server's key. The
// identifier lets Decrypt go to the server in one request, without a
// Locate.
const (
	magic      = "SRKM"
	version1   = 1
	nonceSize  = 12
	gcmTagSize = 16
	maxUIDLen  = 1024
)

type header struct {
	name    string
	version uint32
	uid     string
	hdrLen  int // bytes of the authenticated header
}

func appendHeader(dst []byte, name string, version uint32, uid string) []byte {
	dst = append(dst, magic...)
	dst = append(dst, version1)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(name)))
	dst = append(dst, name...)
	dst = binary.BigEndian.AppendUint32(dst, version)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(uid)))
	return append(dst, uid...)
}

func aad(hdr []byte, encCtx map[string]string) []byte {
	return append(append(make([]byte, 0, len(hdr)+64), hdr...), kms.EncodeContext(encCtx)...)
}

func bad(why string) error { return fmt.Errorf("%w (%s)", kms.ErrDecrypt, why) }

// parse checks a ciphertext's structure; errors match kms.ErrDecrypt.
func parse(ct []byte) (header, error) {
	var h header
	if len(ct) < len(magic)+1 || string(ct[:len(magic)]) != magic {
		return h, bad("not a KMIP provider ciphertext")
	}
	if ct[len(magic)] != version1 {
		return h, bad(fmt.Sprintf("unsupported ciphertext version %d", ct[len(magic)]))
	}
	p := len(magic) + 1
	if len(ct) < p+2 {
		return h, bad("truncated")
	}
	n := int(binary.BigEndian.Uint16(ct[p:]))
	p += 2
	if n == 0 || n > kms.MaxKeyNameLen || len(ct) < p+n+4+2 {
		return h, bad("truncated or bad key name length")
	}
	h.name = string(ct[p : p+n])
	if id, err := kms.ParseKeyID(h.name); err != nil || id != h.name {
		return h, bad("bad key name")
	}
	p += n
	h.version = binary.BigEndian.Uint32(ct[p:])
	p += 4
	u := int(binary.BigEndian.Uint16(ct[p:]))
	p += 2
	if h.version == 0 || u == 0 || u > maxUIDLen || len(ct) < p+u+nonceSize+1+gcmTagSize {
		return h, bad("truncated or bad identifier")
	}
	h.uid = string(ct[p : p+u])
	h.hdrLen = p + u
	return h, nil
}
