package sse

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/kdf"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sealed"
)

// ObjectKeySize is the size of an object key (OEK).
const ObjectKeySize = 32

// Sealer creates object keys and recovers them from stored material.
type Sealer struct {
	kms kms.Provider
	// bucketKeys caches plaintext bucket keys by bucket and wrapped form
	// (see cacheID), so SSE-KMS with bucket keys calls the KMS once per
	// bucket key, not per object.
	mu         sync.Mutex
	bucketKeys map[string]*bucketKey // cacheID(bucket, wrapped) -> key
	current    map[string]string     // bucket + "\x00" + keyID -> wrapped of the key in use
	// pending holds the KMS calls in flight for a cache miss, so that
	// concurrent misses for the same bucket key wait for one call instead
	// of each calling the KMS (and, on writes, each minting a bucket key).
	pending   map[string]chan struct{}
	bucketTTL time.Duration
	cacheSize int // most bucket keys cached (cache.go)
	// oeks caches object keys, SSE-S3 ones and those unwrapped under a
	// cached bucket key, by the seeded hash of their oekID (oekcache.go).
	oeks     map[uint64]oekSlot
	oekSeed  maphash.Seed
	oekLimit int              // MaxObjectKeys (tests lower it)
	oekSeq   uint64           // object keys cached so far (oekSlot.seq)
	managed  int              // how many of oeks are SSE-S3 keys
	lookups  ObjectKeyLookups // under mu
	sweeper  *time.Timer      // drops expired keys of an idle cache
	now      func() time.Time
}

// bucketKey is a cached plaintext bucket key. fetched is when the KMS last
// vouched for it: after bucketTTL it must ask again. serial is the
// provider's kms.StateSerial read before that call: a key disabled since
// then (in the builtin keyring) makes every cached bucket key stale at
// once, so disabling a master key takes effect immediately for bucket-key
// buckets too, and within bucketTTL with a provider that cannot tell.
type bucketKey struct {
	plain     []byte
	keyID     string // canonical id of the master key that wraps it (writes)
	fetched   time.Time
	serial    uint64
	forWrites bool   // generated here for new objects (not only unwrapped)
	id        string // its name in bucketKeys (cacheID)
	// oeks lists the cached object keys unwrapped under this key
	// (oekcache.go): they leave with it.
	oeks *cachedOEK
}

// cacheID names a cached bucket key by its bucket too: the KMS vouched for
// a wrapped bucket key under its bucket's context only, so another bucket's
// object naming it must not get it from the cache.
func cacheID(bucket, wrapped string) string {
	var buf [256]byte // the usual name fits: one allocation, the string's
	return string(appendCacheID(buf[:0], bucket, wrapped))
}

// appendCacheID appends cacheID(bucket, wrapped) to dst (a read's stack
// buffer: a cache hit allocates nothing).
func appendCacheID(dst []byte, bucket, wrapped string) []byte {
	return append(append(append(dst, bucket...), 0), wrapped...)
}

func (s *Sealer) fresh(bk *bucketKey) bool {
	return bk != nil && s.now().Sub(bk.fetched) < s.bucketTTL && bk.serial == s.keyStateSerial()
}

// keyStateSerial is the provider's kms.StateSerial, 0 if it has none.
func (s *Sealer) keyStateSerial() uint64 {
	if p, ok := s.kms.(kms.StateSerial); ok {
		return p.KeyStateSerial()
	}
	return 0
}

// remember caches a bucket key and drops expired ones (the cache is small:
// a few keys per bucket and master key in use). Caller holds s.mu.
func (s *Sealer) remember(id string, bk *bucketKey) {
	s.dropExpired()
	if s.bucketTTL <= 0 || s.cacheSize <= 0 {
		clear(bk.plain) // caching is off: the caller holds its own copy
		return
	}
	s.evict(id) // a key cached again: its old entry's object keys go too
	s.makeRoom()
	bk.id = id
	s.bucketKeys[id] = bk
	s.scheduleSweep()
}

// NewSealer returns a Sealer over a key provider.
func NewSealer(p kms.Provider) *Sealer {
	return &Sealer{
		kms:        p,
		bucketKeys: make(map[string]*bucketKey),
		oeks:       make(map[uint64]oekSlot),
		oekSeed:    maphash.MakeSeed(),
		oekLimit:   MaxObjectKeys,
		current:    make(map[string]string),
		pending:    make(map[string]chan struct{}),
		bucketTTL:  DefaultCacheTTL,
		cacheSize:  DefaultCacheSize,
		now:        time.Now,
	}
}

