package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"

	bbolt "go.etcd.io/bbolt"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// bucketCache keeps decoded bucket records, so that a request's bucket
// lookup (GetBucket) and a write's versioning state (bucketVersioning)
// do not decode the bucket's JSON record each time.
//
// An entry is good while the cache's epoch is the one it was read at; any
// bucket change (CreateBucket, UpdateBucket, DeleteBucket) advances the
// epoch inside its write transaction and again after it commits, so
//   - a write transaction that follows the change (they are serialized)
//     never sees an entry from before it, and
//   - a reader that read the old record before the commit stores it under
//     an epoch that is already gone.
//
// This is single-node: every change passes through this Store. Nodes
// sharing a metadata store would need a version check against the store
// (e.g. a bucket version read in the same transaction) instead.
type bucketCache struct {
	epoch atomic.Uint64
	mu    sync.RWMutex
	m     map[string]cachedBucket
}

type cachedBucket struct {
	epoch uint64
	b     *meta.Bucket // shared: never modified
}

// maxCachedBuckets bounds the cache; it is emptied when full.
const maxCachedBuckets = 4096

// get returns the cached bucket (shared, read only) or nil.
func (c *bucketCache) get(name string) *meta.Bucket {
	c.mu.RLock()
	e, ok := c.m[name]
	c.mu.RUnlock()
	if !ok || e.epoch != c.epoch.Load() {
		return nil
	}
	return e.b
}

// put caches b, read at epoch.
func (c *bucketCache) put(name string, epoch uint64, b *meta.Bucket) {
	if epoch != c.epoch.Load() {
		return
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedBuckets {
		c.m = make(map[string]cachedBucket)
	}
	c.m[name] = cachedBucket{epoch, b}
	c.mu.Unlock()
}

// changed invalidates every entry.
func (c *bucketCache) changed() { c.epoch.Add(1) }

// bucket returns the bucket's decoded record as the write transaction tx
// sees it, from the cache when it holds it (c nil: no cache). The result
// is shared.
func (c *bucketCache) bucket(tx *bbolt.Tx, name string) (*meta.Bucket, error) {
	if c == nil {
		return decodeBucket(tx, name)
	}
	if b := c.get(name); b != nil {
		return b, nil
	}
	// No bucket change commits while a write transaction runs, so what
	// it reads is current at the epoch it reads now.
	return c.fill(tx, name, c.epoch.Load())
}

// fill decodes the bucket's record in tx and caches it under epoch, which
// the caller read before tx began (or, in a write transaction, in it).
func (c *bucketCache) fill(tx *bbolt.Tx, name string, epoch uint64) (*meta.Bucket, error) {
	b, err := decodeBucket(tx, name)
	if err == nil {
		c.put(name, epoch, b)
	}
	return b, err
}

func decodeBucket(tx *bbolt.Tx, name string) (*meta.Bucket, error) {
	v := tx.Bucket(bkBuckets).Get([]byte(name))
	if v == nil {
		return nil, fmt.Errorf("%w: %q", meta.ErrNoSuchBucket, name)
	}
	b := new(meta.Bucket)
	if err := json.Unmarshal(v, b); err != nil {
		return nil, fmt.Errorf("meta/bolt: decode bucket %q: %w", name, err)
	}
	return b, nil
}

// GetBucket implements meta.Store, from the cache when it can. The
// caller gets its own Bucket; its Config map is shared with the cache and
// must not be modified (changes go through UpdateBucket, whose fn gets a
// fresh record).
func (s *Store) GetBucket(ctx context.Context, name string) (*meta.Bucket, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	b := s.buckets.get(name)
	if b == nil {
		// The epoch before the read transaction begins: a change that
		// commits after its snapshot was taken leaves the entry stale
		// under an epoch that is already gone.
		epoch := s.buckets.epoch.Load()
		err := s.db.View(func(tx *bbolt.Tx) error {
			var err error
			b, err = s.buckets.fill(tx, name, epoch)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	c := *b
	return &c, nil
}

// ReadTxs is the number of read transactions the store has started: what
// a request costs in metadata reads (tests, benchmarks).
func (s *Store) ReadTxs() int { return s.db.Stats().TxN }
