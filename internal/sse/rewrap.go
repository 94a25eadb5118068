package sse

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Rewrapper moves the KMS-wrapped key material of stored objects (the
// object key, or the bucket key that wraps it) from one master key
// version to another without touching object data: unwrap with From, wrap
// again with To under ToKey. It is what `strongroom key rewrap` (newest
// version of the same key, or another key) and `key migrate` (the same key
// names in another provider) run over every object version.
type Rewrapper struct {
	From kms.Provider  // unwraps the stored material
	To   kms.Encrypter // wraps it again
	// Match selects the ciphertexts to move, by the key version they
	// name.
	Match func(kms.WrapRef) bool
	// ToKey is the key to wrap under; "" keeps each ciphertext's own key
	// name (rotation to the newest version, or migration by name).
	ToKey string

	mu sync.Mutex
	// bucketKeys maps a bucket key already rewrapped by this Rewrapper
	// (bucket + "\x00" + old wrapped form) to its new wrapped form: every
	// object under one bucket key gets the same new wrapped bucket key, so
	// they still share it (one KMS call per bucket key, not per object).
	bucketKeys map[string]string
}

// Refs returns the master key versions an object's stored material
// depends on (none for SSE-C and plaintext).
func Refs(enc *meta.Encryption) []kms.WrapRef {
	ct := kmsCiphertext(enc)
	if ct == nil {
		return nil
	}
	if r, ok := kms.ParseWrapRef(ct); ok {
		return []kms.WrapRef{r}
	}
	return nil
}

// kmsCiphertext is the KMS ciphertext an object's key depends on: its
// bucket key's when it has one, else its own wrapped key.
func kmsCiphertext(enc *meta.Encryption) []byte {
	if enc == nil || (Mode(enc.Mode) != Managed && Mode(enc.Mode) != KMS) {
		return nil
	}
	if w := enc.WrappedBucketKey; w != "" {
		ct, err := base64.StdEncoding.DecodeString(w)
		if err != nil {
			return nil
		}
		return ct
	}
	return enc.WrappedKey
}

// Needs reports whether enc holds material r.Match selects.
func (r *Rewrapper) Needs(enc *meta.Encryption) bool {
	refs := Refs(enc)
	return len(refs) > 0 && r.Match(refs[0])
}

// Rewrap returns a copy of enc (of object bucket/key) whose wrapped
// material is wrapped anew, or nil when enc needs no rewrap.
func (r *Rewrapper) Rewrap(ctx context.Context, enc *meta.Encryption, bucket, key string) (*meta.Encryption, error) {
	if !r.Needs(enc) {
		return nil, nil
	}
	out := *enc
	var newID string
	if w := enc.WrappedBucketKey; w != "" {
		nw, id, err := r.bucketKey(ctx, bucket, w)
		if err != nil {
			return nil, err
		}
		out.WrappedBucketKey, newID = nw, id
	} else {
		octx, err := objectContext(bucket, key, enc.Context)
		if err != nil {
			return nil, err
		}
		ct, id, err := r.rewrap(ctx, enc.WrappedKey, octx)
		if err != nil {
			return nil, err
		}
		out.WrappedKey, newID = ct, id
	}
	if Mode(out.Mode) == KMS && r.ToKey != "" {
		out.KeyID = newID // the key the client now sees protecting it
	}
	return &out, nil
}

func (r *Rewrapper) bucketKey(ctx context.Context, bucket, wrapped string) (string, string, error) {
	id := bucket + "\x00" + wrapped
	r.mu.Lock()
	nw, ok := r.bucketKeys[id]
	r.mu.Unlock()
	if ok {
		ref, _ := kms.ParseWrapRef(mustDecode(nw))
		return nw, ref.Key, nil
	}
	ct, err := base64.StdEncoding.DecodeString(wrapped)
	if err != nil {
		return "", "", fmt.Errorf("sse: corrupt bucket key: %w", err)
	}
	nct, keyID, err := r.rewrap(ctx, ct, bucketContext(bucket))
	if err != nil {
		return "", "", err
	}
	nw = base64.StdEncoding.EncodeToString(nct)
	r.mu.Lock()
	if r.bucketKeys == nil {
		r.bucketKeys = make(map[string]string)
	}
	r.bucketKeys[id] = nw
	r.mu.Unlock()
	return nw, keyID, nil
}

func mustDecode(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

// rewrap unwraps ct and wraps the plaintext again under the target key.
func (r *Rewrapper) rewrap(ctx context.Context, ct []byte, encCtx map[string]string) ([]byte, string, error) {
	keyID := r.ToKey
	if keyID == "" {
		ref, ok := kms.ParseWrapRef(ct)
		if !ok {
			return nil, "", errors.New("sse: stored key names no master key")
		}
		keyID = ref.Key
	}
	pt, err := r.From.Decrypt(ctx, ct, encCtx)
	if err != nil {
		return nil, "", kmsErr(err)
	}
	defer clear(pt)
	nct, id, err := r.To.Encrypt(ctx, keyID, pt, encCtx)
	if err != nil {
		return nil, "", kmsErr(err)
	}
	return nct, id, nil
}

// SameMaterial reports whether two stored encryptions hold the same key
// material (a rewrap installs only over what it read).
func SameMaterial(a, b *meta.Encryption) bool {
	if a == nil || b == nil {
		return a == b
	}
	return string(a.WrappedKey) == string(b.WrappedKey) && a.WrappedBucketKey == b.WrappedBucketKey &&
		a.Algorithm == b.Algorithm && a.Mode == b.Mode
}

// ForgetWriteKeys drops the bucket keys cached for new objects, so that
// writes after a rotation or rewrap get a bucket key wrapped under the
// newest master key version rather than the cached one (until its TTL).
func (s *Sealer) ForgetWriteKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.current)
}

// Provider is the key provider the Sealer uses.
func (s *Sealer) Provider() kms.Provider { return s.kms }
