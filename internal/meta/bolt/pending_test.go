package bolt

import (
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
)

// TestCrashKeepsFreelist: every commit writes bbolt's free list, so an
// Open after a crash (the file closed without Store.Close) reads it rather
// than walking every page of the file, and opens within a bound that does
// not follow the object count.
func TestCrashKeepsFreelist(t *testing.T) {
	s, path := openTemp(t)
	mustBucket(t, s, "b")
	const n = 10_000
	fillInline(t, s, "b", n)
	metatest.MustPut(t, s, obj("b", "last", "x"))
	if err := s.db.Close(); err != nil { // a crash: no Store.Close
		t.Fatal(err)
	}
	if got := freelistPage(t, path); got == noFreelist {
		t.Fatal("the last commit before the crash left the free list unwritten: the next Open walks the whole file")
	}
	t0 := time.Now()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("Open after a crash at %d objects took %s", n, d)
	}
	if _, err := s2.GetObject(ctx, "b", "last"); err != nil {
		t.Fatal(err)
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