// objectContext binds a wrapped object key to its bucket and key, plus the
// client's own context (S3 sends it as base64 JSON).
func objectContext(bucket, key, clientCtx string) (map[string]string, error) {
	c := map[string]string{}
	if clientCtx != "" {
		raw, err := base64.StdEncoding.DecodeString(clientCtx)
		if err != nil || json.Unmarshal(raw, &c) != nil {
			return nil, errs.InvalidArgument.WithMessage("The encryption context must be base64-encoded JSON of string values.")
		}
	}
	c["aws:s3:arn"] = "arn:aws:s3:::" + bucket + "/" + key
	return c, nil
}

// objectAAD is kms.EncodeContext(objectContext(bucket, key, clientCtx)),
// the additional data of an object key wrapped under a bucket key (and the
// name of a cached SSE-S3 key).
func objectAAD(bucket, key, clientCtx string) ([]byte, error) {
	return appendObjectAAD(nil, bucket, key, clientCtx)
}

// appendObjectAAD appends objectAAD(bucket, key, clientCtx) to dst. Without
// a client context (the usual case) it is encoded in place, with no map:
// a read passes a stack buffer and allocates nothing.
func appendObjectAAD(dst []byte, bucket, key, clientCtx string) ([]byte, error) {
	if clientCtx != "" {
		c, err := objectContext(bucket, key, clientCtx)
		if err != nil {
			return nil, err
		}
		return append(dst, kms.EncodeContext(c)...), nil
	}
	return kms.AppendContextPair(dst, "aws:s3:arn", "arn:aws:s3:::", bucket, "/", key), nil
}

func bucketContext(bucket string) map[string]string {
	return map[string]string{"aws:s3:arn": "arn:aws:s3:::" + bucket}
}

// NewObjectKey creates the key of a new object version under spec and the
// material to store. The caller zeroes the returned key when done.
//
// A key the cache would keep on its first read (SSE-S3, bucket keys) is put
// in the cache now, by the same rules, so reading the version back after
// the write asks no KMS; Kept.NewWriter keeps its blob key too.
func (s *Sealer) NewObjectKey(ctx context.Context, spec *Spec, bucket, key string) ([]byte, *meta.Encryption, Kept, error) {
	return s.newObjectKey(ctx, spec, bucket, key, true)
}

// newObjectKey is NewObjectKey; keep false leaves the cache alone.
func (s *Sealer) newObjectKey(ctx context.Context, spec *Spec, bucket, key string, keep bool) ([]byte, *meta.Encryption, Kept, error) {
	if (spec.Mode == Managed || spec.Mode == KMS) && !spec.BucketKey {
		// One KMS call creates and wraps the key.
		enc, octx, keyID, err := s.kmsEncryption(spec, bucket, key)
		if err != nil {
			return nil, nil, Kept{}, err
		}
		serial := s.keyStateSerial() // before the KMS vouches for the key (kept SSE-S3 keys)
		dk, err := s.kms.GenerateDataKey(ctx, keyID, octx)
		if err != nil {
			return nil, nil, Kept{}, kmsErr(err)
		}
		enc.WrappedKey = dk.Ciphertext
		if spec.Mode == KMS && enc.KeyID == "" {
			enc.KeyID = dk.KeyID // echo the default key's id, as S3 does
		}
		var kept Kept
		if keep && spec.Mode == Managed {
			// Named as a read looks it up. Making the key checked the
			// context, so naming it cannot fail; if it did, the key would
			// only go uncached.
			if aad, err := objectAAD(bucket, key, enc.Context); err == nil {
				kept.c = s.rememberManagedKey(aad, enc.WrappedKey, dk.Plaintext, serial)
			}
		}
		return dk.Plaintext, enc, kept, nil
	}
	oek := make([]byte, ObjectKeySize)
	rand.Read(oek)
	if spec.Mode != Managed && spec.Mode != KMS { // SSE-C: the customer's key wraps it
		enc, err := s.WrapObjectKey(ctx, spec, bucket, key, oek)
		if err != nil {
			clear(oek)
			return nil, nil, Kept{}, err
		}
		return oek, enc, Kept{}, nil
	}
	// Managed or KMS under a bucket key: wrapped here, no KMS call.
	enc, aad, err := s.wrapUnderBucketKey(ctx, spec, bucket, key, oek)
	if err != nil {
		clear(oek)
		return nil, nil, Kept{}, err
	}
	var kept Kept
	if keep {
		kept.c = s.rememberObjectKey(bucket, enc.WrappedBucketKey, aad, enc.WrappedKey, oek)
	}
	return oek, enc, kept, nil
}

