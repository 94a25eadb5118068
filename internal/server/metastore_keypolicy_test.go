package server

import (
	"reflect"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres"
)

// Every store a node can open keeps key policies (a build error otherwise).
var (
	_ metaStore = (*bolt.Store)(nil)
	_ metaStore = (*postgres.Store)(nil)
)

// TestMetaStoreRequiresKeyPolicies: a node cannot be given a metadata
// store without key policies, which the service would have to treat as
// "no grants kept": openMeta's result type requires them.
func TestMetaStoreRequiresKeyPolicies(t *testing.T) {
	if !reflect.TypeFor[metaStore]().Implements(reflect.TypeFor[meta.KeyPolicies]()) {
		t.Fatal("server.metaStore does not require meta.KeyPolicies: a store without them would start")
	}
}
