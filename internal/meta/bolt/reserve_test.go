package bolt

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"strongroom/internal/meta"
)

// TestReserveAllocated: the database file has DefaultReserve bytes
// allocated past its end once opened, and again before a mutation that
// may grow it runs.
func TestReserveAllocated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.reserve.off {
		t.Skip("no fallocate on this filesystem: the reserve is off")
	}
	check := func(when string) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		allocated := fi.Sys().(*syscall.Stat_t).Blocks * 512
		if allocated < fi.Size()+DefaultReserve {
			t.Errorf("%s: %d bytes allocated for a %d-byte file, want the size plus %d", when, allocated, fi.Size(), DefaultReserve)
		}
	}
	check("after Open")
	big := make([]byte, 4<<20)
	if err := s.PutUser(t.Context(), &meta.User{Name: "u", Keys: []meta.AccessKey{{ID: "AK1", Secret: big}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.reserve.room(); err != nil { // what every growing mutation does first
		t.Fatal(err)
	}
	check("after growing")
}