// ErrCannotWrap is returned by WrapObjectKey when the KMS cannot wrap key
// material it did not generate (it implements no kms.Encrypter).
var ErrCannotWrap = errors.New("sse: the KMS cannot wrap an existing key")

// WrapObjectKey wraps an existing object key oek for bucket/key as spec
// says, as NewObjectKey would have wrapped a new one. A copy uses it to keep
// its source's sealed data: the same key under a new wrapping.
func (s *Sealer) WrapObjectKey(ctx context.Context, spec *Spec, bucket, key string, oek []byte) (*meta.Encryption, error) {
	switch spec.Mode {
	case Customer:
		enc := newEncryption(spec)
		salt := make([]byte, 32)
		rand.Read(salt)
		wrapped, err := wrapLocal(customerKEK(spec.CustomerKey, salt), oek, customerAAD)
		if err != nil {
			return nil, err
		}
		enc.Salt, enc.WrappedKey = salt, wrapped
		return enc, nil
	case Managed, KMS:
		if spec.BucketKey {
			enc, _, err := s.wrapUnderBucketKey(ctx, spec, bucket, key, oek)
			return enc, err
		}
		enc, octx, keyID, err := s.kmsEncryption(spec, bucket, key)
		if err != nil {
			return nil, err
		}
		e, ok := s.kms.(kms.Encrypter)
		if !ok {
			return nil, ErrCannotWrap
		}
		ct, id, err := e.Encrypt(ctx, keyID, oek, octx)
		if errors.Is(err, errors.ErrUnsupported) {
			return nil, ErrCannotWrap
		}
		if err != nil {
			return nil, kmsErr(err)
		}
		enc.WrappedKey = ct
		if spec.Mode == KMS && enc.KeyID == "" {
			enc.KeyID = id
		}
		return enc, nil
	}
	return nil, fmt.Errorf("sse: unknown mode %q", spec.Mode)
}

func newEncryption(spec *Spec) *meta.Encryption {
	return &meta.Encryption{Mode: string(spec.Mode), Algorithm: spec.Algorithm, SegmentSize: sealed.DefaultSegmentSize}
}

// kmsEncryption starts the stored material of a managed or KMS key and
// returns the encryption context and the CMK to wrap it under.
func (s *Sealer) kmsEncryption(spec *Spec, bucket, key string) (*meta.Encryption, map[string]string, string, error) {
	enc, keyID := kmsMaterial(spec)
	octx, err := objectContext(bucket, key, spec.Context)
	if err != nil {
		return nil, nil, "", err
	}
	return enc, octx, keyID, nil
}

// kmsMaterial starts the stored material of a managed or KMS key and
// returns the CMK to wrap it under.
func kmsMaterial(spec *Spec) (*meta.Encryption, string) {
	enc := newEncryption(spec)
	enc.KeyID, enc.ProjectID, enc.Context, enc.BucketKey = spec.KeyID, spec.ProjectID, spec.Context, spec.BucketKey
	keyID := spec.KeyID
	if spec.Mode == Managed {
		keyID = "" // the server's default managed key
	}
	return enc, keyID
}

// wrapUnderBucketKey wraps object key oek of bucket/key locally under the
// bucket's current bucket key, creating one (one KMS call) when none is
// cached, and returns the material and the additional data it was wrapped
// with (the name a read looks the key up by).
func (s *Sealer) wrapUnderBucketKey(ctx context.Context, spec *Spec, bucket, key string, oek []byte) (*meta.Encryption, []byte, error) {
	enc, keyID := kmsMaterial(spec)
	aad, err := objectAAD(bucket, key, spec.Context) // no context map: the bytes are what binds
	if err != nil {
		return nil, nil, err
	}
	wrappedBK, bk, err := s.currentBucketKey(ctx, bucket, keyID)
	if err != nil {
		return nil, nil, err
	}
	defer clear(bk.plain) // a copy: the cached one is zeroed on eviction
	w, err := wrapLocal(bk.plain, oek, aad)
	if err != nil {
		return nil, nil, err
	}
	enc.WrappedKey = w
	if Mode(enc.Mode) == KMS && enc.KeyID == "" {
		enc.KeyID = bk.keyID // echo the default key's id, as without bucket keys
	}
	enc.WrappedBucketKey = wrappedBK
	return enc, aad, nil
}

