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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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
	ErrNoSuchJob       = errors.New("meta: no such job")
	ErrNoSuchRemote    = errors.New("meta: no such remote")
	// ErrNoSuchVersion: the version ID is well formed but names no
	// version of the key.
	ErrNoSuchVersion = errors.New("meta: no such version")
	// ErrInvalidVersion: the version ID is not one this store issues.
	ErrInvalidVersion = errors.New("meta: invalid version id")
	// ErrStop may be returned by an iteration callback to end it early
	// without error.
	ErrStop = errors.New("meta: stop iteration")
	// ErrReplicaUnversioned: a replicated delete marker needs a
	// destination whose versioning is Enabled.
	ErrReplicaUnversioned = errors.New("meta: delete marker replica for a bucket without versioning")
	// ErrReplicaConflict: a replica's version ID names a slot another
	// version of the key holds.
	ErrReplicaConflict = errors.New("meta: replica version id conflicts with a version of the key")
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
	// Versioning is "" (never enabled), VersioningEnabled or
	// VersioningSuspended; once set it never returns to "".
	Versioning string `json:",omitempty"`
}

// Bucket versioning states.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// NullVersion selects the null version of a key (the one written while
// the bucket was unversioned or suspended) where a version ID is taken.
// Stored, the null version's VersionID is "".
const NullVersion = "null"

// DeleteMarkerError is returned (wrapping ErrNoSuchKey) by GetObject when
// the key's current version is a delete marker.
type DeleteMarkerError struct{ Marker *Object }

func (e *DeleteMarkerError) Error() string { return ErrNoSuchKey.Error() + " (delete marker)" }
func (e *DeleteMarkerError) Unwrap() error { return ErrNoSuchKey }

// Deletion is the outcome of DeleteObjectVersion.
type Deletion struct {
	// Removed is the version removed for good (its blobs are to be
	// deleted; a delete marker has none); nil when none was.
	Removed *Object
	// Marker is the delete marker created, if one was.
	Marker *Object
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
	// VersionID is the version's ID, issued by the store when a versioned
	// (Enabled) bucket installs it; "" is the null version.
	VersionID    string `json:",omitempty"`
	DeleteMarker bool   `json:",omitempty"` // a delete marker: no data
	Tags         []Tag  `json:",omitempty"` // object tags, sorted by key
	// ReplicationStatus is the version's replication state
	// (internal/replication: PENDING, COMPLETED, FAILED on a source;
	// REPLICA on a replica); "" when no rule applied.
	ReplicationStatus string `json:",omitempty"`
	// ReplicationRule names the rule that queues a version written with
	// ReplicationStatus PENDING; the store keeps it in the queue entry
	// (ReplicationEntry.Rule), not in the version.
	ReplicationRule string `json:"-"`
	Lock
}

// Lock is a version's object lock (WORM) state: a retention and a legal
// hold, each of which forbids removing the version for good while it holds.
type Lock struct {
	// LockMode is "GOVERNANCE" or "COMPLIANCE" ("": no retention).
	LockMode string `json:",omitempty"`
	// LockUntil is the retain-until date (UTC); meaningful with LockMode.
	LockUntil *time.Time `json:",omitempty"`
	LegalHold bool       `json:",omitempty"`
	// LegalHoldSet: a legal hold was placed on the version at some time
	// (one never placed is reported as no configuration, not as OFF).
	LegalHoldSet bool `json:",omitempty"`
}

// Tag is one key-value tag of an object or bucket.
type Tag struct {
	Key, Value string
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
	FormatPlainV1 = 1 // sealed.NewPlainWriter: segments with XXH3-64
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
	// WrappedBucketKey is the bucket key the object key is wrapped under
	// (base64 of the KMS's ciphertext), empty without one. Stored as
	// Extra["bucketKey"], as before it had a field of its own (see
	// MarshalJSON): records written by older versions read the same.
	WrappedBucketKey string            `json:"-"`
	Extra            map[string]string // provider-specific material
}

// ExtraBucketKey is the Extra entry records store WrappedBucketKey under.
const ExtraBucketKey = "bucketKey"

// encryptionJSON is Encryption without its JSON methods.
type encryptionJSON Encryption

