package console

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// The store keeps exact counters of objects per encryption class for the
// whole store (meta.ObjectStats), updated with every write; it keeps none
// per bucket or per KMS key. Those the console counts itself, by listing
// object versions: at most Config.ScanLimit versions per count (a page
// says when a count stopped short), and a count is reused for countTTL so
// reloading pages does not rescan.
const countTTL = 15 * time.Second

// Encryption modes as meta.Encryption.Mode stores them.
const (
	modePlain    = ""
	modeManaged  = "managed"
	modeKMS      = "kms"
	modeCustomer = "customer"
)

// tally is a number of object versions and their plaintext bytes.
type tally struct {
	Objects int64
	Bytes   int64
}

func (t *tally) add(size int64) { t.Objects++; t.Bytes += size }

// bucketCount is one bucket's versions per encryption mode.
type bucketCount struct {
	Modes   map[string]*tally
	Partial bool // the count stopped inside this bucket
	Skipped bool // the count stopped before this bucket
}

func (b *bucketCount) mode(m string) tally {
	if t := b.Modes[m]; t != nil {
		return *t
	}
	return tally{}
}

// total is every version of the bucket that holds data.
func (b *bucketCount) total() tally {
	var t tally
	for _, m := range b.Modes {
		t.Objects += m.Objects
		t.Bytes += m.Bytes
	}
	return t
}

// counts is one bounded pass over the stored versions.
type counts struct {
	Buckets map[string]*bucketCount
	// Keys counts the versions whose object key (or bucket key) a KMS
	// key wraps, by the key's canonical id, read from the stored
	// ciphertext (sse.Refs), the default key's included.
	Keys    map[string]int64
	Scanned int
	Partial bool
	At      time.Time
}

type countCache struct {
	meta  meta.Store
	limit int

	mu   sync.Mutex // held during a count: concurrent page views share it
	last *counts
}

func newCountCache(m meta.Store, limit int) *countCache {
	return &countCache{meta: m, limit: limit}
}

// get returns a count at most countTTL old.
func (cc *countCache) get(ctx context.Context) (*counts, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.last != nil && time.Since(cc.last.At) < countTTL {
		return cc.last, nil
	}
	c, err := cc.count(ctx)
	if err != nil {
		return nil, err
	}
	cc.last = c
	return c, nil
}

var errLimit = errors.New("console: scan limit reached")

// count lists every bucket's versions, up to the limit.
func (cc *countCache) count(ctx context.Context) (*counts, error) {
	bs, err := cc.meta.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	c := &counts{Buckets: map[string]*bucketCount{}, Keys: map[string]int64{}, At: time.Now()}
	for _, b := range bs {
		bc := &bucketCount{Modes: map[string]*tally{}}
		c.Buckets[b.Name] = bc
		if c.Partial {
			bc.Skipped = true
			continue
		}
		err := cc.meta.ListObjectVersions(ctx, b.Name, "", "", "", func(o *meta.Object, _ bool) error {
			if c.Scanned >= cc.limit {
				return errLimit
			}
			c.Scanned++
			if o.DeleteMarker {
				return nil // no data, as the store's own counters
			}
			mode := modePlain
			if o.Encryption != nil {
				mode = o.Encryption.Mode
			}
			t := bc.Modes[mode]
			if t == nil {
				t = &tally{}
				bc.Modes[mode] = t
			}
			t.add(o.Size)
			// The key that wraps it as stored (its bucket key's, or its
			// own): after a rewrap --to another key that is not the one
			// its encryption settings name.
			if refs := sse.Refs(o.Encryption); len(refs) > 0 {
				c.Keys[refs[0].Key]++
			}
			return nil
		})
		switch {
		case errors.Is(err, errLimit):
			bc.Partial, c.Partial = true, true
		case errors.Is(err, meta.ErrNoSuchBucket):
			delete(c.Buckets, b.Name) // deleted since the listing
		case err != nil:
			return nil, err
		}
	}
	return c, nil
}
