// Package replication is bucket replication's canonical model: the rules a
// bucket's replication configuration holds (whatever dialect's document
// carried them), which rule an object version matches, and the destination
// a rule names. It decides; internal/service moves the data.
package replication

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrPermanent is wrapped by replication errors that retrying cannot cure
// (the destination bucket does not exist, the rule forbids the object):
// the version is marked FAILED at once instead of being retried.
var ErrPermanent = errors.New("replication: permanent failure")

// ConfigName is the bucket configuration entry (meta.Bucket.Config) that
// holds a bucket's replication configuration, JSON-encoded Config.
const ConfigName = "replication"

// Replication status values (x-amz-replication-status and the vendors'
// equivalents).
const (
	StatusPending   = "PENDING"
	StatusCompleted = "COMPLETED"
	StatusFailed    = "FAILED"
	StatusReplica   = "REPLICA"
)

// Config is a bucket's replication configuration.
type Config struct {
	// Role is the IAM role the S3 document names; stored and echoed, not
	// used (strongroom replicates under its own authority).
	Role  string `json:",omitempty"`
	Rules []Rule
}

// Rule is one replication rule.
type Rule struct {
	ID       string
	Priority int  `json:",omitempty"`
	Enabled  bool // Status Enabled
	// Prefix and Tags select the objects (every one set must match).
	Prefix string `json:",omitempty"`
	Tags   []Tag  `json:",omitempty"`
	// Prefixes is OSS's PrefixSet: the key must also start with one of
	// them (none: any key).
	Prefixes []string `json:",omitempty"`
	// LegacyPrefix: the S3 document gave a rule-level Prefix (the first
	// schema) rather than a Filter; echoed the same way.
	LegacyPrefix bool `json:",omitempty"`
	// Destination is where the rule's replicas go.
	Destination Destination
	// ReplicaKMSKeyID is the KMS key SSE-KMS replicas are wrapped under
	// at the destination (EncryptionConfiguration/ReplicaKmsKeyID).
	ReplicaKMSKeyID string `json:",omitempty"`
	// SSEKMSEncrypted: SSE-KMS objects are replicated
	// (SourceSelectionCriteria/SseKmsEncryptedObjects Enabled); without
	// it they are not, as in S3.
	SSEKMSEncrypted bool `json:",omitempty"`
	// DeleteMarkers: delete markers are replicated
	// (DeleteMarkerReplication Enabled).
	DeleteMarkers bool `json:",omitempty"`
	// StorageClass of the replicas ("": the source's).
	StorageClass string `json:",omitempty"`
}

// Tag is an object tag a rule requires.
type Tag struct{ Key, Value string }

// Destination names a destination bucket: on this deployment (Remote ""),
// or on another strongroom deployment registered with `strongroom remote
// add` (Remote is its name; a region named in an ARN selects the remote
// registered under that name).
type Destination struct {
	Bucket string
	Remote string `json:",omitempty"`
	// ARN is the destination as the client wrote it, echoed back.
	ARN string `json:",omitempty"`
	// Region is the region the document named (the ARN's region field,
	// COS's <region>, OSS's Location), echoed back; when it is a
	// registered remote's name, Remote is set to it.
	Region string `json:",omitempty"`
}

// Local reports whether the destination is a bucket of this deployment.
func (d Destination) Local() bool { return d.Remote == "" }

func (d Destination) String() string {
	if d.Local() {
		return d.Bucket
	}
	return d.Remote + ":" + d.Bucket
}

// Match returns the enabled rule that applies to an object version with
// this key and these tags: the matching rule with the highest Priority
// (the first one listed among equals), or nil.
func (c *Config) Match(key string, tags map[string]string) *Rule {
	var best *Rule
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.Enabled || !r.matches(key, tags) {
			continue
		}
		if best == nil || r.Priority > best.Priority {
			best = r
		}
	}
	return best
}

func (r *Rule) matches(key string, tags map[string]string) bool {
	if !strings.HasPrefix(key, r.Prefix) {
		return false
	}
	if len(r.Prefixes) > 0 && !slices.ContainsFunc(r.Prefixes, func(p string) bool { return strings.HasPrefix(key, p) }) {
		return false
	}
	for _, t := range r.Tags {
		if v, ok := tags[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	return true
}

// Rule returns the rule with this ID, or nil.
func (c *Config) Rule(id string) *Rule {
	for i := range c.Rules {
		if c.Rules[i].ID == id {
			return &c.Rules[i]
		}
	}
	return nil
}

// Encode is the stored form of c (meta.Bucket.Config[ConfigName]).
func (c *Config) Encode() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return b
}

// Decode reads a stored configuration.
func Decode(b []byte) (*Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("replication: stored configuration: %w", err)
	}
	return &c, nil
}
