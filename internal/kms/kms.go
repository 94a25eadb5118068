// Package kms holds strongroom's key providers behind one interface.
//
// A Provider owns customer master keys (CMKs) and never lets them out: it
// generates data keys (the object encryption keys of the key hierarchy in
// DESIGN.md) and returns them both in plaintext and wrapped under a CMK, and
// it unwraps wrapped data keys again. Every wrap is bound to an encryption
// context (for SSE-KMS: the bucket and object key) that must be presented
// again to unwrap.
//
// Implementations: the builtin Keyring (a file in the data directory,
// encrypted under the root key); a PKCS#11 HSM and Vault/OpenBao Transit are
// meant to implement the same interface. Helpers shared by every backend live
// here too: ParseKeyID (key id, alias and ARN syntax), EncodeContext (the
// canonical, unambiguous encoding of an encryption context) and Counting (a
// per-operation call counter that wraps any Provider).
//
// kms never sees an object, never logs, and never puts key bytes in an error.
package kms

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// DataKeySize is the size in bytes of a generated data key.
const DataKeySize = 32

// DefaultKeyName is the name of the default managed CMK that the Keyring
// creates with a new keyring file. It is used when a key id is "".
const DefaultKeyName = "strongroom-default"

// MaxKeyNameLen is the longest canonical key name accepted.
const MaxKeyNameLen = 256

// DataKey is a freshly generated data key.
type DataKey struct {
	Plaintext  []byte // DataKeySize random bytes; the caller zeroes it after use
	Ciphertext []byte // self-describing: names the CMK and its version
	KeyID      string // canonical id of the CMK used
}

// KeyInfo describes a CMK.
type KeyInfo struct {
	ID       string    // canonical id (no "alias/" or ARN prefix)
	Created  time.Time // when the key was created
	Rotated  time.Time // when the newest version was created (== Created before any rotation)
	Enabled  bool      // a disabled key neither wraps nor unwraps
	Versions int       // number of versions; the newest wraps new data keys
	Default  bool      // the key used when a key id is ""
	// Retired lists the versions whose material was destroyed (`key
	// retire`), in ascending order; they unwrap nothing any more.
	Retired []uint32 `json:",omitempty"`
}

// Provider is a key management backend.
//
// Errors: ErrNotFound (unknown or malformed key id), ErrDisabled (the key
// exists but is disabled), ErrUnavailable (the backend cannot be reached or
// was closed), ErrDecrypt (the ciphertext is invalid, was tampered with, or
// the encryption context differs), or the context's error. All are safe to
// show: they never contain key material.
type Provider interface {
	// GenerateDataKey returns a new data key wrapped by CMK keyID ("" = the
	// default managed key), bound to encryption context encCtx (which must be
	// given again to Decrypt). A nil and an empty encCtx are the same context.
	GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (DataKey, error)
	// Decrypt unwraps a data key; wrong context or tampering fails with
	// ErrDecrypt. The CMK (and version) are read from the ciphertext.
	Decrypt(ctx context.Context, ciphertext []byte, encCtx map[string]string) ([]byte, error)
	// DescribeKey reports whether a key exists (ErrNotFound if not) and is
	// enabled (KeyInfo.Enabled; a disabled key is not an error here).
	DescribeKey(ctx context.Context, keyID string) (KeyInfo, error)
}

// Encrypter is implemented by providers that can wrap caller-supplied key
// material under a CMK. It is what re-wrapping an existing object key under
// another CMK (key rotation without rewriting data, bucket keys) needs: a
// Decrypt followed by an Encrypt. The result decrypts with Provider.Decrypt.
type Encrypter interface {
	// Encrypt wraps plaintext (1..MaxEncryptSize bytes) under CMK keyID
	// ("" = default), bound to encCtx. It returns the ciphertext and the
	// canonical id of the CMK used.
	Encrypt(ctx context.Context, keyID string, plaintext []byte, encCtx map[string]string) (ciphertext []byte, canonicalID string, err error)
}

// StateSerial is implemented by providers whose key state changes inside
// this process (the builtin Keyring). KeyStateSerial grows whenever a key is
// disabled, before the disabling call returns: whoever caches what a CMK
// vouched for (plaintext bucket keys) must ask the provider again once it
// differs from the value read before the call that filled the cache.
// Providers without it (external KMSs) are only asked again when such a
// cache entry expires.
type StateSerial interface {
	KeyStateSerial() uint64
}

// MaxEncryptSize is the largest plaintext Encrypter.Encrypt accepts.
const MaxEncryptSize = 4096

// Errors. ErrNotFound, ErrDisabled and ErrUnavailable are the canonical API
// errors themselves: providers return copies with a more specific message
// (errs.KMSNotFound.WithMessage(...)), and errors.Is matches both the kms and
// the errs names. ErrDecrypt is a plain error: what it means to a client
// (access denied, internal error) is for the caller to decide.
var (
	ErrNotFound    = errs.KMSNotFound
	ErrDisabled    = errs.KMSDisabled
	ErrUnavailable = errs.KMSUnavailable
	ErrDecrypt     = errors.New("kms: cannot decrypt: invalid ciphertext or wrong encryption context")

	// ErrInvalidKeyID is returned by ParseKeyID and by key creation for a
	// malformed key id. Lookups of a malformed id return ErrNotFound instead.
	ErrInvalidKeyID = errors.New("kms: invalid key id")
	// ErrKeyExists is returned when creating a key whose name is taken.
	ErrKeyExists = errors.New("kms: key already exists")
)

