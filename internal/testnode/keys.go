package testnode

import (
	"context"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/server"
)

// GrantKey lets users encrypt and decrypt under KMS key (strongroom key
// grant KEY USER): only the root account may use a key without a grant.
func (n *Node) GrantKey(t testing.TB, key string, users ...string) {
	t.Helper()
	for _, u := range users {
		if _, err := server.KeyPolicyOp(context.Background(), n.Keys, n.Meta(), "grant", key, u, "", time.Now()); err != nil {
			t.Fatalf("granting %s to %s: %v", key, u, err)
		}
	}
}
