package metatest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Retention is what CompletedRetention needs of a store beyond meta.Store:
// its retention period, and hooks to set its clock and cap and to count
// the completed-upload records it keeps for a bucket.
type Retention struct {
	Period  time.Duration
	SetNow  func(func() time.Time)
	SetMax  func(int)
	Records func(bucket string) int
}

// CompletedRetention: completed uploads are capped per bucket (the oldest
// go first), expire on read after the retention period, and are pruned by
// the next completion. s must be fresh.
func CompletedRetention(t *testing.T, s meta.Store, r Retention) {
	t.Helper()
	mustBucket(t, s, "b")
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	r.SetNow(func() time.Time { return now })
	r.SetMax(3)
	complete := func(id string) {
		t.Helper()
		if err := s.CreateUpload(ctx, &meta.Upload{ID: id, Bucket: "b", Key: id}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CompleteUpload(ctx, "b", id, obj("b", id), nil); err != nil {
			t.Fatal(err)
		}
	}
	has := func(id string) bool {
		_, err := s.GetCompletedUpload(ctx, "b", id)
		if err != nil && !errors.Is(err, meta.ErrNoSuchUpload) {
			t.Fatal(err)
		}
		return err == nil
	}
	for i := range 5 {
		complete(fmt.Sprint("c", i))
		now = now.Add(time.Minute)
	}
	// Capped at 3: the two oldest are gone.
	for i, want := range []bool{false, false, true, true, true} {
		if got := has(fmt.Sprint("c", i)); got != want {
			t.Errorf("c%d remembered = %v, want %v", i, got, want)
		}
	}
	// Expired on read after the retention period...
	now = now.Add(r.Period)
	if has("c4") {
		t.Error("c4 remembered after retention")
	}
	// ...and pruned by the next completion.
	complete("d")
	if n := r.Records("b"); n != 1 || !has("d") {
		t.Errorf("after prune: %d records, has(d) = %v", n, has("d"))
	}
}
