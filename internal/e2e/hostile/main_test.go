package hostile

import (
	"testing"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
)

func TestMain(m *testing.M) { e2eutil.Main(m) }
