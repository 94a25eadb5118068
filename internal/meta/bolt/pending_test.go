package bolt

import (
	"encoding/binary"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
)

func pendingIDs(t *testing.T, s *Store) []string {
	t.Helper()
	var ids []string
	if err := s.ListPending(ctx, time.Now().Add(time.Hour), func(id string, _ time.Time) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestPendingJournal: each mutation settles the blobs it references and
// journals the ones it drops, in its own transaction.
func TestPendingJournal(t *testing.T) {
	s, _ := openTemp(t)
	mustBucket(t, s, "b")
	steps := []struct {
		name string
		add  []string // journaled before the step, as a blob write does
		do   func() error
		want []string // the journal after
	}{
		{"put settles", []string{"o1"}, func() error { _, err := s.PutObject(ctx, obj("b", "k", "o1"), nil); return err }, nil},
		{"overwrite journals the replaced", []string{"o2"}, func() error { _, err := s.PutObject(ctx, obj("b", "k", "o2"), nil); return err }, []string{"o1"}},
		{"remove", nil, func() error { return s.RemovePending(ctx, "o1", "unknown") }, nil},
		{"delete journals", nil, func() error { _, err := s.DeleteObject(ctx, "b", "k", nil); return err }, []string{"o2"}},
		{"upload part settles", []string{"p1"}, func() error {
			if err := s.CreateUpload(ctx, &meta.Upload{ID: "u1", Bucket: "b", Key: "m", Initiated: time.Now()}); err != nil {
				return err
			}
			_, err := s.PutPart(ctx, "b", "u1", &meta.Part{Number: 1, BlobID: "p1"})
			return err
		}, []string{"o2"}},
		{"part replaced", []string{"p2"}, func() error { _, err := s.PutPart(ctx, "b", "u1", &meta.Part{Number: 1, BlobID: "p2"}); return err }, []string{"o2", "p1"}},
		{"abort journals parts", nil, func() error { _, err := s.AbortUpload(ctx, "b", "u1"); return err }, []string{"o2", "p1", "p2"}},
		{"complete journals unused parts", []string{"p3", "p4"}, func() error {
			if err := s.RemovePending(ctx, "o2", "p1", "p2"); err != nil {
				return err
			}
			if err := s.CreateUpload(ctx, &meta.Upload{ID: "u2", Bucket: "b", Key: "m", Initiated: time.Now()}); err != nil {
				return err
			}
			for i, id := range []string{"p3", "p4"} {
				if _, err := s.PutPart(ctx, "b", "u2", &meta.Part{Number: i + 1, BlobID: id}); err != nil {
					return err
				}
			}
			o := obj("b", "m", "p3")
			o.Parts[0].Number = 1
			_, _, err := s.CompleteUpload(ctx, "b", "u2", o, nil)
			return err
		}, []string{"p4"}},
		{"update swapping a blob", []string{"r1"}, func() error {
			return s.UpdateObject(ctx, "b", "m", func(o *meta.Object) error { o.Parts[0].BlobID = "r1"; return nil })
		}, []string{"p3", "p4"}},
	}
	for _, st := range steps {
		if err := s.AddPending(ctx, time.Now(), st.add...); err != nil {
			t.Fatal(err)
		}
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := pendingIDs(t, s); !slices.Equal(got, st.want) {
			t.Fatalf("%s: journal %q, want %q", st.name, got, st.want)
		}
	}
}

func TestListPendingBefore(t *testing.T) {
	s, _ := openTemp(t)
	t0 := time.Unix(1700000000, 0)
	for c := range 25 { // more than a chunk
		var ids []string
		for i := range 100 {
			ids = append(ids, string(binary.BigEndian.AppendUint32(nil, uint32(c*100+i))))
		}
		if err := s.AddPending(ctx, t0.Add(time.Duration(c*100)*time.Second), ids...); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	err := s.ListPending(ctx, t0.Add(2000*time.Second), func(id string, added time.Time) error {
		if added.Sub(t0) >= 2000*time.Second {
			t.Fatalf("entry of %v listed", added)
		}
		n++
		return nil
	})
	if err != nil || n != 2000 {
		t.Fatalf("listed %d (%v), want 2000", n, err)
	}
}

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
