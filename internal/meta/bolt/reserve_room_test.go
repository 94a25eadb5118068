package bolt

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// TestReserveRoomCached: a check that found the reserve in place stands
// for at most roomCredit further calls (no stat, no lock), and the check
// after them sees a disk that filled meanwhile.
func TestReserveRoomCached(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(path, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	var r reserve
	if err := r.open(path, 1<<20, nil); err != nil {
		t.Fatal(err)
	}
	defer r.close()
	if r.off {
		t.Skip("no fallocate on this filesystem")
	}
	r.until.Store(math.MaxInt64) // the count bound only: no timing on a loaded machine
	calls := 0
	r.fallocate = func(int, uint32, int64, int64) error { calls++; return unix.ENOSPC }
	if err := r.f.Truncate(8 << 20); err != nil { // the file grew past the reserve
		t.Fatal(err)
	}
	for i := range roomCredit {
		if err := r.room(); err != nil {
			t.Fatalf("call %d within the credit: %v", i, err)
		}
	}
	if calls != 0 {
		t.Fatalf("%d checks within the credit", calls)
	}
	if err := r.room(); !errors.Is(err, meta.ErrNoSpace) {
		t.Fatalf("after the credit: %v, want ErrNoSpace", err)
	}
	if err := r.room(); !errors.Is(err, meta.ErrNoSpace) {
		t.Fatalf("a failed check does not stand: %v", err)
	}
}
