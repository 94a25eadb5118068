package iam

import (
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Cache bounds. Every signed request resolves its access key twice (the
// signature check, then the principal); without the cache each is a store
// read and a record decode.
const (
	cacheSize = 4096
	// cacheTTL bounds how long a user change made by another process on
	// the same metadata store (a scale-out node) goes unseen here; changes
	// made through this IAM are seen at once.
	cacheTTL = 10 * time.Second
)

// userCache maps access key ids to the user records holding them, as
// stored: secrets stay sealed in memory and are opened per use. Only hits
// are kept (a miss is not cached, so a key created elsewhere works at
// once).
type userCache struct {
	mu      sync.Mutex
	gen     uint64 // bumped by every change; a fill read before it is dropped
	deaf    bool   // changes elsewhere go unannounced: cache nothing
	entries map[string]cacheEntry
	now     func() time.Time
}

type cacheEntry struct {
	user    *meta.User // shared and never modified
	expires time.Time
}

func newUserCache() *userCache {
	return &userCache{entries: make(map[string]cacheEntry), now: time.Now}
}

// get returns the cached user of an access key, and the generation to give
// put when it missed.
func (c *userCache) get(accessKeyID string) (*meta.User, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[accessKeyID]
	if ok && c.now().Before(e.expires) {
		return e.user, c.gen
	}
	if ok {
		delete(c.entries, accessKeyID)
	}
	return nil, c.gen
}

// put caches u for accessKeyID unless a change happened since gen was read.
func (c *userCache) put(accessKeyID string, u *meta.User, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || c.deaf {
		return
	}
	if len(c.entries) >= cacheSize {
		for k := range c.entries { // an arbitrary victim
			delete(c.entries, k)
			break
		}
	}
	c.entries[accessKeyID] = cacheEntry{user: u, expires: c.now().Add(cacheTTL)}
}

// invalidate forgets everything: called after every user change, so a
// disabled user, a removed key or a new policy takes effect on the next
// request.
func (c *userCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// setDeaf forgets everything and, while deaf, caches nothing (see
// IAM.Invalidate).
func (c *userCache) setDeaf(deaf bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
	c.deaf = deaf
}
