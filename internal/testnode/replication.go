package testnode

import (
	"context"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
)

// SetReplication installs a bucket's replication configuration straight
// into the node's metadata (the replication queue's tests use it; the
// dialect documents set it through the API).
func (n *Node) SetReplication(t testing.TB, bucket string, c *replication.Config) {
	t.Helper()
	err := n.Meta().UpdateBucket(context.Background(), bucket, func(b *meta.Bucket) error {
		if b.Config == nil {
			b.Config = map[string][]byte{}
		}
		b.Config[replication.ConfigName] = c.Encode()
		return nil
	})
	if err != nil {
		t.Fatalf("setting the replication of %s: %v", bucket, err)
	}
}
