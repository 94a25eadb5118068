package metatest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

func blobsOf(parts []meta.Part) []string {
	var ids []string
	for _, p := range parts {
		ids = append(ids, p.BlobID)
	}
	slices.Sort(ids)
	return ids
}

func testBuckets(t *testing.T, be Backend) {
	s := be.Open(t)
	for _, n := range []string{"zeta", "alpha", "mid"} {
		mustBucket(t, s, n)
	}
	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"create existing", func() error { return s.CreateBucket(ctx, &meta.Bucket{Name: "mid"}) }, meta.ErrBucketExists},
		{"create empty name", func() error { return s.CreateBucket(ctx, &meta.Bucket{}) }, meta.ErrInvalid},
		{"get missing", func() error { _, err := s.GetBucket(ctx, "nope"); return err }, meta.ErrNoSuchBucket},
		{"update missing", func() error {
			return s.UpdateBucket(ctx, "nope", func(*meta.Bucket) error { return nil })
		}, meta.ErrNoSuchBucket},
		{"update rename refused", func() error {
			return s.UpdateBucket(ctx, "mid", func(b *meta.Bucket) error { b.Name = "other"; return nil })
		}, meta.ErrInvalid},
		{"delete missing", func() error { _, err := s.DeleteBucket(ctx, "nope"); return err }, meta.ErrNoSuchBucket},
		{"get ok", func() error { _, err := s.GetBucket(ctx, "alpha"); return err }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}

	// UpdateBucket: applied on success, discarded when fn fails.
	if err := s.UpdateBucket(ctx, "mid", func(b *meta.Bucket) error {
		b.Config = map[string][]byte{"encryption": []byte("<x/>")}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.UpdateBucket(ctx, "mid", func(b *meta.Bucket) error {
		b.Config["encryption"] = []byte("changed")
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	b, err := s.GetBucket(ctx, "mid")
	if err != nil || string(b.Config["encryption"]) != "<x/>" || b.Owner != "alice" {
		t.Fatalf("bucket = %+v, %v", b, err)
	}

	list, err := s.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list {
		names = append(names, b.Name)
	}
	if want := []string{"alpha", "mid", "zeta"}; !slices.Equal(names, want) {
		t.Fatalf("ListBuckets = %v, want %v", names, want)
	}

	// Empty bucket deletes; a non-empty one does not.
	mustPut(t, s, obj("zeta", "k"))
	if _, err := s.DeleteBucket(ctx, "zeta"); !errors.Is(err, meta.ErrBucketNotEmpty) {
		t.Fatalf("DeleteBucket non-empty: %v", err)
	}
	if _, err := s.DeleteBucket(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBucket(ctx, "alpha"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("after delete: %v", err)
	}
}

func testDeleteBucketWithUploads(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	for i, id := range []string{"u1", "u2"} {
		if err := s.CreateUpload(ctx, &meta.Upload{ID: id, Bucket: "b", Key: "k", Initiated: time.Now()}); err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 2; n++ {
			if _, err := s.PutPart(ctx, "b", id, &meta.Part{Number: n, BlobID: fmt.Sprintf("blob-%d-%d", i, n)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A completed upload (its object is deleted so the bucket is empty).
	if err := s.CreateUpload(ctx, &meta.Upload{ID: "u3", Bucket: "b", Key: "c"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CompleteUpload(ctx, "b", "u3", obj("b", "c"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteBucket(ctx, "b"); !errors.Is(err, meta.ErrBucketNotEmpty) {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.DeleteObject(ctx, "b", "c", nil); err != nil {
		t.Fatal(err)
	}
	parts, err := s.DeleteBucket(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := blobsOf(parts), []string{"blob-0-1", "blob-0-2", "blob-1-1", "blob-1-2"}; !slices.Equal(got, want) {
		t.Fatalf("parts = %v, want %v", got, want)
	}
	// Recreated, the bucket starts empty: no uploads, no completed records.
	mustBucket(t, s, "b")
	ups, err := s.ListUploads(ctx, "b", "")
	if err != nil || len(ups) != 0 {
		t.Fatalf("ListUploads = %v, %v", ups, err)
	}
	if _, err := s.GetCompletedUpload(ctx, "b", "u3"); !errors.Is(err, meta.ErrNoSuchUpload) {
		t.Fatalf("completed survived: %v", err)
	}
	n := 0
	if err := s.BlobRefs(ctx, func(string) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("BlobRefs: %d refs, %v", n, err)
	}
}

func testObjects(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	first := obj("b", "k", "blob1")
	if old := mustPut(t, s, first); old != nil {
		t.Fatalf("first put replaced %+v", old)
	}
	second := obj("b", "k", "blob2")
	old := mustPut(t, s, second)
	if old == nil || !reflect.DeepEqual(old, first) {
		t.Fatalf("replaced = %+v, want %+v", old, first)
	}
	got, err := s.GetObject(ctx, "b", "k")
	if err != nil || !reflect.DeepEqual(got, second) {
		t.Fatalf("GetObject = %+v, %v", got, err)
	}

	tests := []struct {
		name string
		run  func() (*meta.Object, error)
		want error
		obj  *meta.Object
	}{
		{"get missing key", func() (*meta.Object, error) { return s.GetObject(ctx, "b", "nope") }, meta.ErrNoSuchKey, nil},
		{"get missing bucket", func() (*meta.Object, error) { return s.GetObject(ctx, "nob", "k") }, meta.ErrNoSuchBucket, nil},
		{"put missing bucket", func() (*meta.Object, error) { return s.PutObject(ctx, obj("nob", "k"), nil) }, meta.ErrNoSuchBucket, nil},
		{"put empty key", func() (*meta.Object, error) { return s.PutObject(ctx, obj("b", ""), nil) }, meta.ErrInvalid, nil},
		{"delete missing key", func() (*meta.Object, error) { return s.DeleteObject(ctx, "b", "nope", nil) }, nil, nil},
		{"delete missing bucket", func() (*meta.Object, error) { return s.DeleteObject(ctx, "nob", "k", nil) }, meta.ErrNoSuchBucket, nil},
		{"delete", func() (*meta.Object, error) { return s.DeleteObject(ctx, "b", "k", nil) }, nil, second},
		{"get deleted", func() (*meta.Object, error) { return s.GetObject(ctx, "b", "k") }, meta.ErrNoSuchKey, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.run()
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !reflect.DeepEqual(o, tc.obj) {
				t.Fatalf("object = %+v, want %+v", o, tc.obj)
			}
		})
	}
}

func testCanceledContext(t *testing.T, be Backend) {
	s := be.Open(t)
	c, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.CreateBucket(c, &meta.Bucket{Name: "b"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if _, err := s.PutObject(c, obj("b", "k"), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func testListObjects(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	keys := []string{"a", "a\x00z", "a/1", "a/2", "a/2/x", "ab", "b", "b/1", "z", "é"} // byte order
	for _, k := range slices.Backward(keys) {
		mustPut(t, s, obj("b", k))
	}
	list := func(prefix, after string, limit int) ([]string, error) {
		var got []string
		err := s.ListObjects(ctx, "b", prefix, after, func(o *meta.Object) error {
			if limit > 0 && len(got) == limit {
				return meta.ErrStop
			}
			got = append(got, o.Key)
			return nil
		})
		return got, err
	}
	tests := []struct {
		name, prefix, after string
		limit               int
		want                []string
	}{
		{"all", "", "", 0, keys},
		{"prefix a", "a", "", 0, []string{"a", "a\x00z", "a/1", "a/2", "a/2/x", "ab"}},
		{"prefix a/", "a/", "", 0, []string{"a/1", "a/2", "a/2/x"}},
		{"after is exclusive", "a/", "a/1", 0, []string{"a/2", "a/2/x"}},
		{"after not a key", "", "a/10", 0, []string{"a/2", "a/2/x", "ab", "b", "b/1", "z", "é"}},
		{"after before prefix", "b", "a", 0, []string{"b", "b/1"}},
		{"after past prefix", "a", "b", 0, nil},
		{"prefix no match", "c", "", 0, nil},
		{"stop", "", "", 3, []string{"a", "a\x00z", "a/1"}},
		{"prefix with NUL", "a\x00", "", 0, []string{"a\x00z"}},
		{"multibyte", "\xc3", "", 0, []string{"é"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := list(tc.prefix, tc.after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("error propagates", func(t *testing.T) {
		boom := errors.New("boom")
		if err := s.ListObjects(ctx, "b", "", "", func(*meta.Object) error { return boom }); err != boom {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing bucket", func(t *testing.T) {
		err := s.ListObjects(ctx, "nob", "", "", func(*meta.Object) error { return nil })
		if !errors.Is(err, meta.ErrNoSuchBucket) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.ListObjects(c, "b", "", "", func(*meta.Object) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}

// Many keys cross the chunk boundaries; the callback may write to the store.
func testListObjectsChunksAndReentrancy(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	const n = 3000
	var want []string
	// One transaction for speed: go through the committer concurrently.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if _, err := s.PutObject(ctx, obj("b", fmt.Sprintf("k%05d", i)), nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range n {
		want = append(want, fmt.Sprintf("k%05d", i))
	}
	var got []string
	err := s.ListObjects(ctx, "b", "k", "", func(o *meta.Object) error {
		got = append(got, o.Key)
		if len(got)%1000 == 0 {
			// Re-entrant write: would deadlock if fn ran inside a transaction.
			_, err := s.PutObject(ctx, obj("b", "x"+o.Key), nil)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d keys, want %d (first mismatch matters)", len(got), len(want))
	}
}

func testMultipart(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	uploads := []*meta.Upload{
		{ID: "u-b2", Bucket: "b", Key: "b", Initiated: t0.Add(2 * time.Second)},
		{ID: "u-a", Bucket: "b", Key: "a", Initiated: t0.Add(5 * time.Second)},
		{ID: "u-b1", Bucket: "b", Key: "b", Initiated: t0.Add(time.Second)},
		{ID: "u-anul", Bucket: "b", Key: "a\x00", Initiated: t0},
		{ID: "u-ab", Bucket: "b", Key: "ab", Initiated: t0},
		{ID: "u-old", Bucket: "b", Key: "b", Initiated: time.Time{}},
	}
	for _, u := range uploads {
		if err := s.CreateUpload(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			run  func() error
			want error
		}{
			{"create duplicate", func() error { return s.CreateUpload(ctx, &meta.Upload{ID: "u-a", Bucket: "b", Key: "x"}) }, meta.ErrUploadExists},
			{"create no bucket", func() error { return s.CreateUpload(ctx, &meta.Upload{ID: "x", Bucket: "nob", Key: "x"}) }, meta.ErrNoSuchBucket},
			{"create no id", func() error { return s.CreateUpload(ctx, &meta.Upload{Bucket: "b", Key: "x"}) }, meta.ErrInvalid},
			{"get missing", func() error { _, err := s.GetUpload(ctx, "b", "nope"); return err }, meta.ErrNoSuchUpload},
			{"get no bucket", func() error { _, err := s.GetUpload(ctx, "nob", "u-a"); return err }, meta.ErrNoSuchBucket},
			{"put part missing", func() error { _, err := s.PutPart(ctx, "b", "nope", &meta.Part{Number: 1}); return err }, meta.ErrNoSuchUpload},
			{"put part negative", func() error { _, err := s.PutPart(ctx, "b", "u-a", &meta.Part{Number: -1}); return err }, meta.ErrInvalid},
			{"list parts missing", func() error { _, err := s.ListParts(ctx, "b", "nope"); return err }, meta.ErrNoSuchUpload},
			{"list uploads no bucket", func() error { _, err := s.ListUploads(ctx, "nob", ""); return err }, meta.ErrNoSuchBucket},
			{"complete missing", func() error { _, _, err := s.CompleteUpload(ctx, "b", "nope", obj("b", "a"), nil); return err }, meta.ErrNoSuchUpload},
			{"complete wrong key", func() error { _, _, err := s.CompleteUpload(ctx, "b", "u-a", obj("b", "zz"), nil); return err }, meta.ErrInvalid},
			{"completed missing", func() error { _, err := s.GetCompletedUpload(ctx, "b", "u-a"); return err }, meta.ErrNoSuchUpload},
			{"abort missing", func() error { _, err := s.AbortUpload(ctx, "b", "nope"); return err }, meta.ErrNoSuchUpload},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.run(); !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
			})
		}
	})

	t.Run("list uploads", func(t *testing.T) {
		tests := []struct {
			prefix string
			want   []string
		}{
			{"", []string{"u-a", "u-anul", "u-ab", "u-old", "u-b1", "u-b2"}},
			{"a", []string{"u-a", "u-anul", "u-ab"}},
			{"a\x00", []string{"u-anul"}},
			{"b", []string{"u-old", "u-b1", "u-b2"}},
			{"c", nil},
		}
		for _, tc := range tests {
			ups, err := s.ListUploads(ctx, "b", tc.prefix)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, u := range ups {
				ids = append(ids, u.ID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("prefix %q: got %v, want %v", tc.prefix, ids, tc.want)
			}
		}
	})

	t.Run("parts", func(t *testing.T) {
		for _, n := range []int{3, 1, 2} {
			if old, err := s.PutPart(ctx, "b", "u-a", &meta.Part{Number: n, BlobID: fmt.Sprint("p", n), ETag: "e1"}); err != nil || old != nil {
				t.Fatalf("PutPart %d: %v, %v", n, old, err)
			}
		}
		old, err := s.PutPart(ctx, "b", "u-a", &meta.Part{Number: 2, BlobID: "p2bis"})
		if err != nil || old == nil || old.BlobID != "p2" {
			t.Fatalf("replace part: %+v, %v", old, err)
		}
		parts, err := s.ListParts(ctx, "b", "u-a")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range parts {
			got = append(got, fmt.Sprint(p.Number, p.BlobID))
		}
		if want := []string{"1p1", "2p2bis", "3p3"}; !slices.Equal(got, want) {
			t.Fatalf("ListParts = %v, want %v", got, want)
		}
		// A failed complete (wrong key) changes nothing.
		if _, _, err := s.CompleteUpload(ctx, "b", "u-a", obj("b", "zz"), nil); !errors.Is(err, meta.ErrInvalid) {
			t.Fatalf("complete with wrong key: %v", err)
		}
		if p, _ := s.ListParts(ctx, "b", "u-a"); len(p) != 3 {
			t.Fatalf("parts after failed complete: %v", p)
		}
		if _, err := s.GetObject(ctx, "b", "zz"); !errors.Is(err, meta.ErrNoSuchKey) {
			t.Fatalf("failed complete installed an object: %v", err)
		}
	})

	t.Run("complete", func(t *testing.T) {
		prev := mustPut(t, s, obj("b", "a", "oldblob"))
		_ = prev
		o := obj("", "a")
		o.Multipart = true
		o.ETag = "abc-2"
		o.Parts = []meta.Part{{Number: 1, BlobID: "p1"}, {Number: 3, BlobID: "p3"}}
		replaced, unused, err := s.CompleteUpload(ctx, "b", "u-a", o, nil)
		if err != nil {
			t.Fatal(err)
		}
		if replaced == nil || replaced.Parts[0].BlobID != "oldblob" {
			t.Fatalf("replaced = %+v", replaced)
		}
		if got := blobsOf(unused); !slices.Equal(got, []string{"p2bis"}) {
			t.Fatalf("unused = %v", got)
		}
		got, err := s.GetObject(ctx, "b", "a")
		if err != nil || got.ETag != "abc-2" || got.Bucket != "b" || len(got.Parts) != 2 {
			t.Fatalf("object = %+v, %v", got, err)
		}
		if o.Bucket != "" {
			t.Fatal("CompleteUpload modified the caller's object")
		}
		cu, err := s.GetCompletedUpload(ctx, "b", "u-a")
		if err != nil || *cu != (meta.CompletedUpload{ID: "u-a", Key: "a", ETag: "abc-2", Parts: meta.PartsDigest(o.Parts)}) {
			t.Fatalf("completed = %+v, %v", cu, err)
		}
		for name, err := range map[string]error{
			"get":    func() error { _, err := s.GetUpload(ctx, "b", "u-a"); return err }(),
			"parts":  func() error { _, err := s.ListParts(ctx, "b", "u-a"); return err }(),
			"put":    func() error { _, err := s.PutPart(ctx, "b", "u-a", &meta.Part{Number: 4}); return err }(),
			"again":  func() error { _, _, err := s.CompleteUpload(ctx, "b", "u-a", obj("b", "a"), nil); return err }(),
			"abort":  func() error { _, err := s.AbortUpload(ctx, "b", "u-a"); return err }(),
			"reused": func() error { return s.CreateUpload(ctx, &meta.Upload{ID: "u-a", Bucket: "b", Key: "a"}) }(),
		} {
			want := meta.ErrNoSuchUpload
			if name == "reused" {
				want = meta.ErrUploadExists
			}
			if !errors.Is(err, want) {
				t.Errorf("%s after complete: %v, want %v", name, err, want)
			}
		}
		ups, _ := s.ListUploads(ctx, "b", "a")
		if len(ups) != 2 {
			t.Fatalf("uploads left under a: %d", len(ups))
		}
	})

	t.Run("abort", func(t *testing.T) {
		if _, err := s.PutPart(ctx, "b", "u-b1", &meta.Part{Number: 1, BlobID: "x1"}); err != nil {
			t.Fatal(err)
		}
		parts, err := s.AbortUpload(ctx, "b", "u-b1")
		if err != nil || !slices.Equal(blobsOf(parts), []string{"x1"}) {
			t.Fatalf("abort = %v, %v", parts, err)
		}
		if _, err := s.GetUpload(ctx, "b", "u-b1"); !errors.Is(err, meta.ErrNoSuchUpload) {
			t.Fatalf("after abort: %v", err)
		}
		ups, _ := s.ListUploads(ctx, "b", "b")
		if len(ups) != 2 {
			t.Fatalf("uploads under b: %d", len(ups))
		}
	})
}

// Complete and abort race on one upload, with parts arriving meanwhile:
// exactly one of complete/abort wins and every part blob is accounted for
// exactly once (in the object, in unused, in abort's list, or refused).
func testCompleteAbortRace(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	for round := range 20 {
		id := fmt.Sprint("u", round)
		if err := s.CreateUpload(ctx, &meta.Upload{ID: id, Bucket: "b", Key: "k"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutPart(ctx, "b", id, &meta.Part{Number: 1, BlobID: id + "-1"}); err != nil {
			t.Fatal(err)
		}
		var (
			wg                   sync.WaitGroup
			completeErr, abortEr error
			unused, aborted      []meta.Part
			putErrs              [5]error
		)
		wg.Go(func() {
			o := obj("b", "k")
			o.Parts = []meta.Part{{Number: 1, BlobID: id + "-1"}}
			_, unused, completeErr = s.CompleteUpload(ctx, "b", id, o, nil)
		})
		wg.Go(func() { aborted, abortEr = s.AbortUpload(ctx, "b", id) })
		for i := range putErrs {
			wg.Go(func() {
				_, putErrs[i] = s.PutPart(ctx, "b", id, &meta.Part{Number: i + 2, BlobID: fmt.Sprint(id, "-", i+2)})
			})
		}
		wg.Wait()
		if (completeErr == nil) == (abortEr == nil) {
			t.Fatalf("complete: %v, abort: %v", completeErr, abortEr)
		}
		seen := map[string]int{}
		if completeErr == nil {
			seen[id+"-1"]++
		}
		for _, p := range append(unused, aborted...) {
			seen[p.BlobID]++
		}
		for i, err := range putErrs {
			if err != nil {
				if !errors.Is(err, meta.ErrNoSuchUpload) {
					t.Fatal(err)
				}
				seen[fmt.Sprint(id, "-", i+2)]++
			}
		}
		if len(seen) != 6 {
			t.Fatalf("round %d: accounted blobs %v", round, seen)
		}
		for b, n := range seen {
			if n != 1 {
				t.Fatalf("blob %s accounted %d times", b, n)
			}
		}
	}
}

func testUsers(t *testing.T, be Backend) {
	s := be.Open(t)
	alice := &meta.User{Name: "alice", Created: time.Unix(1, 0).UTC(), Keys: []meta.AccessKey{{ID: "AK1", Secret: []byte{1, 2}}, {ID: "AK2"}}, Policies: []string{"admin"}}
	bob := &meta.User{Name: "bob", Keys: []meta.AccessKey{{ID: "BK1"}}}
	for _, u := range []*meta.User{bob, alice} {
		if err := s.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	owner := func(ak string) string {
		u, err := s.UserByAccessKey(ctx, ak)
		if errors.Is(err, meta.ErrNoSuchAccessKey) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return u.Name
	}
	got, err := s.GetUser(ctx, "alice")
	if err != nil || !reflect.DeepEqual(got, alice) {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}

	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"get missing", func() error { _, err := s.GetUser(ctx, "carol"); return err }, meta.ErrNoSuchUser},
		{"delete missing", func() error { return s.DeleteUser(ctx, "carol") }, meta.ErrNoSuchUser},
		{"unknown key", func() error { _, err := s.UserByAccessKey(ctx, "nope"); return err }, meta.ErrNoSuchAccessKey},
		{"steal key", func() error {
			return s.PutUser(ctx, &meta.User{Name: "bob", Keys: []meta.AccessKey{{ID: "BK2"}, {ID: "AK1"}}})
		}, meta.ErrAccessKeyInUse},
		{"new user steals key", func() error {
			return s.PutUser(ctx, &meta.User{Name: "carol", Keys: []meta.AccessKey{{ID: "BK1"}}})
		}, meta.ErrAccessKeyInUse},
		{"duplicate key in user", func() error {
			return s.PutUser(ctx, &meta.User{Name: "carol", Keys: []meta.AccessKey{{ID: "C"}, {ID: "C"}}})
		}, meta.ErrAccessKeyInUse},
		{"empty name", func() error { return s.PutUser(ctx, &meta.User{}) }, meta.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.run(); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// Failed puts changed nothing.
	for ak, want := range map[string]string{"AK1": "alice", "AK2": "alice", "BK1": "bob", "BK2": "", "C": ""} {
		if got := owner(ak); got != want {
			t.Errorf("owner(%s) = %q, want %q", ak, got, want)
		}
	}
	if _, err := s.GetUser(ctx, "carol"); !errors.Is(err, meta.ErrNoSuchUser) {
		t.Fatalf("carol exists: %v", err)
	}

	// Rotate alice's keys: AK1 dropped, AK3 added; then bob may take AK1.
	alice.Keys = []meta.AccessKey{{ID: "AK2"}, {ID: "AK3"}}
	if err := s.PutUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUser(ctx, &meta.User{Name: "bob", Keys: []meta.AccessKey{{ID: "BK1"}, {ID: "AK1"}}}); err != nil {
		t.Fatal(err)
	}
	for ak, want := range map[string]string{"AK1": "bob", "AK2": "alice", "AK3": "alice", "BK1": "bob"} {
		if got := owner(ak); got != want {
			t.Errorf("owner(%s) = %q, want %q", ak, got, want)
		}
	}
	users, err := s.ListUsers(ctx)
	if err != nil || len(users) != 2 || users[0].Name != "alice" || users[1].Name != "bob" {
		t.Fatalf("ListUsers = %v, %v", users, err)
	}
	if err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for ak, want := range map[string]string{"AK1": "bob", "AK2": "", "AK3": "", "BK1": "bob"} {
		if got := owner(ak); got != want {
			t.Errorf("after delete: owner(%s) = %q, want %q", ak, got, want)
		}
	}
}

func testBlobRefs(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b1")
	mustBucket(t, s, "b2")
	mustPut(t, s, obj("b1", "x", "o1", "o2"))
	mustPut(t, s, obj("b2", "y", "o3"))
	if err := s.CreateUpload(ctx, &meta.Upload{ID: "u", Bucket: "b2", Key: "z"}); err != nil {
		t.Fatal(err)
	}
	for i, b := range []string{"p1", "p2"} {
		if _, err := s.PutPart(ctx, "b2", "u", &meta.Part{Number: i + 1, BlobID: b}); err != nil {
			t.Fatal(err)
		}
	}
	refs := func() []string {
		var ids []string
		if err := s.BlobRefs(ctx, func(id string) error { ids = append(ids, id); return nil }); err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		return ids
	}
	if got, want := refs(), []string{"o1", "o2", "o3", "p1", "p2"}; !slices.Equal(got, want) {
		t.Fatalf("refs = %v, want %v", got, want)
	}
	o := obj("b2", "z")
	o.Parts = []meta.Part{{Number: 1, BlobID: "p1"}}
	if _, _, err := s.CompleteUpload(ctx, "b2", "u", o, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := refs(), []string{"o1", "o2", "o3", "p1"}; !slices.Equal(got, want) {
		t.Fatalf("after complete: refs = %v, want %v", got, want)
	}
	n := 0
	err := s.BlobRefs(ctx, func(string) error { n++; return meta.ErrStop })
	if err != nil || n != 1 {
		t.Fatalf("stop: n = %d, err = %v", n, err)
	}
	boom := errors.New("boom")
	if err := s.BlobRefs(ctx, func(string) error { return boom }); err != boom {
		t.Fatalf("err = %v", err)
	}
}

func testConcurrentPutObject(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	const workers, perWorker = 16, 40
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		replaced = map[string]bool{}
	)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				// Own key, plus a key shared by everyone, plus writes to a
				// missing bucket that must fail without hurting the batch.
				if _, err := s.PutObject(ctx, obj("b", fmt.Sprintf("w%02d/%03d", w, i)), nil); err != nil {
					t.Error(err)
				}
				id := fmt.Sprintf("%d-%d", w, i)
				old, err := s.PutObject(ctx, obj("b", "shared", id), nil)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				if old != nil {
					if replaced[old.Parts[0].BlobID] {
						t.Errorf("version %s replaced twice", old.Parts[0].BlobID)
					}
					replaced[old.Parts[0].BlobID] = true
				}
				mu.Unlock()
				if i%10 == 0 {
					if _, err := s.PutObject(ctx, obj("missing", "k"), nil); !errors.Is(err, meta.ErrNoSuchBucket) {
						t.Errorf("missing bucket: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	n := 0
	if err := s.ListObjects(ctx, "b", "w", "", func(*meta.Object) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != workers*perWorker {
		t.Fatalf("%d objects, want %d", n, workers*perWorker)
	}
	// Every version of "shared" but the current one was replaced exactly once.
	cur, err := s.GetObject(ctx, "b", "shared")
	if err != nil {
		t.Fatal(err)
	}
	if len(replaced) != workers*perWorker-1 || replaced[cur.Parts[0].BlobID] {
		t.Fatalf("%d versions replaced, current %s among them: %v", len(replaced), cur.Parts[0].BlobID, replaced[cur.Parts[0].BlobID])
	}
}

func testReopenKeepsEverything(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	if err := s.UpdateBucket(ctx, "b", func(b *meta.Bucket) error {
		b.Config = map[string][]byte{"policy": []byte("{}")}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	o := obj("b", "k", "blob")
	o.Encryption = &meta.Encryption{Mode: "kms", Algorithm: "SM4", WrappedKey: []byte{0, 1, 255}, Salt: []byte("s"), SegmentSize: 65536, WrappedBucketKey: "d2s=", Extra: map[string]string{"a": "b"}}
	o.Checksums = map[string]string{"CRC32C": "abc="}
	mustPut(t, s, o)
	up := &meta.Upload{ID: "u1", Bucket: "b", Key: "m", Initiated: time.Unix(1700000000, 123).UTC(), Encryption: o.Encryption}
	if err := s.CreateUpload(ctx, up); err != nil {
		t.Fatal(err)
	}
	part := &meta.Part{Number: 7, BlobID: "pb", Size: 5, StoredSize: 40, ETag: "pe", LastModified: time.Unix(5, 0).UTC()}
	if _, err := s.PutPart(ctx, "b", "u1", part); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUpload(ctx, &meta.Upload{ID: "u2", Bucket: "b", Key: "done"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CompleteUpload(ctx, "b", "u2", obj("b", "done"), nil); err != nil {
		t.Fatal(err)
	}
	user := &meta.User{Name: "alice", Keys: []meta.AccessKey{{ID: "AK", Secret: []byte("sealed")}}}
	if err := s.PutUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	s2 := be.Reopen(t, s)
	b, err := s2.GetBucket(ctx, "b")
	if err != nil || string(b.Config["policy"]) != "{}" {
		t.Fatalf("bucket = %+v, %v", b, err)
	}
	if got, err := s2.GetObject(ctx, "b", "k"); err != nil || !reflect.DeepEqual(got, o) {
		t.Fatalf("object = %+v, %v", got, err)
	}
	if got, err := s2.GetUpload(ctx, "b", "u1"); err != nil || !reflect.DeepEqual(got, up) {
		t.Fatalf("upload = %+v, %v", got, err)
	}
	if got, err := s2.ListParts(ctx, "b", "u1"); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], *part) {
		t.Fatalf("parts = %+v, %v", got, err)
	}
	if ups, err := s2.ListUploads(ctx, "b", ""); err != nil || len(ups) != 1 {
		t.Fatalf("uploads = %v, %v", ups, err)
	}
	if _, err := s2.GetCompletedUpload(ctx, "b", "u2"); err != nil {
		t.Fatal(err)
	}
	if got, err := s2.UserByAccessKey(ctx, "AK"); err != nil || !reflect.DeepEqual(got, user) {
		t.Fatalf("user = %+v, %v", got, err)
	}
}

// TestUpdateObject: metadata changes land atomically; changing the
// object's identity or its parts is refused and leaves it unchanged;
// a missing key is ErrNoSuchKey.
func testUpdateObject(t *testing.T, be Backend) {
	s := be.Open(t)
	mustBucket(t, s, "b")
	if _, err := s.PutObject(ctx, obj("b", "k", "aa", "bb"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateObject(ctx, "b", "k", func(o *meta.Object) error { o.ACL = "public-read"; return nil }); err != nil {
		t.Fatal(err)
	}
	for name, fn := range map[string]func(*meta.Object){
		"rename":     func(o *meta.Object) { o.Key = "other" },
		"drop parts": func(o *meta.Object) { o.Parts = o.Parts[:1] },
		"move":       func(o *meta.Object) { o.Bucket = "c" },
	} {
		err := s.UpdateObject(ctx, "b", "k", func(o *meta.Object) error { fn(o); o.ACL = "private"; return nil })
		if !errors.Is(err, meta.ErrInvalid) {
			t.Errorf("%s: err %v, want meta.ErrInvalid", name, err)
		}
	}
	got, err := s.GetObject(ctx, "b", "k")
	if err != nil || got.ACL != "public-read" || len(got.Parts) != 2 {
		t.Fatalf("after refused updates: %+v, %v", got, err)
	}
	if err := s.UpdateObject(ctx, "b", "missing", func(*meta.Object) error { return nil }); !errors.Is(err, meta.ErrNoSuchKey) {
		t.Fatalf("missing key: %v", err)
	}
}

// testConcurrentConditionalPut: writers racing on one key with
// If-None-Match semantics (the precondition refuses an existing object):
// exactly one wins, in an unversioned and a versioned bucket.
func testConcurrentConditionalPut(t *testing.T, be Backend) {
	s := be.Open(t)
	errExists := errors.New("exists")
	for _, state := range []string{"", meta.VersioningEnabled} {
		bucket := "b" + strings.ToLower(state)
		mustBucket(t, s, bucket)
		if state != "" {
			setVersioning(t, s, bucket, state)
		}
		const writers = 12
		var wg sync.WaitGroup
		var wins, refused atomic.Int32
		for w := range writers {
			wg.Go(func() {
				_, err := s.PutObject(ctx, obj(bucket, "k", fmt.Sprint("blob", w)), func(cur *meta.Object) error {
					if cur != nil {
						return errExists
					}
					return nil
				})
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, errExists):
					refused.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || refused.Load() != writers-1 {
			t.Fatalf("state %q: %d writers won, %d refused; want exactly one winner", state, wins.Load(), refused.Load())
		}
		n := 0
		if err := s.ListObjectVersions(ctx, bucket, "", "", "", func(*meta.Object, bool) error { n++; return nil }); err != nil || n != 1 {
			t.Fatalf("state %q: %d versions, %v", state, n, err)
		}
	}
}

// testJobs: a job's state starts empty, changes atomically, and a failed
// update changes nothing; concurrent updates all land.
func testJobs(t *testing.T, be Backend) {
	s := be.Open(t)
	if _, err := s.GetJob(ctx, "lifecycle"); !errors.Is(err, meta.ErrNoSuchJob) {
		t.Fatalf("GetJob before any update: %v", err)
	}
	if _, err := s.UpdateJob(ctx, "", func(*meta.Job) error { return nil }); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("empty name: %v", err)
	}
	j, err := s.UpdateJob(ctx, "lifecycle", func(j *meta.Job) error {
		if j.Name != "lifecycle" || j.Holder != "" {
			t.Errorf("fresh job = %+v", j)
		}
		j.Holder, j.Cursor = "node-a", []byte("k/0")
		return nil
	})
	if err != nil || j.Holder != "node-a" {
		t.Fatalf("UpdateJob = %+v, %v", j, err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateJob(ctx, "lifecycle", func(j *meta.Job) error { j.Holder = "node-b"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed update: %v", err)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := s.UpdateJob(ctx, "lifecycle", func(j *meta.Job) error { j.Passes++; return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := s.GetJob(ctx, "lifecycle")
	if err != nil || got.Holder != "node-a" || string(got.Cursor) != "k/0" || got.Passes != 10 {
		t.Fatalf("job = %+v, %v", got, err)
	}
}

// testPing: an open store answers Ping; a closed one does not.
func testPing(t *testing.T, be Backend) {
	s := be.Open(t)
	p, ok := s.(meta.Pinger)
	if !ok {
		t.Fatal("store does not implement meta.Pinger")
	}
	if err := p.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	s.Close()
	if err := p.Ping(ctx); err == nil {
		t.Fatal("Ping of a closed store succeeded")
	}
}
