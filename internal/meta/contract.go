package meta

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors every store returns alike (the store contract, internal/metatest),
// beside the sentinels of meta.go.
var (
	// ErrUnavailable wraps errors of a store that cannot be reached (a
	// network store's connection refused or lost): the request may
	// succeed later, and the service answers 503.
	ErrUnavailable = errors.New("meta: metadata store unavailable")
	// ErrInvalid: an argument the store cannot record (empty names, an
	// object key that does not match its upload, ...).
	ErrInvalid = errors.New("meta: invalid argument")
	// ErrUploadExists: CreateUpload with an upload ID already used.
	ErrUploadExists = errors.New("meta: upload ID already exists")
	// ErrAccessKeyInUse: PutUser with an access key ID that belongs to
	// another user, or appears twice.
	ErrAccessKeyInUse = errors.New("meta: access key ID already in use")
)

// Version IDs. A store issues a version ID for sequence number seq (its
// order among the key's versions) as base64url(seq^r | r), r 8 random
// bytes, so IDs look alike whatever the sequence. Every store uses this
// form: a replica keeps its source's version ID, and the destination reads
// the sequence back out of it. An ID never starts with '-': command-line
// clients (the aws CLI among them) would read "--version-id -x..." as a
// flag, so r is drawn again when the encoding would.
const versionIDLen = 16

// NewVersionID returns a fresh version ID for seq.
func NewVersionID(seq uint64) string {
	var b [versionIDLen]byte
	for {
		rand.Read(b[8:])
		binary.BigEndian.PutUint64(b[:], seq^binary.BigEndian.Uint64(b[8:]))
		if id := base64.RawURLEncoding.EncodeToString(b[:]); id[0] != '-' {
			return id
		}
	}
}

// VersionSeq decodes the sequence inside a version ID (ErrInvalidVersion).
func VersionSeq(id string) (uint64, error) {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != versionIDLen {
		return 0, fmt.Errorf("%w: %q", ErrInvalidVersion, id)
	}
	return binary.BigEndian.Uint64(b) ^ binary.BigEndian.Uint64(b[8:]), nil
}

// ErrNoSuchBlob: SharedBlobs.GetBlob of a name never stored.
var ErrNoSuchBlob = errors.New("meta: no such shared blob")

// SharedBlobs keeps small named blobs every node of a deployment shares,
// such as the builtin keyring sealed under the root key (its file in the
// data directory serves one node only). The store sees them as opaque
// bytes. Implemented by stores that several nodes share.
type SharedBlobs interface {
	GetBlob(ctx context.Context, name string) ([]byte, error) // ErrNoSuchBlob
	// UpdateBlob replaces the blob with what fn returns from the current
	// one (nil when there is none), atomically across nodes; fn's error
	// aborts the update and is returned.
	UpdateBlob(ctx context.Context, name string, fn func(old []byte) ([]byte, error)) error
}
