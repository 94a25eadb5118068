// Package checksum computes the integrity values object APIs exchange:
// Content-MD5 / ETag MD5, the S3 flexible checksums (CRC32, CRC32C,
// CRC64NVME, SHA1, SHA256) and the CRC-64/ECMA value OSS and COS return.
//
// A Set hashes a stream once, in the same pass as the write: it is an
// io.Writer that feeds only the hashes asked for.
package checksum

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strconv"
	"strings"

	"github.com/minio/crc64nvme"
)

// Algorithm names as S3 spells them (upper case).
const (
	CRC32     = "CRC32"
	CRC32C    = "CRC32C"
	CRC64NVME = "CRC64NVME"
	SHA1      = "SHA1"
	SHA256    = "SHA256"
	// CRC64ECMA is the OSS/COS x-*-hash-crc64ecma value (decimal).
	CRC64ECMA = "CRC64ECMA"
)

// Flexible lists the S3 flexible checksum algorithms.
var Flexible = []string{CRC32, CRC32C, CRC64NVME, SHA1, SHA256}

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	ecma       = crc64.MakeTable(crc64.ECMA)
)

// Normalize returns the canonical algorithm name for s (any case), or "".
func Normalize(s string) string {
	u := strings.ToUpper(strings.TrimSpace(s))
	for _, a := range Flexible {
		if a == u {
			return a
		}
	}
	if u == CRC64ECMA {
		return u
	}
	return ""
}

// New returns a fresh hash for a canonical algorithm name.
func New(alg string) hash.Hash {
	switch alg {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(castagnoli)
	case CRC64NVME:
		return crc64nvme.New()
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	case CRC64ECMA:
		return crc64.New(ecma)
	}
	return nil
}

// Encode renders a digest as it travels on the wire: base64 for the S3
// checksums, decimal for CRC64ECMA.
func Encode(alg string, sum []byte) string {
	if alg == CRC64ECMA {
		return strconv.FormatUint(binary.BigEndian.Uint64(sum), 10)
	}
	return base64.StdEncoding.EncodeToString(sum)
}

// Set hashes one stream with several algorithms at once.
type Set struct {
	md5    hash.Hash
	md5Sum []byte
	hashes map[string]hash.Hash
	ws     []hash.Hash
}

// NewSet returns a Set computing MD5 with md5 (none if it is nil) and the
// named algorithms.
func NewSet(md5 hash.Hash, algs ...string) *Set {
	s := &Set{hashes: make(map[string]hash.Hash, len(algs))}
	if md5 != nil {
		s.md5 = md5
		s.ws = append(s.ws, s.md5)
	}
	for _, a := range algs {
		h := New(a)
		if _, dup := s.hashes[a]; dup || h == nil {
			continue
		}
		s.hashes[a] = h
		s.ws = append(s.ws, h)
	}
	return s
}

// Write feeds p to every hash. It never fails.
func (s *Set) Write(p []byte) (int, error) {
	for _, h := range s.ws {
		h.Write(p)
	}
	return len(p), nil
}

// Empty reports whether the set computes nothing.
func (s *Set) Empty() bool { return len(s.ws) == 0 }

// MD5 returns the MD5 digest, or nil if it was not computed. The input
// ends at the first call.
func (s *Set) MD5() []byte {
	if s.md5 != nil && s.md5Sum == nil {
		s.md5Sum = s.md5.Sum(nil)
	}
	return s.md5Sum
}

// Sum returns the raw digest of alg, or nil if it was not computed.
func (s *Set) Sum(alg string) []byte {
	h := s.hashes[alg]
	if h == nil {
		return nil
	}
	return h.Sum(nil)
}

// Values returns every computed checksum (MD5 excluded) in wire form.
func (s *Set) Values() map[string]string {
	if len(s.hashes) == 0 {
		return nil
	}
	m := make(map[string]string, len(s.hashes))
	for a, h := range s.hashes {
		m[a] = Encode(a, h.Sum(nil))
	}
	return m
}

// CombineCRC64ECMA returns the CRC-64/ECMA of the concatenation of two
// streams given their CRCs and the length of the second, so a multipart
// object's value needs no second pass over its bytes.
func CombineCRC64ECMA(crc1, crc2 uint64, len2 int64) uint64 {
	return crc64Combine(crc64.ECMA, crc1, crc2, len2)
}
