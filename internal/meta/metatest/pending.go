package metatest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// pendingStore is a fresh store that keeps the pending-blob journal
// (meta.PendingBlobs); the test is skipped on one without.
func pendingStore(t *testing.T, be Backend) interface {
	meta.Store
	meta.PendingBlobs
} {
	t.Helper()
	s := be.Open(t)
	p, ok := s.(interface {
		meta.Store
		meta.PendingBlobs
	})
	if !ok {
		t.Skip("the store keeps no pending-blob journal")
	}
	return p
}

func pendingIDs(t *testing.T, s meta.PendingBlobs) []string {
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
func testPendingJournal(t *testing.T, be Backend) {
	s := pendingStore(t, be)
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
		{"a refused update journals nothing (r1 stays live)", nil, func() error {
			if err := s.UpdateObject(ctx, "b", "m", func(o *meta.Object) error { o.Parts = nil; return nil }); err == nil {
				return errors.New("an update dropping the parts was accepted")
			}
			return nil
		}, []string{"p3", "p4"}},
		{"delete bucket journals its uploads' parts", []string{"d1"}, func() error {
			mustBucket(t, s, "gone")
			if err := s.CreateUpload(ctx, &meta.Upload{ID: "u3", Bucket: "gone", Key: "m", Initiated: time.Now()}); err != nil {
				return err
			}
			if _, err := s.PutPart(ctx, "gone", "u3", &meta.Part{Number: 1, BlobID: "d1"}); err != nil {
				return err
			}
			_, err := s.DeleteBucket(ctx, "gone")
			return err
		}, []string{"d1", "p3", "p4"}},
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

// TestListPendingBefore: ListPending offers only entries added before its
// bound, across chunks.
func testListPendingBefore(t *testing.T, be Backend) {
	s := pendingStore(t, be)
	t0 := time.Unix(1700000000, 0)
	for c := range 25 { // more than a chunk
		var ids []string
		for i := range 100 {
			ids = append(ids, fmt.Sprintf("blob-%08d", c*100+i))
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