func (s *Sealer) currentBucketKey(ctx context.Context, bucket, keyID string) (string, *bucketKey, error) {
	// The names are built in stack buffers, and the strings only on a
	// miss: a hit is every bucket-key write.
	var ib, cb [256]byte
	id := append(append(append(ib[:0], bucket...), 0), keyID...)
	var flight string
	for {
		s.mu.Lock()
		if w, ok := s.current[string(id)]; ok {
			if bk := s.bucketKeys[string(appendCacheID(cb[:0], bucket, w))]; s.fresh(bk) && bk.forWrites {
				c := bk.copy()
				s.mu.Unlock()
				return w, c, nil
			}
		}
		if flight == "" {
			flight = "current\x00" + string(id)
		}
		lead, err := s.join(ctx, flight)
		if err != nil {
			return "", nil, err
		}
		if lead {
			break
		}
	}
	serial := s.keyStateSerial()
	dk, err := s.kms.GenerateDataKey(ctx, keyID, bucketContext(bucket))
	w := ""
	var bk *bucketKey
	s.mu.Lock()
	if err == nil {
		w = base64.StdEncoding.EncodeToString(dk.Ciphertext)
		cached := &bucketKey{plain: dk.Plaintext, keyID: dk.KeyID, fetched: s.now(), serial: serial, forWrites: true}
		bk = cached.copy()
		s.remember(cacheID(bucket, w), cached)
		s.current[string(id)] = w
	}
	s.land(flight)
	s.mu.Unlock()
	if err != nil {
		return "", nil, kmsErr(err)
	}
	return w, bk, nil
}