// MarshalJSON writes e as it was stored before WrappedBucketKey had a
// field: under Extra["bucketKey"].
func (e Encryption) MarshalJSON() ([]byte, error) {
	j := encryptionJSON(e)
	if e.WrappedBucketKey != "" {
		j.Extra = make(map[string]string, len(e.Extra)+1)
		maps.Copy(j.Extra, e.Extra)
		j.Extra[ExtraBucketKey] = e.WrappedBucketKey
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote, taking the wrapped bucket
// key out of Extra.
func (e *Encryption) UnmarshalJSON(b []byte) error {
	var j encryptionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Encryption(j)
	e.WrappedBucketKey, e.Extra = splitExtra(e.Extra)
	return nil
}

// splitExtra takes the wrapped bucket key out of stored Extra entries m:
// it returns the key and the other entries (nil when there are none, as
// when m held only the key).
func splitExtra(m map[string]string) (string, map[string]string) {
	w, ok := m[ExtraBucketKey]
	if !ok {
		return "", m
	}
	delete(m, ExtraBucketKey)
	if len(m) == 0 {
		m = nil
	}
	return w, m
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
	Tags       []Tag  `json:",omitempty"` // tags of the object to be
	Lock              // object lock of the object to be, as requested
}

// CompletedUpload remembers a completed upload so that a repeated Complete
// succeeds idempotently.
type CompletedUpload struct {
	ID   string
	Key  string
	ETag string
	// Parts is the PartsDigest of the completed object's parts: only a
	// Complete that sends the same list is answered with success. Empty in
	// records written before it existed.
	Parts string `json:",omitempty"`
}

// PartsDigest identifies a part list by its part numbers and ETags (without
// quotes).
func PartsDigest(parts []Part) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d %s\n", p.Number, p.ETag)
	}
	return hex.EncodeToString(h.Sum(nil))
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

// ObjectStat counts the stored object versions of one encryption class:
// every version that holds data (noncurrent ones included, delete markers
// not), with its plaintext bytes. Mode and Algorithm are
// meta.Encryption's ("" and "" for plaintext).
type ObjectStat struct {
	Mode      string
	Algorithm string
	Objects   int64
	Bytes     int64
}

// ObjectStats is implemented by stores that keep ObjectStat counters in
// the same transactions that install and remove versions, so reading them
// costs nothing like a scan (metrics export them per scrape).
type ObjectStats interface {
	ObjectStats(ctx context.Context) ([]ObjectStat, error)
}

// Pinger is implemented by stores that can tell cheaply whether they
// answer (readiness probes).
type Pinger interface {
	Ping(ctx context.Context) error
}

// BucketObjectReader is implemented by stores that read a bucket and one
// of its objects in one round trip (a GET's two reads).
type BucketObjectReader interface {
	// GetBucketObject is GetBucket, then GetObject (versionID "") or
	// GetObjectVersion: the bucket is nil only with the bucket's error.
	GetBucketObject(ctx context.Context, bucket, key, versionID string) (*Bucket, *Object, error)
}

// RecordReader is implemented by stores that let a read say where an
// object's inline bytes go: nowhere for a HEAD, which sends none of them,
// or into a buffer the reader lends and takes back when its response is
// sent (a GET).
type RecordReader interface {
	// ReadObject is GetObject (versionID "") or GetObjectVersion, errors
	// included, with each inline part's bytes kept as into(stored) returns
	// them (bytes.Clone gives GetObject's copy; stored is valid only
	// during the call). With into nil no bytes are read: such a part has
	// a StoredSize but no Inline, as in a listing.
	ReadObject(ctx context.Context, bucket, key, versionID string, into func(stored []byte) []byte) (*Object, error)
}

// Store is the metadata store. All methods are safe for concurrent use.
// Every mutation is durable when it returns.
type Store interface {
	CreateBucket(ctx context.Context, b *Bucket) error // ErrBucketExists
	GetBucket(ctx context.Context, name string) (*Bucket, error)
	// UpdateBucket applies fn to the stored bucket atomically.
	UpdateBucket(ctx context.Context, name string, fn func(*Bucket) error) error
	// DeleteBucket fails with ErrBucketNotEmpty while objects (of any
	// version, delete markers included) remain; it
	// also drops the bucket's incomplete uploads, returning them so their
	// parts' blobs can be deleted.
	DeleteBucket(ctx context.Context, name string) ([]Part, error)
	ListBuckets(ctx context.Context) ([]*Bucket, error)

	// PutObject installs o as the current version of its key and returns
	// the version it replaced, if any, so its blobs can be deleted. A
	// non-nil cond is checked in the same transaction, against the version
	// to be replaced; its error aborts the install and is returned as is.
	//
	// The bucket's versioning state, read in the same transaction, decides
	// what happens to the versions already there:
	//   - never versioned: the current version is replaced;
	//   - Enabled: o gets a new VersionID (set on o) and the current
	//     version becomes noncurrent; nothing is replaced;
	//   - Suspended: o is the null version (VersionID ""): it replaces the
	//     null version wherever it is, and a non-null current version
	//     becomes noncurrent.
	// cond sees the current version; a current delete marker counts as no
	// object (nil).
	PutObject(ctx context.Context, o *Object, cond Precondition) (replaced *Object, err error)
	// PutReplica installs o, a replica of a version of another bucket
	// (internal/replication), without a precondition. In a bucket whose
	// versioning is Enabled the replica keeps o.VersionID (a strongroom
	// version ID, issued by the source's store): it becomes the current
	// version only if it is newer than the current one (by the sequence
	// its ID carries), and a version with that ID already there makes the
	// call a no-op (installed false). A replica of a null version
	// (VersionID "") replaces the bucket's null version, as a write while
	// Suspended would; in a never-versioned bucket any replica replaces
	// the key (its VersionID dropped). A delete marker needs Enabled:
	// ErrReplicaUnversioned. Replicas share the v index with the
	// bucket's own writes: ErrReplicaConflict when the slot o.VersionID
	// names holds another version.
	PutReplica(ctx context.Context, o *Object) (replaced *Object, installed bool, err error)
	// GetObject returns the current version: ErrNoSuchKey when there is
	// none, a *DeleteMarkerError (wrapping ErrNoSuchKey) when it is a
	// delete marker.
	GetObject(ctx context.Context, bucket, key string) (*Object, error)
	// GetObjectVersion returns one version (NullVersion: the null one),
	// delete markers included: ErrNoSuchVersion, ErrInvalidVersion.
	GetObjectVersion(ctx context.Context, bucket, key, versionID string) (*Object, error)
	// UpdateObjectVersion is UpdateObject on one version ("": the current
	// one; a delete marker cannot be updated: ErrNoSuchKey/Version).
	UpdateObjectVersion(ctx context.Context, bucket, key, versionID string, fn func(*Object) error) error
	// DeleteObjectVersion deletes as S3's DeleteObject does. With no
	// versionID (""): in a never-versioned bucket the key is removed; in
	// an Enabled one a delete marker becomes current; in a Suspended one
	// a null delete marker replaces the null version (which is Removed).
	// With a versionID, that version is removed for good (if the current
	// one, the newest noncurrent version becomes current); an unknown
	// version is not an error (nothing Removed). A non-nil cond is checked
	// in the same transaction against the version named (without a
	// versionID: the current one, nil when there is none or it is a
	// delete marker); its error aborts the deletion and is returned as is.
	DeleteObjectVersion(ctx context.Context, bucket, key, versionID string, cond Precondition) (*Deletion, error)
	// ListObjectVersions calls fn for every version (delete markers
	// included) of the keys with the prefix, in key order and, within a
	// key, newest first; latest marks each key's current version. It
	// starts after keyMarker's versions or, with versionMarker, after
	// that version of keyMarker. Chunked like ListObjects.
	ListObjectVersions(ctx context.Context, bucket, prefix, keyMarker, versionMarker string, fn func(o *Object, latest bool) error) error
	// ListVersionsDelimited is ListObjectVersions rolled up by delimiter,
	// as ListObjectsDelimited rolls up ListObjects (o nil with a common
	// prefix; one that keyMarker starts with is skipped).
	ListVersionsDelimited(ctx context.Context, bucket, prefix, delimiter, keyMarker, versionMarker string, fn func(o *Object, latest bool, commonPrefix string) error) error
	// UpdateObject applies fn to the current version of a key atomically
	// (metadata-only changes: fn must not change Bucket, Key or Parts).
	UpdateObject(ctx context.Context, bucket, key string, fn func(*Object) error) error
	// DeleteObject is DeleteObjectVersion without a version ID, returning
	// the version removed for good; deleting a missing key is not an error
	// (deleted is nil).
	DeleteObject(ctx context.Context, bucket, key string, cond Precondition) (deleted *Object, err error)
	// ListObjects calls fn for each object with the prefix whose key sorts
	// after `after`, in key order, until fn returns an error (ErrStop ends
	// the iteration cleanly).
	ListObjects(ctx context.Context, bucket, prefix, after string, fn func(*Object) error) error
	// ListObjectsDelimited is ListObjects rolled up by delimiter (""
	// rolls nothing up): a key with the delimiter after the prefix is not
	// returned; instead fn gets, once and in key order, its common prefix
	// (the key up to and including that delimiter; o nil), and the listing
	// moves past every key under it without reading them. A common prefix
	// that `after` starts with was returned by an earlier page and is
	// skipped. The cost of a page is proportional to the page.
	ListObjectsDelimited(ctx context.Context, bucket, prefix, delimiter, after string, fn func(o *Object, commonPrefix string) error) error

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

	Jobs
	ReplicationQueue

	Close() error
}

// ReplicationEntry is one object version waiting in the replication queue:
// added by the transaction that installs the version, removed only by the
// one that records its outcome (FinishReplication), so a crash loses none.
type ReplicationEntry struct {
	Seq          uint64 // queue position, issued by the store
	Bucket, Key  string
	VersionID    string // "" for the null version
	Rule         string // the rule that matched when it was written
	DeleteMarker bool   `json:",omitempty"`
	Enqueued     time.Time
	// Attempts, NextTry and LastError record failed attempts that are
	// retried (RetryReplication); NextTry zero: due at once.
	Attempts  int       `json:",omitempty"`
	NextTry   time.Time `json:",omitempty"`
	LastError string    `json:",omitempty"`
}

// ReplicationQueue is the durable queue of versions to replicate.
//
// PutObject and CompleteUpload queue the version they install when it is
// written with ReplicationStatus PENDING (its ReplicationRule naming the
// rule), in the installing transaction.
type ReplicationQueue interface {
	// DeleteObjectReplicated is DeleteObjectVersion without a version ID
	// where a delete marker created is written PENDING and queued under
	// rule in the same transaction.
	DeleteObjectReplicated(ctx context.Context, bucket, key, rule string, cond Precondition) (*Deletion, error)
	// NextReplications returns up to n entries queued after position
	// after, in queue order.
	NextReplications(ctx context.Context, after uint64, n int) ([]*ReplicationEntry, error)
	// RetryReplication stores e's Attempts, NextTry and LastError (an
	// entry no longer queued is left alone).
	RetryReplication(ctx context.Context, e *ReplicationEntry) error
	// FinishReplication removes e from the queue and, in the same
	// transaction, sets its version's ReplicationStatus to status if the
	// version is still there and PENDING. Finishing an entry no longer
	// queued changes nothing.
	FinishReplication(ctx context.Context, e *ReplicationEntry, status string) error
}

// Job is the durable state of one background job (internal/jobs): its
// lease, where its current pass stands, and what its passes did. Keeping it
// in the metadata store is what makes a pass resumable after a restart and
// exclusive among nodes that share the store.
type Job struct {
	Name string
	// Holder is the node holding the lease until LeaseUntil ("" or a past
	// time: free).
	Holder     string
	LeaseUntil time.Time
	// Cursor is the job's own progress marker inside the running pass;
	// nil between passes.
	Cursor      []byte    `json:",omitempty"`
	PassStarted time.Time // zero: no pass running
	LastPass    time.Time // end of the last complete pass
	NextRun     time.Time // the next pass (or retry) is due then
	Passes      int64     // completed passes
	Failures    int       // consecutive failed steps (backoff)
	LastError   string    `json:",omitempty"`
	// Pass counts what the running (or last) pass did, by name.
	Pass map[string]int64 `json:",omitempty"`
	// Total counts what every pass did, by name.
	Total map[string]int64 `json:",omitempty"`
}

// Jobs keeps background jobs' state.
type Jobs interface {
	GetJob(ctx context.Context, name string) (*Job, error) // ErrNoSuchJob
	// UpdateJob applies fn to the job's state atomically, starting from
	// Job{Name: name} when there is none, and returns what was stored.
	UpdateJob(ctx context.Context, name string, fn func(*Job) error) (*Job, error)
}

// Remote is another strongroom deployment registered as a replication
// destination (strongroom remote add). SealedSecret is its secret key,
// sealed under the root key by the owner of the store (internal/remote).
type Remote struct {
	Name         string
	URL          string
	AccessKey    string
	SealedSecret []byte
	Insecure     bool // TLS certificate not verified
	Created      time.Time
}

// Remotes keeps the registered remotes. A store that keeps them
// implements it beside Store.
type Remotes interface {
	PutRemote(ctx context.Context, r *Remote) error              // create or replace
	GetRemote(ctx context.Context, name string) (*Remote, error) // ErrNoSuchRemote
	DeleteRemote(ctx context.Context, name string) error         // ErrNoSuchRemote
	ListRemotes(ctx context.Context) ([]*Remote, error)          // in name order
}
