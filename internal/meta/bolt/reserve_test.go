package bolt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
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

// TestReserveFullDisk: with the disk full, mutations that add records are
// refused with meta.ErrNoSpace and deletes commit; once deletes leave a
// reserve's worth of free pages inside the database, additions are
// accepted again (they reuse those pages).
func TestReserveFullDisk(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	for i := range 4 {
		u := &meta.User{Name: fmt.Sprintf("u%d", i), Keys: []meta.AccessKey{{ID: fmt.Sprintf("AK%d", i), Secret: make([]byte, 512<<10)}}}
		if err := s.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	s.reserve.mu.Lock()
	s.reserve.size = s.reserve.inside() + 1 // more than the free pages now
	s.reserve.off = false
	s.reserve.allocatedTo = 0 // the reserve must be topped up, and the disk is full
	s.reserve.fallocate = func(int, uint32, int64, int64) error { return syscall.ENOSPC }
	s.reserve.until.Store(0) // the last check must not stand (roomFresh): the disk just filled
	s.reserve.mu.Unlock()
	if err := s.PutUser(ctx, &meta.User{Name: "new"}); !errors.Is(err, meta.ErrNoSpace) {
		t.Fatalf("PutUser on a full disk: %v, want ErrNoSpace", err)
	}
	for i := range 4 {
		if err := s.DeleteUser(ctx, fmt.Sprintf("u%d", i)); err != nil {
			t.Fatalf("DeleteUser on a full disk: %v", err)
		}
	}
	if err := s.PutUser(ctx, &meta.User{Name: "new"}); err != nil {
		t.Fatalf("PutUser after deletes freed pages inside the database: %v", err)
	}
}
