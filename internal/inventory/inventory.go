// Package inventory is the bucket inventory configuration: its canonical
// model, the documents that carry it (S3's InventoryConfiguration, COS's
// and OSS's variants of it), validation with S3's errors, and the report
// itself: the columns and rows of the data files, the CSV encoding and the
// manifest, as S3 lays them out. It decides what a report holds;
// internal/service lists the bucket and delivers the files.
package inventory

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// ConfigName is the bucket configuration entry (meta.Bucket.Config) that
// holds all of a bucket's inventories, JSON-encoded Entry.
const ConfigName = "inventory"

// MaxConfigs is S3's (and OSS's) limit of inventory configurations per
// bucket.
const MaxConfigs = 1000

// MaxIDLength bounds a configuration ID (S3: up to 64 characters).
const MaxIDLength = 64

// Errors with S3's codes.
var (
	// ErrNoSuchConfiguration: GET or DELETE of an ID the bucket does not
	// have (S3 NoSuchConfiguration, 404; OSS says NoSuchInventory).
	ErrNoSuchConfiguration = &errs.Error{Code: "NoSuchConfiguration", Status: http.StatusNotFound, Message: "The specified configuration does not exist."}
	// ErrTooManyConfigurations: a new ID beyond MaxConfigs.
	ErrTooManyConfigurations = &errs.Error{Code: "TooManyConfigurations", Status: http.StatusBadRequest, Message: "You are attempting to create a new configuration but have already reached the 1,000-configuration limit."}
	// ErrNoDestinationBucket: the destination bucket does not exist.
	ErrNoDestinationBucket = errs.InvalidArgument.WithMessage("The destination bucket of the inventory does not exist.")
)

// Entry is what the bucket stores: every inventory configuration, in ID
// order, and when each last delivered a report.
type Entry struct {
	Configs []Config
	// Delivered is the start time of each configuration's last complete
	// report (by ID); a configuration put again starts over.
	Delivered map[string]time.Time `json:",omitempty"`
}

// Config is one inventory configuration.
type Config struct {
	ID          string
	Enabled     bool
	Destination Destination
	Filter      Filter
	// AllVersions lists every version (IncludedObjectVersions All), else
	// the current ones only.
	AllVersions bool
	// Fields are the optional fields, in the order configured (canonical
	// S3 names, see Fields).
	Fields    []string `json:",omitempty"`
	Frequency string   // Daily or Weekly
}

// Destination is where reports go.
type Destination struct {
	Bucket    string // the bucket's name
	BucketARN string // as the client wrote it (echoed back)
	AccountID string `json:",omitempty"`
	RoleArn   string `json:",omitempty"` // OSS
	Format    string // CSV, Parquet or ORC
	Prefix    string `json:",omitempty"`
	// Encryption of the report files (nil: the destination bucket's
	// default, else none).
	Encryption *Encryption `json:",omitempty"`
}

// Encryption is an inventory's own report encryption.
type Encryption struct {
	KMS   bool   // SSE-KMS, else the managed mode (SSE-S3/SSE-COS/SSE-OSS)
	KeyID string `json:",omitempty"` // the CMK of SSE-KMS
}

// Filter selects the objects listed; every set field must match.
type Filter struct {
	Prefix string `json:",omitempty"`
	// OSS's extra conditions: last-modified bounds (Unix seconds) and
	// size bounds (bytes, inclusive); 0 is no bound.
	ModifiedFrom int64 `json:",omitempty"`
	ModifiedTo   int64 `json:",omitempty"`
	MinSize      int64 `json:",omitempty"`
	MaxSize      int64 `json:",omitempty"`
	// StorageClass is OSS's comma-separated class list, kept and echoed;
	// every object here is STANDARD.
	StorageClass string `json:",omitempty"`
}

// Formats.
const (
	CSV     = "CSV"
	Parquet = "Parquet"
	ORC     = "ORC"
)

// Schedules.
const (
	Daily  = "Daily"
	Weekly = "Weekly"
)

// Optional fields. EncryptionAlgorithm is strongroom's: the data
// algorithm (AES256 or SM4) of an encrypted object.
const (
	FieldSize                      = "Size"
	FieldLastModifiedDate          = "LastModifiedDate"
	FieldStorageClass              = "StorageClass"
	FieldETag                      = "ETag"
	FieldIsMultipartUploaded       = "IsMultipartUploaded"
	FieldReplicationStatus         = "ReplicationStatus"
	FieldEncryptionStatus          = "EncryptionStatus"
	FieldBucketKeyStatus           = "BucketKeyStatus"
	FieldObjectLockRetainUntilDate = "ObjectLockRetainUntilDate"
	FieldObjectLockMode            = "ObjectLockMode"
	FieldObjectLockLegalHoldStatus = "ObjectLockLegalHoldStatus"
	FieldChecksumAlgorithm         = "ChecksumAlgorithm"
	FieldObjectOwner               = "ObjectOwner"
	FieldEncryptionAlgorithm       = "EncryptionAlgorithm"
)

// Fields are the optional fields a configuration may name: S3's, COS's
// and OSS's, and strongroom's EncryptionAlgorithm. Those with no meaning
// here (tiering, ACLs, transition times) are accepted and reported empty.
var Fields = []string{
	FieldSize, FieldLastModifiedDate, FieldStorageClass, FieldETag, FieldIsMultipartUploaded,
	FieldReplicationStatus, FieldEncryptionStatus, FieldBucketKeyStatus,
	FieldObjectLockRetainUntilDate, FieldObjectLockMode, FieldObjectLockLegalHoldStatus,
	FieldChecksumAlgorithm, FieldObjectOwner, FieldEncryptionAlgorithm,
	"IntelligentTieringAccessTier", "ObjectAccessControlList", "LifecycleExpirationDate",
	"Crc64", "Tag", "TransitionTime",
}

// Get returns the configuration with the ID, or nil.
func (e *Entry) Get(id string) *Config {
	i, ok := slices.BinarySearchFunc(e.Configs, id, func(c Config, id string) int { return strings.Compare(c.ID, id) })
	if !ok {
		return nil
	}
	return &e.Configs[i]
}

// Put adds or replaces c, keeping the ID order; a replaced configuration
// delivers anew.
func (e *Entry) Put(c Config) error {
	i, ok := slices.BinarySearchFunc(e.Configs, c.ID, func(c Config, id string) int { return strings.Compare(c.ID, id) })
	if ok {
		e.Configs[i] = c
	} else {
		if len(e.Configs) >= MaxConfigs {
			return ErrTooManyConfigurations
		}
		e.Configs = slices.Insert(e.Configs, i, c)
	}
	delete(e.Delivered, c.ID)
	return nil
}

// Delete removes the configuration with the ID.
func (e *Entry) Delete(id string) error {
	i, ok := slices.BinarySearchFunc(e.Configs, id, func(c Config, id string) int { return strings.Compare(c.ID, id) })
	if !ok {
		return ErrNoSuchConfiguration
	}
	e.Configs = slices.Delete(e.Configs, i, i+1)
	delete(e.Delivered, id)
	return nil
}

// Due reports whether c is to deliver at now, its last report having
// started at last (zero: never): Daily once per UTC day, Weekly once in
// seven UTC days.
func (c *Config) Due(last, now time.Time) bool {
	if !c.Enabled {
		return false
	}
	if last.IsZero() {
		return true
	}
	day := func(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
	days := int(day(now).Sub(day(last)) / (24 * time.Hour))
	if c.Frequency == Weekly {
		return days >= 7
	}
	return days >= 1
}
