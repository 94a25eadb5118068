package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/lifecycle"
	"github.com/strongroom-dev/strongroom/internal/meta"
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
	f.meta.SetClock(clk.Now)
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
	o, _, err := f.svc.HeadObject(ctx, f.p, GetObjectInput{Bucket: "bkt", Key: "logs/1"})
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

// versions lists a key's versions newest first as "id" or "marker".
func (f *fixture) versions(t *testing.T, key string) []string {
	t.Helper()
	var out []string
	if err := f.meta.ListObjectVersions(context.Background(), "bkt", key, "", "", func(o *meta.Object, _ bool) error {
		if o.Key != key {
			return nil
		}
		if o.DeleteMarker {
			out = append(out, "marker")
		} else {
			out = append(out, string(f.bodyOf(t, o)))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) bodyOf(t *testing.T, o *meta.Object) []byte {
	t.Helper()
	vid := o.VersionID
	if vid == "" {
		vid = meta.NullVersion
	}
	ob, err := f.svc.GetObject(context.Background(), f.p, GetObjectInput{Bucket: "bkt", Key: o.Key, VersionID: vid})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Body.Close()
	b := new(bytes.Buffer)
	b.ReadFrom(ob.Body)
	return b.Bytes()
}

func TestLifecycleVersionedBucket(t *testing.T) {
	f, clk, e := lifecycleFixture(t, 2)
	ctx := context.Background()
	if err := f.svc.PutBucketVersioning(ctx, f.p, "bkt", meta.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	// Mar 1, 2, 3 at 09:00: three versions of k.
	for _, v := range []string{"v1", "v2", "v3"} {
		f.put(t, "k", []byte(v), nil)
		clk.Add(24 * time.Hour)
	}
	clk.Add(-24 * time.Hour)
	// m/x: one version, then a delete marker.
	f.put(t, "m/x", []byte("mx"), nil)
	if err := f.svc.DeleteObject(ctx, f.p, "bkt", "m/x"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.PutBucketLifecycle(ctx, f.p, "bkt", mustLifecycle(t, `
<Rule><ID>k</ID><Filter><Prefix>k</Prefix></Filter><Status>Enabled</Status><Expiration><Days>10</Days></Expiration><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>
<Rule><ID>m</ID><Filter><Prefix>m/</Prefix></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule>
<Rule><ID>markers</ID><Filter><Prefix>m/</Prefix></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>`)); err != nil {
		t.Fatal(err)
	}
	pass := func() map[string]int64 {
		t.Helper()
		j, err := e.RunPass(ctx, LifecycleJob)
		if err != nil {
			t.Fatal(err)
		}
		return j.Pass
	}

	// Mar 5 00:00: v1 (noncurrent since v2 on Mar 2 09:00) is past its day;
	// v2 is the one newer noncurrent version kept. m/x's data version
	// (noncurrent since Mar 3 09:00) expires; its marker still has company
	// during this pass.
	clk.t = time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	if c := pass(); c["noncurrent-expired"] != 2 || c["expired"] != 0 || c["markers-removed"] != 0 {
		t.Fatalf("first pass %v: k %v, m/x %v", c, f.versions(t, "k"), f.versions(t, "m/x"))
	}
	if got := f.versions(t, "k"); fmt.Sprint(got) != "[v3 v2]" {
		t.Fatalf("k after the first pass: %v", got)
	}
	// The next pass finds m/x's marker alone and removes it.
	if c := pass(); c["markers-removed"] != 1 || c["noncurrent-expired"] != 0 {
		t.Fatalf("second pass %v", c)
	}
	if got := f.versions(t, "m/x"); len(got) != 0 {
		t.Fatalf("m/x after the second pass: %v", got)
	}
	// Mar 14: the current v3 (Mar 3 09:00 + 10 days) expires into a
	// delete marker; data stays as noncurrent versions.
	clk.t = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	if c := pass(); c["expired"] != 1 {
		t.Fatalf("third pass %v", c)
	}
	if got := f.versions(t, "k"); fmt.Sprint(got) != "[marker v3 v2]" {
		t.Fatalf("k after expiry: %v", got)
	}
	// Then v2 has a newer noncurrent version (v3) and goes.
	if c := pass(); c["noncurrent-expired"] != 1 {
		t.Fatalf("fourth pass %v", c)
	}
	if got := f.versions(t, "k"); fmt.Sprint(got) != "[marker v3]" {
		t.Fatalf("k at the end: %v", got)
	}
}

// TestLifecycleTagFilter: a rule filtered by tag expires only the objects
// carrying it (the pass and x-amz-expiration see the objects' tags).
func TestLifecycleTagFilter(t *testing.T) {
	f, clk, e := lifecycleFixture(t, 10)
	ctx := context.Background()
	for _, c := range []struct {
		key  string
		tags []meta.Tag
	}{{"tmp", []meta.Tag{{Key: "temp", Value: "yes"}}}, {"other", []meta.Tag{{Key: "temp", Value: "no"}}}, {"plain", nil}} {
		if _, err := f.svc.PutObject(ctx, f.p, PutObjectInput{Bucket: "bkt", Key: c.key, Tags: c.tags,
			Body: Body{Reader: bytes.NewReader([]byte("x")), Size: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.PutBucketLifecycle(ctx, f.p, "bkt", mustLifecycle(t, `<Rule><ID>temp</ID><Filter><Tag><Key>temp</Key><Value>yes</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`)); err != nil {
		t.Fatal(err)
	}
	if _, x, err := f.svc.HeadObject(ctx, f.p, GetObjectInput{Bucket: "bkt", Key: "tmp"}); err != nil || x == nil || x.RuleID != "temp" {
		t.Fatalf("x-amz-expiration of the tagged object: %+v %v", x, err)
	}
	if _, x, _ := f.svc.HeadObject(ctx, f.p, GetObjectInput{Bucket: "bkt", Key: "other"}); x != nil {
		t.Fatalf("an object with another tag value expires: %+v", x)
	}
	clk.Add(72 * time.Hour)
	j, err := e.RunPass(ctx, LifecycleJob)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.keys(t); j.Pass["expired"] != 1 || fmt.Sprint(got) != "[other plain]" {
		t.Fatalf("expired %d, left %v", j.Pass["expired"], got)
	}
}
