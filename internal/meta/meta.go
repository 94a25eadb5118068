// Package meta defines the metadata tier: buckets, object versions (with
// their sealed key material), multipart uploads and users. The embedded
// implementation is bolt (bbolt in the data directory); the scale-out one is
// PostgreSQL.
//
// meta knows nothing about HTTP, dialects or cryptography: what it stores
// about encryption is opaque material that internal/sse produced.
package meta

import (
	"context"
	"errors"
	"time"
)

// Errors returned by stores. Callers map them to API errors.
var (
	ErrBucketExists    = errors.New("meta: bucket exists")
	ErrNoSuchBucket    = errors.New("meta: no such bucket")
	ErrBucketNotEmpty  = errors.New("meta: bucket not empty")
	ErrNoSuchKey       = errors.New("meta: no such key")
	ErrNoSuchUpload    = errors.New("meta: no such upload")
	ErrNoSuchUser      = errors.New("meta: no such user")
	ErrUserExists      = errors.New("meta: user exists")
	ErrNoSuchAccessKey = errors.New("meta: no such access key")
	// ErrStop may be returned by an iteration callback to end it early
	// without error.
	ErrStop = errors.New("meta: stop iteration")
	// ErrNoSpace is wrapped by errors of mutations refused or failed for
	// lack of storage space.
	ErrNoSpace = errors.New("meta: no space left for metadata")
)

// Bucket is a bucket and its configuration.
type Bucket struct {
	Name    string
	Owner   string // user name
	Created time.Time
	Region  string
	// Config holds the bucket's sub-resource configurations (encryption,
	// policy, acl, ...) keyed by name, each serialized by its owner package.
	Config map[string][]byte
}

// Object is the current version of an object.
type Object struct {
	Bucket       string
	Key          string
	Size         int64  // plaintext size
	ETag         string // quoted-less hex ETag, "-N" suffix for multipart
	LastModified time.Time
	Owner        string
	Headers      Headers
	UserMeta     map[string]string // lowercase names without the dialect prefix
	// Checksums maps an algorithm name (CRC32, CRC32C, CRC64NVME, SHA1,
	// SHA256, CRC64ECMA) to its value as sent on the wire.
	Checksums map[string]string
	// Parts are the object's data in order. A single PUT has one part with
	// Number 0; a completed multipart upload keeps its part numbers.
	Parts      []Part
	Multipart  bool
	Encryption *Encryption // nil: stored in plaintext
	ACL        string      // canned ACL; "" follows the bucket's
}

// Headers are the system metadata returned on GET/HEAD.
type Headers struct {
	ContentType        string
	ContentEncoding    string
	ContentDisposition string
	ContentLanguage    string
	CacheControl       string
	Expires            string
}

// Part is one sealed (or plaintext) stretch of an object's data, stored as
// one blob.
type Part struct {
	Number int
	BlobID string // empty: the bytes are Inline
	// Inline holds the stored bytes of a small part (ciphertext when
	// encrypted) inside the metadata record itself.
	Inline       []byte `json:",omitempty"`
	Size         int64  // plaintext bytes
	StoredSize   int64  // bytes in the blob (ciphertext + framing)
	ETag         string
	LastModified time.Time
	Checksums    map[string]string
	// Format is how a plaintext part is stored: FormatRaw (parts written
	// before checksummed framing) or FormatPlainV1. Encrypted parts are
	// sealed blobs whatever it says.
	Format int `json:",omitempty"`
}

// Part formats of plaintext parts.
const (
	FormatRaw     = 0 // the bytes as uploaded, unchecked
	FormatPlainV1 = 1 // sealed.NewPlainWriter: segments with CRC32C
)

// Encryption is how an object's (or upload's) data is sealed. It is written
// and read only by internal/sse; other layers pass it along.
type Encryption struct {
	Mode        string // "managed", "kms" or "customer"
	Algorithm   string // data algorithm: "AES256" or "SM4"
	KeyID       string // CMK as named by the client (echoed back); empty: default key
	ProjectID   string // KMS project (OBS), echoed back
	Context     string // KMS encryption context as the client sent it
	BucketKey   bool
	WrappedKey  []byte // object key wrapped by the KMS or by an SSE-C derived key
	Salt        []byte // SSE-C key derivation salt
	SegmentSize int
	Extra       map[string]string // provider-specific material
}

// Upload is an in-progress multipart upload.
type Upload struct {
	ID         string
	Bucket     string
	Key        string
	Initiated  time.Time
	Owner      string
	Headers    Headers
	UserMeta   map[string]string
	Checksum   string // checksum algorithm requested at initiation, if any
	Encryption *Encryption
	ACL        string // canned ACL of the object to be
}

