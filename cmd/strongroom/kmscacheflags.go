package main

import (
	"flag"
	"strconv"
	"time"

	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// bindKMSCacheFlags binds --kms-cache-ttl and --kms-cache-size: an
// explicit 0 turns the cache of unwrapped keys off (stored as -1, since
// 0 in the configuration means the default).
func bindKMSCacheFlags(fs *flag.FlagSet, c *server.KMSCache) {
	fs.Func("kms-cache-ttl", "how long an unwrapped bucket key (or SSE-S3 object key) is used without asking the KMS again (default "+sse.DefaultCacheTTL.String()+"; 0: no cache)", func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		if d == 0 {
			d = -1
		}
		c.KMSCacheTTL = d
		return nil
	})
	fs.Func("kms-cache-size", "most unwrapped bucket keys kept in memory (default "+strconv.Itoa(sse.DefaultCacheSize)+"; 0: no cache, of object keys either)", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		if n == 0 {
			n = -1
		}
		c.KMSCacheSize = n
		return nil
	})
}
