package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"

	"github.com/strongroom-dev/strongroom/internal/kdf"
)

// Algorithm names the AEAD that seals the segments of a blob. Its numeric
// value is what the header stores, so existing values must never change.
type Algorithm uint8

const (
	// AES256GCM is AES-256 in GCM mode; keys are derived with HKDF-SHA256.
	AES256GCM Algorithm = 1
	// SM4GCM is SM4 in GCM mode (RFC 8998); keys are derived with HKDF-SM3
	// so that a GM-only deployment never mixes in SHA-2.
	SM4GCM Algorithm = 2
)

// String returns the canonical name ("AES-256-GCM", "SM4-GCM").
func (a Algorithm) String() string {
	switch a {
	case AES256GCM:
		return "AES-256-GCM"
	case SM4GCM:
		return "SM4-GCM"
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

// KeySize is the size in bytes of a part key (and of a blob key) for a: 32
// for AES-256-GCM, 16 for SM4-GCM, 0 for an unknown algorithm.
func (a Algorithm) KeySize() int {
	switch a {
	case AES256GCM:
		return 32
	case SM4GCM:
		return 16
	}
	return 0
}

// Valid reports whether a is an algorithm this package implements.
func (a Algorithm) Valid() bool { return a.KeySize() != 0 }

// ParseAlgorithm parses a name as returned by String, case-insensitively and
// with or without dashes ("AES256GCM", "sm4-gcm").
func ParseAlgorithm(s string) (Algorithm, error) {
	switch strings.ToUpper(strings.ReplaceAll(s, "-", "")) {
	case "AES256GCM":
		return AES256GCM, nil
	case "SM4GCM":
		return SM4GCM, nil
	}
	return 0, fmt.Errorf("sealed: unknown algorithm %q: %w", s, ErrFormat)
}

var (
	// ErrAuth is wrapped by every error caused by data that does not
	// authenticate under the given key: a flipped bit, a truncated,
	// extended, reordered or spliced blob, or a wrong part key.
	ErrAuth = errors.New("sealed: message authentication failed")
	// ErrFormat is wrapped by errors for a blob this package cannot parse:
	// bad magic, unknown version or algorithm, invalid segment size, or a
	// blob too short to hold a header.
	ErrFormat = errors.New("sealed: unrecognized format")
	// ErrChecksum is wrapped by every error caused by a plain blob whose
	// data does not match its checksums: a flipped bit, or a segment moved,
	// dropped or duplicated.
	ErrChecksum = errors.New("sealed: segment checksum mismatch")
)

// SegmentError says which segment of a blob failed its check (Err is
// ErrAuth or ErrChecksum).
type SegmentError struct {
	Index, Count int64
	Err          error
}

func (e *SegmentError) Error() string {
	return fmt.Sprintf("sealed: segment %d of %d: %v", e.Index, e.Count, e.Err)
}

func (e *SegmentError) Unwrap() error { return e.Err }

// IsDamaged reports whether err says that stored data is not what was
// written: it failed authentication or its checksum, or cannot be parsed.
func IsDamaged(err error) bool {
	return errors.Is(err, ErrAuth) || errors.Is(err, ErrChecksum) || errors.Is(err, ErrFormat)
}

const (
	// Version is the format version this package writes.
	Version = 1

	// DefaultSegmentSize is the plaintext size of every segment but the last
	// when a caller passes segment size 0.
	DefaultSegmentSize = 64 << 10
	// MinSegmentSize and MaxSegmentSize bound the segment size a header may
	// carry. The upper bound caps the memory a reader needs per segment.
	MinSegmentSize = 16
	MaxSegmentSize = 16 << 20

	// HeaderSize is the size of the header that starts every blob.
	HeaderSize = 4 + 1 + 1 + 4 + SaltSize // magic, version, algorithm, segment size, salt
	// SaltSize is the size of the random per-blob salt.
	SaltSize = 32
	// TagSize is the per-segment overhead (the GCM tag).
	TagSize = 16

	magic     = "SRSB" // "StrongRoom Sealed Blob"
	nonceSize = 12
)

// The plain (unencrypted, checksummed) format; see doc.go.
const (
	// PlainVersion is the plain format version this package writes.
	PlainVersion = 1
	// PlainHeaderSize is the size of the header that starts every plain blob.
	PlainHeaderSize = 4 + 1 + 1 + 4 // magic, version, checksum, segment size
	// SumSize is the per-segment overhead of a plain blob (its XXH3-64).
	SumSize = 8

	plainMagic = "SRPB" // "StrongRoom Plain Blob"
	sumXXH3    = 1      // checksum byte of a plain header: XXH3-64
)

// Labels for HKDF "info". They are part of the format: changing one makes
// every existing object unreadable.
const (
	partKeyLabel = "strongroom/sealed/v1 part key " // + Algorithm.String() + uint32 BE part number
	blobKeyLabel = "strongroom/sealed/v1 blob key"  // + the 42 header bytes
)

// PartKey derives the key that seals one part of an object version from the
// version's object key (OEK, 32 random bytes) and the part number (0 for an
// object uploaded in one piece, 1..10000 for multipart parts):
//
//	HKDF-H(ikm = objectKey, salt = empty,
//	       info = "strongroom/sealed/v1 part key " || alg.String() || uint32be(partNumber))
//
// with H = SHA-256 for AES-256-GCM (32-byte result) and H = SM3 for SM4-GCM
// (16-byte result). The algorithm name in info keeps the AES and SM4 keys of
// the same OEK unrelated.
//
// It panics if alg is unknown, objectKey is not 32 bytes or partNumber is
// outside [0, 2^32): those are programming errors, never data errors.
func PartKey(alg Algorithm, objectKey []byte, partNumber int) []byte {
	if !alg.Valid() {
		panic("sealed: PartKey: unknown algorithm " + alg.String())
	}
	if len(objectKey) != 32 {
		panic("sealed: PartKey: object key must be 32 bytes, got " + strconv.Itoa(len(objectKey)))
	}
	if partNumber < 0 || uint64(partNumber) > 1<<32-1 {
		panic("sealed: PartKey: part number out of range: " + strconv.Itoa(partNumber))
	}
	var buf [len(partKeyLabel) + 16]byte // the info stays on the stack
	info := append(buf[:0], partKeyLabel...)
	info = append(info, alg.String()...)
	info = binary.BigEndian.AppendUint32(info, uint32(partNumber))
	k := make([]byte, alg.KeySize())
	derive(alg, k, objectKey, nil, info)
	clear(buf[:])
	return k
}

// derive runs HKDF with the hash that belongs to alg and fills out (of
// alg.KeySize() bytes) with the key. HKDF-SHA256 goes through kdf, which
// gives the bytes crypto/hkdf gives without its allocations.
func derive(alg Algorithm, out, secret, salt, info []byte) {
	switch alg {
	case AES256GCM:
		kdf.Key(out, secret, salt, info)
	case SM4GCM:
		k, err := hkdf.Key(sm3.New, secret, salt, string(info), len(out))
		if err != nil {
			// Only possible in FIPS 140-only mode, where SM3 and GCM
			// with caller-built nonces are refused anyway.
			panic("sealed: hkdf: " + err.Error())
		}
		copy(out, k)
		clear(k)
	default:
		panic("sealed: derive: unknown algorithm")
	}
}

// header is the parsed fixed-size header.
type header struct {
	alg     Algorithm
	segSize int
	salt    [SaltSize]byte
}

func (h *header) marshal() [HeaderSize]byte {
	var b [HeaderSize]byte
	copy(b[:], magic)
	b[4] = Version
	b[5] = byte(h.alg)
	binary.BigEndian.PutUint32(b[6:10], uint32(h.segSize))
	copy(b[10:], h.salt[:])
	return b
}

func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < HeaderSize {
		return h, fmt.Errorf("sealed: blob of %d bytes is shorter than the header: %w", len(b), ErrFormat)
	}
	if string(b[:4]) != magic {
		return h, fmt.Errorf("sealed: bad magic: %w", ErrFormat)
	}
	if b[4] != Version {
		return h, fmt.Errorf("sealed: unknown version %d: %w", b[4], ErrFormat)
	}
	h.alg = Algorithm(b[5])
	if !h.alg.Valid() {
		return h, fmt.Errorf("sealed: unknown algorithm %d: %w", b[5], ErrFormat)
	}
	seg := binary.BigEndian.Uint32(b[6:10])
	if seg < MinSegmentSize || seg > MaxSegmentSize {
		return h, fmt.Errorf("sealed: segment size %d out of range: %w", seg, ErrFormat)
	}
	h.segSize = int(seg)
	copy(h.salt[:], b[10:HeaderSize])
	return h, nil
}

// BlobKey is the ready key of one sealed blob: the segment AEAD, keyed with
// the blob key that was derived from the part key and the whole header:
//
//	blobKey = HKDF-H(ikm = partKey, salt = header.salt,
//	                 info = "strongroom/sealed/v1 blob key" || header)
//
// Why a per-blob key rather than sealing with the part key directly: the
// nonces are a deterministic counter, so two blobs sealed under one key would
// reuse nonces, which is fatal for GCM. Re-uploading a multipart part number
// does exactly that with the same part key, so each blob draws a random salt
// and gets its own key. Putting the whole header in info authenticates it:
// changing any header byte yields a different key and every segment fails.
//
// A BlobKey holds no state that opening changes (the AEADs of crypto/aes and
// gmsm's sm4 keep only their key schedule and tables), so one may serve many
// Readers at once; TestBlobKeyShared runs that under the race detector. The
// key bytes are zeroed once the AEAD is built; its key schedule, which
// opens this one blob only, goes with the garbage.
type BlobKey struct {
	hdr  [HeaderSize]byte
	aead cipher.AEAD
}

func newBlobKey(h *header, partKey []byte) (*BlobKey, error) {
	if len(partKey) != h.alg.KeySize() {
		return nil, fmt.Errorf("sealed: part key is %d bytes, %v needs %d", len(partKey), h.alg, h.alg.KeySize())
	}
	k := &BlobKey{hdr: h.marshal()}
	var buf [len(blobKeyLabel) + HeaderSize]byte // the info stays on the stack
	info := append(buf[:0], blobKeyLabel...)
	info = append(info, k.hdr[:]...)
	var kb [32]byte
	key := kb[:h.alg.KeySize()]
	salt := h.salt // HKDF-SM3 keeps its salt past the call: a copy, so *h stays on its caller's stack
	derive(h.alg, key, partKey, salt[:], info)
	var block cipher.Block
	var err error
	switch h.alg {
	case AES256GCM:
		block, err = aes.NewCipher(key)
	case SM4GCM:
		// cipher.NewGCM picks up gmsm's assembly SM4-GCM through the
		// gcmAble interface that sm4's block implements where supported.
		block, err = sm4.NewCipher(key)
	}
	clear(kb[:])
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return k, nil
}

// nonce builds the 12-byte GCM nonce of segment i (the STREAM construction of
// Hoang, Reyhanitabar, Rogaway and Vizár):
//
//	bytes 0..2   zero
//	bytes 3..10  i, big-endian uint64
//	byte  11     1 for the last segment, 0 otherwise
//
// Binding the index stops reordering, duplication and splicing within a blob;
// binding the last flag stops truncation at a segment boundary and
// appending after the real last segment. The prefix can be zero because the
// key is unique per blob.
func nonce(n *[nonceSize]byte, i uint64, last bool) {
	n[0], n[1], n[2] = 0, 0, 0
	binary.BigEndian.PutUint64(n[3:11], i)
	n[11] = 0
	if last {
		n[11] = 1
	}
}

// normSegmentSize maps 0 to DefaultSegmentSize and validates the rest.
func normSegmentSize(s int) (int, error) {
	if s == 0 {
		return DefaultSegmentSize, nil
	}
	if s < MinSegmentSize || s > MaxSegmentSize {
		return 0, fmt.Errorf("sealed: segment size %d outside [%d, %d]", s, MinSegmentSize, MaxSegmentSize)
	}
	return s, nil
}

// SealedSize returns the exact stored size of a blob holding plaintextSize
// bytes cut into segments of segmentSize bytes (0 means DefaultSegmentSize).
// It panics on a negative size or an invalid segment size.
func SealedSize(plaintextSize int64, segmentSize int) int64 {
	s, err := normSegmentSize(segmentSize)
	if err != nil {
		panic(err)
	}
	if plaintextSize < 0 {
		panic("sealed: SealedSize: negative plaintext size")
	}
	return int64(HeaderSize) + segments(plaintextSize, s)*TagSize + plaintextSize
}

// PlainSize returns the exact stored size of a plain blob holding
// plaintextSize bytes cut into segments of segmentSize bytes (0 means
// DefaultSegmentSize). It panics on a negative size or an invalid segment
// size.
func PlainSize(plaintextSize int64, segmentSize int) int64 {
	s, err := normSegmentSize(segmentSize)
	if err != nil {
		panic(err)
	}
	if plaintextSize < 0 {
		panic("sealed: PlainSize: negative plaintext size")
	}
	return int64(PlainHeaderSize) + segments(plaintextSize, s)*SumSize + plaintextSize
}

// segments is the number of segments of a plaintext of n bytes: an empty
// plaintext still has one (empty, last) segment.
func segments(n int64, segSize int) int64 {
	if n == 0 {
		return 1
	}
	return (n-1)/int64(segSize) + 1
}

// plaintextSize inverts SealedSize (or PlainSize) for a known segment size,
// header size and per-segment overhead. Only canonical layouts are
// accepted: the last segment carries 1..segSize bytes, or 0 bytes when it is
// the only one.
func plaintextSize(stored int64, segSize, hdr, overhead int) (int64, bool) {
	body := stored - int64(hdr)
	ovh := int64(overhead)
	if body < ovh {
		return 0, false
	}
	full := int64(segSize) + ovh
	k, r := body/full, body%full
	switch {
	case k == 0:
		return r - ovh, true // r >= overhead: empty or short only segment
	case r == 0:
		return k * int64(segSize), true
	case r > ovh:
		return k*int64(segSize) + r - ovh, true
	}
	return 0, false // a trailing fragment too short to be a non-empty segment
}
