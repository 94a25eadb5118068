package bolt

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
)

// TestCloseWritesFreelist: a clean Close leaves bbolt's free list written,
// so the next Open reads it rather than walking the whole file.
func TestCloseWritesFreelist(t *testing.T) {
	s, path := openTemp(t)
	mustBucket(t, s, "b")
	for i := range 100 {
		metatest.MustPut(t, s, obj("b", string(rune('a'+i%26))+string(rune('a'+i/26)), "x"))
	}
	if got := freelistPage(t, path); got != noFreelist {
		t.Fatalf("free list written while open (page %d)", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := freelistPage(t, path); got == noFreelist {
		t.Fatal("free list not written by Close")
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	metatest.MustPut(t, s2, obj("b", "after", "y"))
	if got := freelistPage(t, path); got != noFreelist {
		t.Fatalf("a commit after reopening kept the written free list (page %d)", got)
	}
}

const noFreelist = ^uint64(0)

// freelistPage reads the free list page ID from the newest of bbolt's two
// meta pages (page header 16 bytes; meta: magic, version, page size,
// flags, root bucket (16), freelist, pgid, txid).
func freelistPage(t *testing.T, path string) uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.LittleEndian.Uint32(b[16+8:]))
	var best, txid uint64
	for i := range 2 {
		m := b[i*pageSize+16:]
		if tx := binary.LittleEndian.Uint64(m[48:]); i == 0 || tx > txid {
			best, txid = binary.LittleEndian.Uint64(m[32:]), tx
		}
	}
	return best
}

func TestCloseTwice(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
