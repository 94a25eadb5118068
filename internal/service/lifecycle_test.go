package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"strongroom/internal/errs"
	"strongroom/internal/jobs"
	"strongroom/internal/lifecycle"
	"strongroom/internal/meta"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func mustLifecycle(t testing.TB, doc string) *lifecycle.Config {
	t.Helper()
	c, err := lifecycle.Parse([]byte(`<LifecycleConfiguration>` + doc + `</LifecycleConfiguration>`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// lifecycleFixture is a service whose clock the test moves, with an
// engine running the lifecycle task in steps of batch objects.
func lifecycleFixture(t *testing.T, batch int) (*fixture, *fakeClock, *jobs.Engine) {
	f := newFixture(t)
	clk := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	f.svc.now = clk.Now
	e := jobs.New(jobs.Options{Store: f.meta, Node: "test", Now: clk.Now})
	e.Register(jobs.Spec{Name: LifecycleJob, Task: lifecycleTask{f.svc, batch}, Every: time.Hour})
	return f, clk, e
}

func (f *fixture) keys(t *testing.T) []string {
	t.Helper()
	var keys []string
	if err := f.meta.ListObjects(context.Background(), "bkt", "", "", func(o *meta.Object) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestLifecycleConfigurationCRUD(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.GetBucketLifecycle(ctx, f.p, "bkt"); !errors.Is(err, errs.NoSuchLifecycleConfiguration) {
		t.Fatalf("get before put: %v", err)
	}
	c := mustLifecycle(t, `<Rule><ID>r</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule>`)
	if err := f.svc.PutBucketLifecycle(ctx, f.p, "bkt", c); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.GetBucketLifecycle(ctx, f.p, "bkt")
	if err != nil || len(got.Rules) != 1 || got.Rules[0].Expiration.Days != 3 {
		t.Fatalf("get: %+v %v", got, err)
	}
	if err := f.svc.PutBucketLifecycle(ctx, Principal{User: "mallory"}, "bkt", c); !errors.Is(err, errs.AccessDenied) {
		t.Fatalf("another user's put: %v", err)
	}
	if err := f.svc.DeleteBucketLifecycle(ctx, f.p, "bkt"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetBucketLifecycle(ctx, f.p, "bkt"); !errors.Is(err, errs.NoSuchLifecycleConfiguration) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestLifecycleExpiresObjectsAndAbortsUploads(t *testing.T) {
	f, clk, e := lifecycleFixture(t, 2)
	ctx := context.Background()
	big := bytes.Repeat([]byte("b"), 100<<10) // a blob, not inline
	for _, k := range []string{"logs/1", "logs/2", "logs/3", "logs/4", "logs/5"} {
		f.put(t, k, big, nil)
	}
	f.put(t, "keep/a", []byte("kept"), nil)
	f.put(t, "logs/small", []byte("inline"), nil)
	for _, k := range []string{"logs/up", "keep/up"} {
		if _, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: k}); err != nil {
			t.Fatal(err)
		}
	}
	blobsBefore := f.blobFiles(t)
	if err := f.svc.PutBucketLifecycle(ctx, f.p, "bkt", mustLifecycle(t, `<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>`)); err != nil {
		t.Fatal(err)
	}
	o, err := f.svc.HeadObject(ctx, f.p, GetObjectInput{Bucket: "bkt", Key: "logs/1"})
	if err != nil {
		t.Fatal(err)
	}
	// 1 Mar 09:00 + 1 day, rounded up to midnight: 3 Mar 00:00.
	if x := f.svc.ObjectExpiration(ctx, o); x == nil || x.RuleID != "logs" || !x.Date.Equal(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("expiration %+v", x)
	}

	// Not yet due: a pass deletes nothing.
	clk.Add(38 * time.Hour) // 2 Mar 23:00
	j, err := e.RunPass(ctx, LifecycleJob)
	if err != nil {
		t.Fatal(err)
	}
	if j.Pass["expired"] != 0 || j.Pass["aborted"] != 0 || len(f.keys(t)) != 7 {
		t.Fatalf("early pass acted: %+v, keys %v", j.Pass, f.keys(t))
	}

	clk.Add(time.Hour) // 3 Mar 00:00
	j, err = e.RunPass(ctx, LifecycleJob)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.keys(t); len(got) != 1 || got[0] != "keep/a" {
		t.Fatalf("after the pass: %v", got)
	}
	if j.Pass["expired"] != 6 || j.Pass["aborted"] != 1 {
		t.Fatalf("pass counts %+v", j.Pass)
	}
	if n := f.blobFiles(t); n != blobsBefore-5 {
		t.Fatalf("blob files %d, want %d: expired objects' blobs must go", n, blobsBefore-5)
	}
	ups, err := f.meta.ListUploads(ctx, "bkt", "")
	if err != nil || len(ups) != 1 || ups[0].Key != "keep/up" {
		t.Fatalf("uploads left %v %v", ups, err)
	}
}

func TestLifecyclePassResumesWithoutRepeatingOrSkipping(t *testing.T) {
	f, clk, e := lifecycleFixture(t, 3)
	ctx := context.Background()
	for i := range 10 {
		f.put(t, fmt.Sprintf("k%02d", i), []byte("x"), nil)
	}
	if err := f.svc.PutBucketLifecycle(ctx, f.p, "bkt", mustLifecycle(t, `<Rule><ID>all</ID><Filter></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`)); err != nil {
		t.Fatal(err)
	}
	clk.Add(72 * time.Hour)
	// The node "dies" after the first step: its context ends.
	cctx, cancel := context.WithCancel(ctx)
	e2 := jobs.New(jobs.Options{Store: f.meta, Node: "test", Now: clk.Now})
	e2.Register(jobs.Spec{Name: LifecycleJob, Task: cancelAfterStep{lifecycleTask{f.svc, 3}, cancel}, Every: time.Hour})
	if _, err := e2.RunPass(cctx, LifecycleJob); !errors.Is(err, context.Canceled) {
		t.Fatalf("want cancellation, got %v", err)
	}
	if got := len(f.keys(t)); got != 7 {
		t.Fatalf("after one step of 3: %d keys left", got)
	}
	j, err := e.RunPass(ctx, LifecycleJob)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.keys(t); len(got) != 0 {
		t.Fatalf("left %v", got)
	}
	if j.Pass["expired"] != 10 || j.Total["expired"] != 10 {
		t.Fatalf("counts %+v / %+v: an expiry was repeated or skipped", j.Pass, j.Total)
	}
}

type cancelAfterStep struct {
	jobs.Task
	cancel context.CancelFunc
}

func (c cancelAfterStep) Step(ctx context.Context, now time.Time, cur []byte, counts jobs.Counts) (jobs.Step, error) {
	st, err := c.Task.Step(ctx, now, cur, counts)
	c.cancel()
	return st, err
}

func TestLifecycleSparesAnOverwriteMadeAfterEvaluation(t *testing.T) {
	f, clk, _ := lifecycleFixture(t, 10)
	ctx := context.Background()
	old := f.put(t, "k", []byte("old"), nil)
	clk.Add(48 * time.Hour)
	f.put(t, "k", []byte("new"), nil)
	// The pass evaluated the old version; the overwrite came in between.
	if err := f.svc.expireObject(ctx, old); err != nil {
		t.Fatal(err)
	}
	got, err := f.get("k", nil)
	if err != nil || string(got) != "new" {
		t.Fatalf("the overwrite was expired: %q %v", got, err)
	}
}