// Operation names used by call counters (Counting.Calls, Keyring.Calls).
const (
	OpGenerateDataKey = "GenerateDataKey"
	OpDecrypt         = "Decrypt"
	OpDescribeKey     = "DescribeKey"
	OpEncrypt         = "Encrypt"
)

// ParseKeyID returns the canonical name of a key id given as
//
//	name
//	alias/name
//	arn:<partition>:kms:<region>:<account>:key/name
//	arn:<partition>:kms:<region>:<account>:alias/name
//
// All four forms name the same key. A canonical name is 1..MaxKeyNameLen
// characters of [A-Za-z0-9/_:.-] that does not itself start with "alias/" or
// "arn:". Errors match ErrInvalidKeyID.
func ParseKeyID(s string) (string, error) {
	name := s
	if strings.HasPrefix(name, "arn:") {
		parts := strings.SplitN(name, ":", 6)
		if len(parts) != 6 || parts[1] == "" || parts[2] != "kms" {
			return "", fmt.Errorf("%w: %s: not a KMS key ARN", ErrInvalidKeyID, quoteID(s))
		}
		res := parts[5]
		switch {
		case strings.HasPrefix(res, "key/"):
			name = res[len("key/"):]
		case strings.HasPrefix(res, "alias/"):
			name = res[len("alias/"):]
		default:
			return "", fmt.Errorf("%w: %s: ARN resource must be key/<name> or alias/<name>", ErrInvalidKeyID, quoteID(s))
		}
	} else {
		name = strings.TrimPrefix(name, "alias/")
	}
	if err := validName(name); err != nil {
		return "", fmt.Errorf("%w: %s: %s", ErrInvalidKeyID, quoteID(s), err.Error())
	}
	return name, nil
}

type nameError string

func (e nameError) Error() string { return string(e) }

func validName(name string) error {
	if name == "" {
		return nameError("empty name")
	}
	if len(name) > MaxKeyNameLen {
		return nameError(fmt.Sprintf("name longer than %d characters", MaxKeyNameLen))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '/', c == '_', c == '-', c == ':', c == '.':
		default:
			return nameError("name may contain only A-Z a-z 0-9 / _ - : .")
		}
	}
	if strings.HasPrefix(name, "alias/") || strings.HasPrefix(name, "arn:") {
		return nameError(`name must not start with "alias/" or "arn:"`)
	}
	return nil
}

// quoteID quotes a (possibly hostile) key id for a message, shortened.
func quoteID(s string) string {
	const limit = 300
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}

// EncodeContext returns the canonical encoding of an encryption context, for
// use as (part of) the additional authenticated data of a wrap:
//
//	uint32 count, then for each pair in byte order of the keys:
//	uint32 len(key) || key || uint32 len(value) || value   (big endian)
//
// Lengths make it unambiguous ({"a":"bc"} and {"ab":"c"} differ); sorting
// makes it independent of map order. nil and an empty map encode the same.
func EncodeContext(encCtx map[string]string) []byte {
	return appendContext(nil, encCtx)
}

// EncodeContextPair is EncodeContext of the one-entry context {k: v},
// without building the map (a bucket-key read encodes one per GET).
func EncodeContextPair(k, v string) []byte {
	return AppendContextPair(make([]byte, 0, 12+len(k)+len(v)), k, v)
}

// AppendContextPair appends EncodeContextPair(k, v) to dst, where v is the
// concatenation of vs (so a caller with a stack buffer allocates nothing).
func AppendContextPair(dst []byte, k string, vs ...string) []byte {
	return appendPair(binary.BigEndian.AppendUint32(dst, 1), k, vs...)
}

// appendPair appends one pair of the encoding; the value is the
// concatenation of vs.
func appendPair(dst []byte, k string, vs ...string) []byte {
	n := 0
	for _, v := range vs {
		n += len(v)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(k)))
	dst = append(dst, k...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	for _, v := range vs {
		dst = append(dst, v...)
	}
	return dst
}

func appendContext(dst []byte, encCtx map[string]string) []byte {
	keys := make([]string, 0, len(encCtx))
	n := 4
	for k, v := range encCtx {
		keys = append(keys, k)
		n += 8 + len(k) + len(v)
	}
	slices.Sort(keys)
	dst = slices.Grow(dst, n)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(keys)))
	for _, k := range keys {
		dst = appendPair(dst, k, encCtx[k])
	}
	return dst
}

// Canonical errors with a specific message. Key ids are names, not secrets.
func notFound(id string) error {
	return ErrNotFound.WithMessage(fmt.Sprintf("Key %s does not exist.", quoteID(id)))
}

func invalidID(id string) error {
	return ErrNotFound.WithMessage(fmt.Sprintf("Invalid keyId %s.", quoteID(id)))
}

func disabled(id string) error {
	return ErrDisabled.WithMessage(fmt.Sprintf("Key %s is disabled.", quoteID(id)))
}
