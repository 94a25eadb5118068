package meta

import (
	"context"
	"errors"
	"time"
)

// ErrNoSuchKeyPolicy: no policy is stored for a KMS key.
var ErrNoSuchKeyPolicy = errors.New("meta: no such key policy")

// KeyPolicy is what strongroom itself records about a KMS key (CMK) beside
// the provider's own state: who owns it, who may use it, and its deletion
// schedule. It lives in the metadata store so that it works the same for
// every provider (builtin keyring, PKCS#11, KMIP) and never touches key
// material. A key with no policy is owned by the root account and has no
// grants.
type KeyPolicy struct {
	Key   string // canonical key id
	Owner string // user name; "" is the root account
	// Grants maps a user name to what it may do with the key.
	Grants map[string]KeyGrant `json:",omitempty"`
	// DeletionDate is when the key material is destroyed (zero: not
	// scheduled). From scheduling on the key neither encrypts nor decrypts.
	DeletionDate time.Time `json:",omitzero"`
	// Destroyed is when the key material was destroyed (zero: it exists).
	Destroyed time.Time `json:",omitzero"`
	// Shred reports what the destruction made unreadable.
	Shred *ShredReport `json:",omitempty"`
}

// KeyGrant is what a grantee may do with a key.
type KeyGrant struct {
	Encrypt bool `json:",omitempty"` // wrap new object keys (writes)
	Decrypt bool `json:",omitempty"` // unwrap object keys (reads)
}

// ShredReport lists what a destroyed key made unreadable (crypto-shredding).
type ShredReport struct {
	Destroyed time.Time
	// Versions counts the object versions under the key, per bucket.
	Versions map[string]int64 `json:",omitempty"`
	// Sample names the first versions found ("bucket/key@version").
	Sample []string `json:",omitempty"`
}

// Pending reports whether the key is scheduled for deletion (or destroyed).
func (p *KeyPolicy) Pending() bool {
	return p != nil && (!p.DeletionDate.IsZero() || !p.Destroyed.IsZero())
}

// KeyPolicies keeps KMS key policies. A store that keeps them implements it
// beside Store.
type KeyPolicies interface {
	GetKeyPolicy(ctx context.Context, key string) (*KeyPolicy, error) // ErrNoSuchKeyPolicy
	// UpdateKeyPolicy applies fn to the key's policy atomically, starting
	// from KeyPolicy{Key: key} when there is none, and returns what was
	// stored.
	UpdateKeyPolicy(ctx context.Context, key string, fn func(*KeyPolicy) error) (*KeyPolicy, error)
	ListKeyPolicies(ctx context.Context) ([]*KeyPolicy, error) // in key order
}
