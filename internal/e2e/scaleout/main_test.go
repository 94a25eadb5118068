package scaleout

import (
	"os"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgtest"
)

// TestMain runs either the tests (one shared PostgreSQL instance, see
// pgtest.Shared) or, when the test binary is re-executed as a node
// process the three-node suite can SIGKILL, that node (childnode_test.go).
func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		os.Exit(runChildNode(cfg))
	}
	e2eutil.CleanEnv()
	os.Exit(pgtest.Main(m))
}
