package server

import (
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// KMSCache bounds the node's cache of unwrapped bucket keys
// (--kms-cache-ttl, --kms-cache-size): 0 means the default
// (sse.DefaultCacheTTL, sse.DefaultCacheSize), a negative value turns the
// cache off.
type KMSCache struct {
	KMSCacheTTL  time.Duration `yaml:"kms-cache-ttl"`
	KMSCacheSize int           `yaml:"kms-cache-size"`
}

// newSealer is the node's sealer over its key provider, with the cache
// limits and clock of cfg.
func newSealer(cfg Config, p kms.Provider) *sse.Sealer {
	s := sse.NewSealer(p)
	ttl, size := cfg.KMSCacheTTL, cfg.KMSCacheSize
	if ttl == 0 {
		ttl = sse.DefaultCacheTTL
	}
	if size == 0 {
		size = sse.DefaultCacheSize
	}
	s.SetCacheLimits(max(ttl, 0), max(size, 0))
	s.SetClock(cfg.Now)
	return s
}
