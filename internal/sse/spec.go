// Package sse decides how an object is encrypted and seals and unseals its
// object key. It is dialect-free (a dialect parses its headers into a Spec)
// and never touches HTTP; the bytes themselves are sealed by
// internal/sealed with the keys this package derives.
//
// Precedence (DESIGN.md): the request's encryption headers, else the
// bucket's default encryption, else none. Defaults apply only to objects
// written after they are set.
package sse

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/sealed"
)

// Mode is an encryption mode.
type Mode string

// Modes. Their values are stored in object metadata: never change them.
const (
	None     Mode = ""
	Managed  Mode = "managed"  // SSE-S3 / SSE-OSS / SSE-COS / SSE-OBS
	KMS      Mode = "kms"      // SSE-KMS with a named (or the default) CMK
	Customer Mode = "customer" // SSE-C
)

// Data algorithms, as stored in metadata.
const (
	AES256 = "AES256"
	SM4    = "SM4"
)

// Spec is a request for encryption, in canonical form.
type Spec struct {
	Mode      Mode
	Algorithm string // data algorithm: AES256 (default) or SM4
	KeyID     string // KMS key as the client named it; "" for the default key
	ProjectID string // KMS project (OBS), echoed back
	Context   string // KMS encryption context as sent (S3: base64 JSON)
	BucketKey bool
	// SSE-C: the customer key (32 bytes) and its MD5 as the client sent it
	// (base64). The key is never stored, logged or returned.
	CustomerKey    []byte
	CustomerKeyMD5 string
}

// Customer returns an SSE-C spec after checking the key against its MD5 in
// constant time. algorithm must be AES256.
func CustomerSpec(algorithm, keyB64, keyMD5B64 string) (*Spec, error) {
	if algorithm != AES256 {
		return nil, errs.InvalidEncryptionAlgorithm
	}
	if keyB64 == "" || keyMD5B64 == "" {
		return nil, errs.InvalidArgument.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.")
	}
	key, err := base64.StdEncoding.DecodeString(keyB64)
	if err != nil || len(key) != 32 {
		return nil, errs.InvalidArgument.WithMessage("The secret key was invalid for the specified algorithm.")
	}
	sum := md5.Sum(key)
	want, err := base64.StdEncoding.DecodeString(keyMD5B64)
	if err != nil || subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return nil, errs.InvalidArgument.WithMessage("The calculated MD5 hash of the key did not match the hash that was provided.")
	}
	return &Spec{Mode: Customer, Algorithm: AES256, CustomerKey: key, CustomerKeyMD5: keyMD5B64}, nil
}

// Config is a bucket's default encryption.
type Config struct {
	Mode      Mode   `json:"mode"` // Managed or KMS
	Algorithm string `json:"algorithm,omitempty"`
	KeyID     string `json:"keyId,omitempty"`
	ProjectID string `json:"projectId,omitempty"`
	BucketKey bool   `json:"bucketKey,omitempty"`
	// BlockedTypes lists encryption types writes may not use ("SSE-C").
	BlockedTypes []string `json:"blocked,omitempty"`
}

// ConfigName is the bucket configuration key the default is stored under.
const ConfigName = "encryption"

// DecodeConfig reads a stored bucket default (nil when absent).
func DecodeConfig(b []byte) (*Config, error) {
	if b == nil {
		return nil, nil
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Encode serializes a bucket default for storage.
func (c *Config) Encode() []byte {
	b, _ := json.Marshal(c)
	return b
}

// Validate checks a bucket default in canonical form.
func (c *Config) Validate() error {
	switch c.Mode {
	case Managed:
		if c.KeyID != "" {
			return errs.InvalidArgument.WithMessage("KMSMasterKeyID is not applicable if the default sse algorithm is not KMS.")
		}
	case KMS:
	default:
		return errs.InvalidEncryptionAlgorithm
	}
	switch c.Algorithm {
	case "", AES256, SM4:
	default:
		return errs.InvalidEncryptionAlgorithm
	}
	for _, t := range c.BlockedTypes {
		if t != "SSE-C" && t != "NONE" {
			return errs.InvalidArgument.WithMessage("Invalid EncryptionType: " + t)
		}
	}
	return nil
}

func (c *Config) blocks(t string) bool {
	if c == nil {
		return false
	}
	for _, b := range c.BlockedTypes {
		if b == t {
			return true
		}
	}
	return false
}

// Resolve applies the precedence rule: the request's spec, else the bucket
// default, else nil (no encryption). A write the bucket blocks is refused.
func Resolve(req *Spec, def *Config) (*Spec, error) {
	if req != nil && req.Mode == Customer && def.blocks("SSE-C") {
		return nil, errs.AccessDenied.WithMessage("Requests specifying Server Side Encryption with Customer provided keys are blocked for this bucket.")
	}
	if req != nil && req.Mode != None {
		if req.Algorithm == "" {
			req.Algorithm = AES256
		}
		return req, nil
	}
	if def == nil || def.Mode == None {
		return nil, nil
	}
	alg := def.Algorithm
	if alg == "" {
		alg = AES256
	}
	return &Spec{Mode: def.Mode, Algorithm: alg, KeyID: def.KeyID, ProjectID: def.ProjectID, BucketKey: def.BucketKey}, nil
}

// algorithm maps a stored data algorithm to the sealed format's.
func algorithm(name string) sealed.Algorithm {
	if name == SM4 {
		return sealed.SM4GCM
	}
	return sealed.AES256GCM
}
