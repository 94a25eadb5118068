package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

func TestWormProtects(t *testing.T) {
	now := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	obj := func(age time.Duration) *meta.Object { return &meta.Object{LastModified: now.Add(-age)} }
	day := 24 * time.Hour
	locked := &Worm{State: WormLocked, Days: 2, Created: now.Add(-30 * day)}
	pending := &Worm{State: WormInProgress, Days: 2, Created: now.Add(-time.Hour)}
	lapsed := &Worm{State: WormInProgress, Days: 2, Created: now.Add(-25 * time.Hour)}
	for _, tc := range []struct {
		name string
		w    *Worm
		o    *meta.Object
		want bool
	}{
		{"no policy", nil, obj(0), false},
		{"locked, young", locked, obj(day), true},
		{"locked, just under the period", locked, obj(2*day - time.Second), true},
		{"locked, period over", locked, obj(2 * day), false},
		{"in progress protects", pending, obj(day), true},
		{"in progress lapsed after a day", lapsed, obj(day), false},
		{"missing object", locked, nil, false},
		{"delete marker", locked, &meta.Object{LastModified: now, DeleteMarker: true}, false},
	} {
		if got := tc.w.protects(tc.o, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestBucketWormStates walks a policy through its states and refusals.
func TestBucketWormStates(t *testing.T) {
	f, clk, _ := lifecycleFixture(t, 10)
	ctx := context.Background()
	if _, err := f.svc.GetBucketWorm(ctx, f.p, "bkt"); !errors.Is(err, errs.NoSuchWORMConfiguration) {
		t.Fatalf("get with none: %v", err)
	}
	for _, d := range []int{0, -1, maxWormDays + 1} {
		if _, err := f.svc.InitiateBucketWorm(ctx, f.p, "bkt", d); !errors.Is(err, errs.InvalidArgument) {
			t.Fatalf("initiate %d days: %v", d, err)
		}
	}
	id, err := f.svc.InitiateBucketWorm(ctx, f.p, "bkt", 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.InitiateBucketWorm(ctx, f.p, "bkt", 3); !errors.Is(err, errs.InvalidWORMState) {
		t.Fatalf("second initiate: %v", err)
	}
	if w, err := f.svc.GetBucketWorm(ctx, f.p, "bkt"); err != nil || w.ID != id || w.State != WormInProgress || w.Days != 3 {
		t.Fatalf("get in progress: %+v %v", w, err)
	}
	if err := f.svc.ExtendBucketWorm(ctx, f.p, "bkt", id, 5); !errors.Is(err, errs.InvalidWORMState) {
		t.Fatalf("extend in progress: %v", err)
	}
	if err := f.svc.AbortBucketWorm(ctx, f.p, "bkt"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetBucketWorm(ctx, f.p, "bkt"); !errors.Is(err, errs.NoSuchWORMConfiguration) {
		t.Fatalf("get after abort: %v", err)
	}
	// Never completed, a policy lapses after a day.
	if _, err = f.svc.InitiateBucketWorm(ctx, f.p, "bkt", 3); err != nil {
		t.Fatal(err)
	}
	clk.Add(wormPending + time.Second)
	if _, err := f.svc.GetBucketWorm(ctx, f.p, "bkt"); !errors.Is(err, errs.NoSuchWORMConfiguration) {
		t.Fatalf("get after lapse: %v", err)
	}
	id, err = f.svc.InitiateBucketWorm(ctx, f.p, "bkt", 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CompleteBucketWorm(ctx, f.p, "bkt", "nope"); !errors.Is(err, errs.NoSuchWORMConfiguration) {
		t.Fatalf("complete unknown id: %v", err)
	}
	if err := f.svc.CompleteBucketWorm(ctx, f.p, "bkt", id); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * wormPending)
	for name, err := range map[string]error{
		"abort locked":    f.svc.AbortBucketWorm(ctx, f.p, "bkt"),
		"complete twice":  f.svc.CompleteBucketWorm(ctx, f.p, "bkt", id),
		"extend shorter":  f.svc.ExtendBucketWorm(ctx, f.p, "bkt", id, 2),
		"extend same":     f.svc.ExtendBucketWorm(ctx, f.p, "bkt", id, 3),
		"extend other id": f.svc.ExtendBucketWorm(ctx, f.p, "bkt", "nope", 9),
	} {
		if err == nil {
			t.Errorf("%s succeeded", name)
		}
	}
	if err := f.svc.ExtendBucketWorm(ctx, f.p, "bkt", id, 9); err != nil {
		t.Fatal(err)
	}
	if w, err := f.svc.GetBucketWorm(ctx, f.p, "bkt"); err != nil || w.State != WormLocked || w.Days != 9 {
		t.Fatalf("get locked: %+v %v", w, err)
	}
}

// TestWormRefusesDeleteAndOverwrite: in an unversioned bucket under a
// policy a young object can be neither deleted nor overwritten (by PUT,
// copy or multipart upload), only read; once its period is over it can.
func TestWormRefusesDeleteAndOverwrite(t *testing.T) {
	f, clk, _ := lifecycleFixture(t, 10)
	ctx := context.Background()
	f.put(t, "k", []byte("v1"), nil)
	f.put(t, "src", []byte("s"), nil)
	f.lockWorm(t, 1)
	if err := f.svc.DeleteObject(ctx, f.p, "bkt", "k"); !errors.Is(err, errs.ObjectImmutable) {
		t.Fatalf("delete: %v", err)
	}
	if _, err := f.svc.PutObject(ctx, f.p, PutObjectInput{Bucket: "bkt", Key: "k", Body: bodyOf("v2")}); !errors.Is(err, errs.ObjectImmutable) {
		t.Fatalf("overwrite: %v", err)
	}
	// Refused before the body is read: nothing is uploaded.
	unread := Body{Reader: iotest.ErrReader(errors.New("body read")), Size: 2}
	if _, err := f.svc.PutObject(ctx, f.p, PutObjectInput{Bucket: "bkt", Key: "k", Body: unread}); !errors.Is(err, errs.ObjectImmutable) {
		t.Fatalf("overwrite, body unread: %v", err)
	}
	if _, err := f.svc.CopyObject(ctx, f.p, CopyObjectInput{SrcBucket: "bkt", SrcKey: "src", Bucket: "bkt", Key: "k"}); !errors.Is(err, errs.ObjectImmutable) {
		t.Fatalf("copy over: %v", err)
	}
	u, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	part, err := f.svc.UploadPart(ctx, f.p, UploadPartInput{Bucket: "bkt", Key: "k", UploadID: u.ID, PartNumber: 1, Body: bodyOf("v3")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CompleteMultipartUpload(ctx, f.p, CompleteUploadInput{Bucket: "bkt", Key: "k", UploadID: u.ID,
		Parts: []CompletePart{{Number: 1, ETag: part.ETag}}}); !errors.Is(err, errs.ObjectImmutable) {
		t.Fatalf("multipart upload over: %v", err)
	}
	res, err := f.svc.DeleteObjects(ctx, f.p, "bkt", []ObjectVersion{{Key: "k"}}, false)
	if err != nil || !errors.Is(res[0].Err, errs.ObjectImmutable) {
		t.Fatalf("multi-delete: %v %v", res, err)
	}
	if got, err := f.get("k", nil); err != nil || string(got) != "v1" {
		t.Fatalf("read: %q %v", got, err)
	}
	// A new key may be written (upload and read only).
	f.put(t, "new", []byte("n"), nil)
	if err := f.svc.DeleteBucket(ctx, f.p, "bkt"); !errors.Is(err, errs.BucketNotEmpty) {
		t.Fatalf("delete bucket: %v", err)
	}
	clk.Add(24*time.Hour + time.Second)
	f.put(t, "k", []byte("v2"), nil)
	if err := f.svc.DeleteObject(ctx, f.p, "bkt", "src"); err != nil {
		t.Fatalf("delete after the period: %v", err)
	}
}

// TestLifecycleRespectsWorm: expiration keeps objects a policy protects
// (counted "locked") and expires them once their period is over.
func TestLifecycleRespectsWorm(t *testing.T) {
	f, clk, e := lifecycleFixture(t, 10)
	ctx := context.Background()
	f.put(t, "k", []byte("v1"), nil)
	f.lockWorm(t, 5)
	if err := f.svc.PutBucketLifecycle(ctx, f.p, "bkt", mustLifecycle(t, `
<Rule><ID>all</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`)); err != nil {
		t.Fatal(err)
	}
	pass := func() map[string]int64 {
		j, err := e.RunPass(ctx, LifecycleJob)
		if err != nil {
			t.Fatal(err)
		}
		return j.Pass
	}
	clk.Add(3 * 24 * time.Hour)
	if c := pass(); c["locked"] != 1 || c["expired"] != 0 {
		t.Fatalf("pass while protected: %v", c)
	}
	if got := fmt.Sprint(f.keys(t)); got != "[k]" {
		t.Fatalf("keys while protected: %s", got)
	}
	clk.Add(3 * 24 * time.Hour)
	if c := pass(); c["expired"] != 1 {
		t.Fatalf("pass after the period: %v", c)
	}
}

func bodyOf(s string) Body { return Body{Reader: strings.NewReader(s), Size: int64(len(s))} }

// TestWormVersionedBucket: with versioning Enabled an overwrite adds a
// version and a delete adds a marker (neither removes data), but removing
// a protected version by ID is refused.
func TestWormVersionedBucket(t *testing.T) {
	f, _, _ := lifecycleFixture(t, 10)
	ctx := context.Background()
	if err := f.svc.PutBucketVersioning(ctx, f.p, "bkt", meta.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	v1 := f.put(t, "k", []byte("v1"), nil)
	if _, err := f.svc.InitiateBucketWorm(ctx, f.p, "bkt", 1); err != nil {
		t.Fatal(err)
	}
	f.put(t, "k", []byte("v2"), nil)
	if err := f.svc.DeleteObject(ctx, f.p, "bkt", "k"); err != nil {
		t.Fatalf("delete (marker): %v", err)
	}
	if _, err := f.svc.DeleteObjectVersion(ctx, f.p, "bkt", "k", v1.VersionID, false); !errors.Is(err, errs.ObjectImmutable) {
		t.Fatalf("delete version: %v", err)
	}
}

// lockWorm gives the fixture's bucket a Locked policy of days.
func (f *fixture) lockWorm(t *testing.T, days int) {
	t.Helper()
	ctx := context.Background()
	id, err := f.svc.InitiateBucketWorm(ctx, f.p, "bkt", days)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CompleteBucketWorm(ctx, f.p, "bkt", id); err != nil {
		t.Fatal(err)
	}
}

// TestFindLockedVersionSeesWorm: a key sealing an object a bucket
// retention policy protects counts as protecting a locked version (so the
// operator's key disable refuses it), until the object's period is over.
func TestFindLockedVersionSeesWorm(t *testing.T) {
	f, clk, _ := lifecycleFixture(t, 10)
	ctx := context.Background()
	f.put(t, "k", []byte("v"), &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256})
	anyEnc := func(*meta.Encryption) bool { return true }
	if o, err := FindLockedVersion(ctx, f.meta, clk.Now(), anyEnc); err != nil || o != nil {
		t.Fatalf("before the policy: %v %v", o, err)
	}
	f.lockWorm(t, 1)
	if o, err := FindLockedVersion(ctx, f.meta, clk.Now(), anyEnc); err != nil || o == nil || o.Key != "k" {
		t.Fatalf("under the policy: %v %v", o, err)
	}
	clk.Add(25 * time.Hour)
	if o, err := FindLockedVersion(ctx, f.meta, clk.Now(), anyEnc); err != nil || o != nil {
		t.Fatalf("after the period: %v %v", o, err)
	}
}
