package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// keyJobFixture is a fixture with objects under several keys and modes,
// and an engine that runs the key jobs.
type keyJobFixture struct {
	*fixture
	keys    *kms.Keyring
	engine  *jobs.Engine
	objects map[string][]byte // key -> content
	etags   map[string]string
}

func newKeyJobFixture(t *testing.T, n int) *keyJobFixture {
	t.Helper()
	f := &keyJobFixture{fixture: newFixture(t), objects: map[string][]byte{}, etags: map[string]string{}}
	f.keys = f.svc.sealer.Provider().(*kms.Keyring)
	ctx := context.Background()
	if _, err := f.keys.CreateKey(ctx, "photos"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.keys.CreateKey(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"photos", "other"} { // only root may use a key without a grant
		if _, err := f.meta.UpdateKeyPolicy(ctx, key, func(p *meta.KeyPolicy) error {
			p.Grants = map[string]meta.KeyGrant{f.p.User: {Encrypt: true, Decrypt: true}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	specs := []*sse.Spec{
		{Mode: sse.Managed, Algorithm: sse.AES256},
		{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: "photos"},
		{Mode: sse.KMS, Algorithm: sse.SM4, KeyID: "photos", BucketKey: true},
		{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: "other"},
		nil, // plaintext
	}
	for i := range n {
		key := fmt.Sprintf("obj-%04d", i)
		data := random(100 + i*37%5000)
		if i%7 == 0 {
			data = random(InlineMax + 1000) // a blob, not inline
		}
		o := f.put(t, key, data, specs[i%len(specs)])
		f.objects[key], f.etags[key] = data, o.ETag
	}
	f.engine = jobs.New(jobs.Options{Store: f.meta, Node: "test"})
	return f
}

func (f *keyJobFixture) register(name string, task jobs.Task) {
	f.engine.Register(jobs.Spec{Name: name, Task: task, Every: KeyJobOnce})
}

// checkAll reads every object back whole and compares content and ETag.
func (f *keyJobFixture) checkAll(t *testing.T) {
	t.Helper()
	for key, want := range f.objects {
		got, err := f.get(key, nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes, %v (want %d bytes)", key, len(got), err, len(want))
		}
		o, err := f.meta.GetObject(context.Background(), "bkt", key)
		if err != nil || o.ETag != f.etags[key] {
			t.Fatalf("%s: ETag %q, %v; want %q", key, o.ETag, err, f.etags[key])
		}
	}
}

// usage maps "key vN" to the object versions depending on it.
func (f *keyJobFixture) usage(t *testing.T) map[string]int64 {
	t.Helper()
	u, err := f.svc.KeyUsage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for _, x := range u {
		m[fmt.Sprintf("%s v%d", x.Key, x.Version)] = x.Objects
	}
	return m
}

// readLoop reads every object until stop is closed and reports the first
// failure: objects must stay readable while a key job runs.
func (f *keyJobFixture) readLoop(t *testing.T) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Value
	var reads atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			for key, want := range f.objects {
				select {
				case <-done:
					return
				default:
				}
				got, err := f.get(key, nil)
				if err != nil || !bytes.Equal(got, want) {
					failed.CompareAndSwap(nil, fmt.Sprintf("%s: %d bytes, %v", key, len(got), err))
				}
				reads.Add(1)
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		if v := failed.Load(); v != nil {
			t.Fatalf("a read during the job failed: %v", v)
		}
		if reads.Load() == 0 {
			t.Fatal("no read ran during the job")
		}
	}
}

// TestRewrapMovesOldVersions: after rotations, a rewrap of a key moves
// every object key and bucket key under its old versions to the newest,
// leaves other keys' objects alone, keeps every object readable (during
// the job too) with its ETag, and leaves no object on the old version.
func TestRewrapMovesOldVersions(t *testing.T) {
	ctx := context.Background()
	f := newKeyJobFixture(t, 60)
	for _, k := range []string{"photos", "other", kms.DefaultKeyName} {
		if _, err := f.keys.RotateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	before := f.usage(t)
	if before["photos v1"] != 24 || before["other v1"] != 12 || before[kms.DefaultKeyName+" v1"] != 12 {
		t.Fatalf("usage before: %v", before)
	}
	task := f.svc.RewrapTask("builtin")
	task.(*keyJobTask).batch = 7
	f.register(RewrapJob, task)
	if err := StartKeyJob(ctx, f.meta, RewrapJob, KeyJobRequest{Key: "photos", Requested: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := StartKeyJob(ctx, f.meta, RewrapJob, KeyJobRequest{Key: "other", Requested: time.Now()}); !errors.Is(err, ErrKeyJobRunning) {
		t.Fatalf("a second rewrap while one runs: %v", err)
	}
	stop := f.readLoop(t)
	j, err := f.engine.RunPass(ctx, RewrapJob)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if j.Pass["total"] != 24 || j.Pass["done"] != 24 || j.Pass["rewrapped"] != 24 {
		t.Fatalf("pass counts: %v", j.Pass)
	}
	after := f.usage(t)
	if after["photos v1"] != 0 || after["photos v2"] != 24 || after["other v1"] != 12 || after[kms.DefaultKeyName+" v1"] != 12 {
		t.Fatalf("usage after: %v", after)
	}
	f.checkAll(t)
	// A pass that runs again (no request) does nothing.
	if j, err := f.engine.RunPass(ctx, RewrapJob); err != nil || len(j.Pass) != 0 {
		t.Fatalf("a pass without a request: %v, %v", j.Pass, err)
	}
	st, err := KeyJobState(ctx, f.meta, RewrapJob)
	if err != nil || st.Running || st.Passes != 2 {
		t.Fatalf("status: %+v, %v", st, err)
	}
}

// TestRewrapToAnotherKey: --to moves every object of a key (any version)
// to another key; KMS objects then name the new key.
func TestRewrapToAnotherKey(t *testing.T) {
	ctx := context.Background()
	f := newKeyJobFixture(t, 30)
	f.register(RewrapJob, f.svc.RewrapTask("builtin"))
	if err := StartKeyJob(ctx, f.meta, RewrapJob, KeyJobRequest{Key: "photos", To: "other", Requested: time.Now()}); err != nil {
		t.Fatal(err)
	}
	j, err := f.engine.RunPass(ctx, RewrapJob)
	if err != nil || j.Pass["rewrapped"] != 12 {
		t.Fatalf("pass: %v, %v", j.Pass, err)
	}
	if u := f.usage(t); u["photos v1"] != 0 || u["other v1"] != 18 {
		t.Fatalf("usage after: %v", u)
	}
	o, err := f.meta.GetObject(ctx, "bkt", "obj-0001")
	if err != nil || o.Encryption.KeyID != "other" {
		t.Fatalf("KMS key of a moved object: %+v, %v", o.Encryption, err)
	}
	f.checkAll(t)
}

// stopAfter cancels its context after n steps of the task it wraps: a
// node stopped in the middle of a job.
type stopAfter struct {
	jobs.Task
	n      int
	cancel context.CancelFunc
}

func (s *stopAfter) Step(ctx context.Context, now time.Time, cur []byte, c jobs.Counts) (jobs.Step, error) {
	st, err := s.Task.Step(ctx, now, cur, c)
	if s.n--; s.n == 0 {
		s.cancel()
	}
	return st, err
}

// TestRewrapResumes: a rewrap stopped mid-way resumes where it stood on
// the next engine (a restarted node), without counting again, and ends
// with every version moved.
func TestRewrapResumes(t *testing.T) {
	ctx := context.Background()
	f := newKeyJobFixture(t, 60)
	if _, err := f.keys.RotateKey(ctx, kms.DefaultKeyName); err != nil {
		t.Fatal(err)
	}
	task := f.svc.RewrapTask("builtin")
	task.(*keyJobTask).batch = 5
	stopCtx, cancel := context.WithCancel(ctx)
	f.register(RewrapJob, &stopAfter{Task: task, n: 4, cancel: cancel})
	if err := StartKeyJob(ctx, f.meta, RewrapJob, KeyJobRequest{Key: kms.DefaultKeyName, Requested: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.engine.RunPass(stopCtx, RewrapJob); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped pass: %v", err)
	}
	st, err := KeyJobState(ctx, f.meta, RewrapJob)
	if err != nil || !st.Running || st.Total != 12 || st.Done == 0 || st.Done == 12 {
		t.Fatalf("status after the stop: %+v, %v", st, err)
	}
	if u := f.usage(t); u[kms.DefaultKeyName+" v1"] != 12-st.Done {
		t.Fatalf("usage after the stop (%d done): %v", st.Done, u)
	}
	// A new engine over the same store: the restarted node.
	e2 := jobs.New(jobs.Options{Store: f.meta, Node: "test"})
	e2.Register(jobs.Spec{Name: RewrapJob, Task: f.svc.RewrapTask("builtin"), Every: KeyJobOnce})
	e2.RunDue(ctx)
	j, err := f.meta.GetJob(ctx, RewrapJob)
	if err != nil || j.Pass["total"] != 12 || j.Pass["done"] != 12 || j.Pass["rewrapped"] != 12 || !j.PassStarted.IsZero() {
		t.Fatalf("after the resumed pass: %+v, %v", j, err)
	}
	if u := f.usage(t); u[kms.DefaultKeyName+" v1"] != 0 {
		t.Fatalf("usage after: %v", u)
	}
	f.checkAll(t)
}

// TestRewrapKeepsConcurrentOverwrite: a version overwritten between the
// job's read and its install keeps the new content (the swap is
// conditional on the material read).
func TestRewrapKeepsConcurrentOverwrite(t *testing.T) {
	ctx := context.Background()
	f := newKeyJobFixture(t, 5)
	o, err := f.meta.GetObject(ctx, "bkt", "obj-0000")
	if err != nil {
		t.Fatal(err)
	}
	o.Bucket = "bkt"
	fresh := random(50)
	f.put(t, "obj-0000", fresh, &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256})
	if _, err := f.keys.RotateKey(ctx, kms.DefaultKeyName); err != nil {
		t.Fatal(err)
	}
	enc := *o.Encryption
	enc.WrappedKey = []byte("stale")
	if got, err := f.svc.swapEncryption(ctx, o, &enc); err != nil || got != "changed" {
		t.Fatalf("swap over a changed version: %q, %v", got, err)
	}
	if got, err := f.get("obj-0000", nil); err != nil || !bytes.Equal(got, fresh) {
		t.Fatalf("overwritten object: %v", err)
	}
	_ = rand.Reader
	_ = meta.NullVersion
}

// TestKeyJobYieldsToClients: while a client's read or write is in
// progress a key job's workers wait (up to MaxYield each) before each
// version, and go on once the clients are done.
func TestKeyJobYieldsToClients(t *testing.T) {
	ctx := context.Background()
	f := newKeyJobFixture(t, 10)
	if _, err := f.keys.RotateKey(ctx, "photos"); err != nil {
		t.Fatal(err)
	}
	f.register(RewrapJob, f.svc.RewrapTask("builtin"))
	if err := StartKeyJob(ctx, f.meta, RewrapJob, KeyJobRequest{Key: "photos", Requested: time.Now()}); err != nil {
		t.Fatal(err)
	}
	done := f.svc.client() // a client request in progress
	start := time.Now()
	j, err := f.engine.RunPass(ctx, RewrapJob)
	took := time.Since(start)
	done()
	if err != nil || j.Pass["rewrapped"] != 4 {
		t.Fatalf("pass: %v, %v", j.Pass, err)
	}
	if took < MaxYield {
		t.Fatalf("the job took %v with a client request in progress: it did not yield", took)
	}
}