// join is called with s.mu held on a cache miss and returns with it
// released. If no KMS call for flight is in progress, the caller leads:
// it makes the call, then calls land(flight) with s.mu held. Otherwise
// join waits for the leader to land and the caller checks its cache
// again (and leads a new call if the leader failed).
func (s *Sealer) join(ctx context.Context, flight string) (lead bool, err error) {
	ch, busy := s.pending[flight]
	if !busy {
		s.pending[flight] = make(chan struct{})
		s.mu.Unlock()
		return true, nil
	}
	s.mu.Unlock()
	select {
	case <-ch:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// land ends the KMS call for flight and wakes its waiters (s.mu held).
func (s *Sealer) land(flight string) {
	close(s.pending[flight])
	delete(s.pending, flight)
}

// bucketKeyFor returns the plaintext of a stored bucket key, asking the KMS
// only when it is not cached.
func (s *Sealer) bucketKeyFor(ctx context.Context, bucket, wrapped string) ([]byte, error) {
	cid := cacheID(bucket, wrapped)
	var flight string // built on a miss only: a hit is every bucket-key read
	for {
		s.mu.Lock()
		bk := s.bucketKeys[cid]
		if s.fresh(bk) {
			c := bytes.Clone(bk.plain)
			s.mu.Unlock()
			return c, nil
		}
		if bk != nil {
			s.evict(cid) // stale (disabled, expired): zero it and its object keys now
		}
		if flight == "" {
			flight = "read\x00" + cid
		}
		lead, err := s.join(ctx, flight)
		if err != nil {
			return nil, err
		}
		if lead {
			break
		}
	}
	ct, err := base64.StdEncoding.DecodeString(wrapped)
	if err != nil {
		s.mu.Lock()
		s.land(flight)
		s.mu.Unlock()
		return nil, fmt.Errorf("sse: corrupt bucket key: %w", err)
	}
	serial := s.keyStateSerial()
	plain, err := s.kms.Decrypt(ctx, ct, bucketContext(bucket))
	s.mu.Lock()
	if err == nil {
		// Cached for reads only: new objects get a key this node generated.
		s.remember(cid, &bucketKey{plain: bytes.Clone(plain), fetched: s.now(), serial: serial})
	}
	s.land(flight)
	s.mu.Unlock()
	if err != nil {
		return nil, kmsErr(err)
	}
	return plain, nil
}

// ObjectKey recovers a stored object key, and where the cache keeps the
// blob keys derived from it (Kept.NewReader). For SSE-C, customer is the
// request's spec (nil when the request carried no key: InvalidRequest); a
// wrong key is AccessDenied.
func (s *Sealer) ObjectKey(ctx context.Context, enc *meta.Encryption, bucket, key string, customer *Spec) ([]byte, Kept, error) {
	switch Mode(enc.Mode) {
	case Customer:
		if customer == nil || customer.Mode != Customer {
			return nil, Kept{}, errs.InvalidRequest.WithMessage("The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
		}
		oek, err := unwrapLocal(customerKEK(customer.CustomerKey, enc.Salt), enc.WrappedKey, customerAAD)
		if err != nil {
			return nil, Kept{}, errs.AccessDenied
		}
		return oek, Kept{}, nil
	case Managed, KMS:
		var buf [256]byte // the AAD of a usual key fits: no allocation on a hit
		if w := enc.WrappedBucketKey; w != "" {
			aad, err := appendObjectAAD(buf[:0], bucket, key, enc.Context)
			if err != nil {
				return nil, Kept{}, err
			}
			oek, c := s.cachedObjectKey(bucket, w, aad, enc.WrappedKey)
			if oek != nil {
				return oek, Kept{c}, nil
			}
			bk, err := s.bucketKeyFor(ctx, bucket, w)
			if err != nil {
				return nil, Kept{}, err
			}
			defer clear(bk) // a copy: the cached one is zeroed on eviction
			// A copy of aad: the AEAD would keep buf from the stack.
			oek, err = unwrapLocal(bk, enc.WrappedKey, bytes.Clone(aad))
			if err != nil {
				return nil, Kept{}, fmt.Errorf("sse: object key does not unwrap under its bucket key: %w", err)
			}
			return oek, Kept{s.rememberObjectKey(bucket, w, aad, enc.WrappedKey, oek)}, nil
		}
		var aad []byte // SSE-S3 keys are cached by it (oekcache.go)
		if Mode(enc.Mode) == Managed {
			var err error
			if aad, err = appendObjectAAD(buf[:0], bucket, key, enc.Context); err != nil {
				return nil, Kept{}, err
			}
			if oek, c := s.cachedManagedKey(aad, enc.WrappedKey); oek != nil {
				return oek, Kept{c}, nil
			}
		}
		octx, err := objectContext(bucket, key, enc.Context)
		if err != nil {
			return nil, Kept{}, err
		}
		serial := s.keyStateSerial() // before the KMS vouches for the key
		oek, err := s.kms.Decrypt(ctx, enc.WrappedKey, octx)
		if err != nil {
			return nil, Kept{}, kmsErr(err)
		}
		var kept Kept
		if aad != nil {
			kept.c = s.rememberManagedKey(aad, enc.WrappedKey, oek, serial)
		}
		return oek, kept, nil
	}
	return nil, Kept{}, fmt.Errorf("sse: unknown stored mode %q", enc.Mode)
}

// CheckKey verifies that a KMS key named in a request exists and is enabled
// before any data is accepted.
func (s *Sealer) CheckKey(ctx context.Context, spec *Spec) error {
	if spec == nil || spec.Mode != KMS || spec.KeyID == "" {
		return nil
	}
	info, err := s.kms.DescribeKey(ctx, spec.KeyID)
	if err != nil {
		return kmsErr(err)
	}
	if !info.Enabled {
		return errs.KMSDisabled
	}
	return nil
}

// kmsErr passes canonical KMS errors through and marks anything else as
// the KMS being unavailable (never a client error). A wrapped key that
// does not decrypt is not an outage: the stored material or its context was
// altered, an internal error to log, which clients must not retry as 503.
func kmsErr(err error) error {
	if errs.As(err) != nil || errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, kms.ErrDecrypt) {
		return fmt.Errorf("sse: stored key does not unwrap: %w", err)
	}
	return fmt.Errorf("%w: %w", errs.KMSUnavailable, err)
}

var customerAAD = []byte("strongroom/sse-c/v1 object key")

const customerKEKInfo = "strongroom/sse-c/v1 kek"

// customerKEK derives the key that wraps an SSE-C object's key from the
// customer key and a per-object salt, so the stored material reveals
// nothing about the customer key, not even equality across objects.
func customerKEK(customerKey, salt []byte) []byte {
	k := make([]byte, 32)
	kdf.Key(k, customerKey, salt, []byte(customerKEKInfo))
	return k
}

// wrapLocal seals a key with AES-256-GCM: nonce || ciphertext || tag.
func wrapLocal(kek, plain, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plain)+g.Overhead())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, plain, aad), nil
}

func unwrapLocal(kek, wrapped, aad []byte) ([]byte, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(wrapped) < g.NonceSize()+g.Overhead() {
		return nil, errors.New("sse: wrapped key too short")
	}
	return g.Open(nil, wrapped[:g.NonceSize()], wrapped[g.NonceSize():], aad)
}

// PartKey is the key that seals part n of an object whose key is oek.
func PartKey(enc *meta.Encryption, oek []byte, n int) []byte {
	return sealed.PartKey(algorithm(enc.Algorithm), oek, n)
}

// NewWriter seals part n of an object into w.
func NewWriter(w io.Writer, enc *meta.Encryption, oek []byte, n int) (*sealed.Writer, error) {
	return Kept{}.NewWriter(w, enc, oek, n)
}

// SealedSize is the stored size of a part of plaintext size n.
func SealedSize(enc *meta.Encryption, n int64) int64 {
	return sealed.SealedSize(n, enc.SegmentSize)
}