// CompletedUpload remembers a completed upload so that a repeated Complete
// succeeds idempotently.
type CompletedUpload struct {
	ID   string
	Key  string
	ETag string
}

// User is an account that owns buckets and holds access keys.
type User struct {
	Name     string
	Created  time.Time
	Disabled bool
	Keys     []AccessKey
	Policies []string
}

// AccessKey is one credential pair of a user. Secret is sealed under the
// root key by the owner of the store (iam); meta stores it as given.
type AccessKey struct {
	ID       string
	Secret   []byte
	Created  time.Time
	Disabled bool
}

// Precondition checks the current version of a key (nil: none) inside the
// transaction that is about to replace it, so conditional writes
// (If-Match, If-None-Match) are atomic with the install.
type Precondition func(current *Object) error

// Store is the metadata store. All methods are safe for concurrent use.
// Every mutation is durable when it returns.
type Store interface {
	CreateBucket(ctx context.Context, b *Bucket) error // ErrBucketExists
	GetBucket(ctx context.Context, name string) (*Bucket, error)
	// UpdateBucket applies fn to the stored bucket atomically.
	UpdateBucket(ctx context.Context, name string, fn func(*Bucket) error) error
	// DeleteBucket fails with ErrBucketNotEmpty while objects remain; it
	// also drops the bucket's incomplete uploads, returning them so their
	// parts' blobs can be deleted.
	DeleteBucket(ctx context.Context, name string) ([]Part, error)
	ListBuckets(ctx context.Context) ([]*Bucket, error)

	// PutObject installs o as the current version of its key and returns
	// the version it replaced, if any, so its blobs can be deleted. A
	// non-nil cond is checked in the same transaction, against the version
	// to be replaced; its error aborts the install and is returned as is.
	PutObject(ctx context.Context, o *Object, cond Precondition) (replaced *Object, err error)
	GetObject(ctx context.Context, bucket, key string) (*Object, error) // ErrNoSuchKey
	// UpdateObject applies fn to the current version of a key atomically
	// (metadata-only changes: fn must not change Bucket, Key or Parts).
	UpdateObject(ctx context.Context, bucket, key string, fn func(*Object) error) error
	// DeleteObject removes the key; deleting a missing key is not an error
	// (deleted is nil).
	DeleteObject(ctx context.Context, bucket, key string) (deleted *Object, err error)
	// ListObjects calls fn for each object with the prefix whose key sorts
	// after `after`, in key order, until fn returns an error (ErrStop ends
	// the iteration cleanly).
	ListObjects(ctx context.Context, bucket, prefix, after string, fn func(*Object) error) error

	CreateUpload(ctx context.Context, u *Upload) error
	GetUpload(ctx context.Context, bucket, uploadID string) (*Upload, error) // ErrNoSuchUpload
	// PutPart records a part, returning the part it replaced, if any.
	PutPart(ctx context.Context, bucket, uploadID string, p *Part) (replaced *Part, err error)
	ListParts(ctx context.Context, bucket, uploadID string) ([]Part, error)
	// ListUploads lists a bucket's uploads ordered by key, then initiation.
	ListUploads(ctx context.Context, bucket, prefix string) ([]*Upload, error)
	// CompleteUpload atomically removes the upload and installs o. It
	// returns the object version replaced and the upload's parts that o
	// does not use, so their blobs can be deleted.
	// A non-nil cond is checked as for PutObject.
	CompleteUpload(ctx context.Context, bucket, uploadID string, o *Object, cond Precondition) (replaced *Object, unused []Part, err error)
	// GetCompletedUpload returns a recently completed upload.
	GetCompletedUpload(ctx context.Context, bucket, uploadID string) (*CompletedUpload, error)
	AbortUpload(ctx context.Context, bucket, uploadID string) ([]Part, error)

	PutUser(ctx context.Context, u *User) error              // create or replace; access key IDs must be unique
	GetUser(ctx context.Context, name string) (*User, error) // ErrNoSuchUser
	DeleteUser(ctx context.Context, name string) error
	ListUsers(ctx context.Context) ([]*User, error)
	// UserByAccessKey finds the user holding an access key.
	UserByAccessKey(ctx context.Context, accessKeyID string) (*User, error) // ErrNoSuchAccessKey

	// BlobRefs calls fn with every blob ID referenced by an object or part,
	// for orphan sweeping.
	BlobRefs(ctx context.Context, fn func(id string) error) error

	Close() error
}
