package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// replFixture: bucket "bkt" replicating to "dst" (both versioned), a clock
// the test moves and an engine running the replication task through
// target (nil: the service's own).
type replFixture struct {
	*fixture
	clk  *fakeClock
	e    *jobs.Engine
	task *ReplicationTask
}

func newReplFixture(t *testing.T, target func(context.Context, replication.Destination) (ReplicaTarget, error), rules ...replication.Rule) *replFixture {
	t.Helper()
	f := newFixture(t)
	clk := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	f.svc.now = clk.Now
	f.meta.SetClock(clk.Now)
	bg := context.Background()
	if _, err := f.svc.CreateBucket(bg, f.p, "dst", "", ""); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"bkt", "dst"} {
		if err := f.svc.PutBucketVersioning(bg, f.p, b, meta.VersioningEnabled); err != nil {
			t.Fatal(err)
		}
	}
	if rules == nil {
		rules = []replication.Rule{{ID: "all", Enabled: true, DeleteMarkers: true, Destination: replication.Destination{Bucket: "dst"}}}
	}
	setReplication(t, f, &replication.Config{Rules: rules})
	task := f.svc.ReplicationTask(ReplicationOptions{Batch: 4, Workers: 3, Target: target})
	e := jobs.New(jobs.Options{Store: f.meta, Node: "test", Now: clk.Now})
	e.Register(jobs.Spec{Name: ReplicationJob, Task: task, Every: time.Minute})
	return &replFixture{fixture: f, clk: clk, e: e, task: task}
}

// setReplication installs a configuration directly (the dialect handlers
// are another branch's).
func setReplication(t *testing.T, f *fixture, c *replication.Config) {
	t.Helper()
	err := f.meta.UpdateBucket(context.Background(), "bkt", func(b *meta.Bucket) error {
		if b.Config == nil {
			b.Config = map[string][]byte{}
		}
		if c == nil {
			delete(b.Config, replication.ConfigName)
		} else {
			b.Config[replication.ConfigName] = c.Encode()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *replFixture) pass(t *testing.T) *meta.Job {
	t.Helper()
	j, err := f.e.RunPass(context.Background(), ReplicationJob)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func (f *replFixture) queue(t *testing.T) []*meta.ReplicationEntry {
	t.Helper()
	es, err := f.meta.NextReplications(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func (f *fixture) version(t *testing.T, bucket, key, id string) *meta.Object {
	t.Helper()
	o, err := f.meta.GetObjectVersion(context.Background(), bucket, key, id)
	if err != nil {
		t.Fatalf("%s/%s version %s: %v", bucket, key, id, err)
	}
	return o
}

// TestReplicationEnqueue: which writes are queued, each by the transaction
// that installs it.
func TestReplicationEnqueue(t *testing.T) {
	bg := context.Background()
	kmsSpec := &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256}
	dst := replication.Destination{Bucket: "dst"}
	cases := []struct {
		name  string
		rules []replication.Rule
		write func(t *testing.T, f *replFixture) (key, versionID string)
		want  string // the version's status ("" : not queued)
	}{
		{"put", nil, func(t *testing.T, f *replFixture) (string, string) {
			o := f.put(t, "a", []byte("x"), nil)
			return o.Key, o.VersionID
		}, replication.StatusPending},
		{"put outside the prefix", []replication.Rule{{ID: "logs", Enabled: true, Prefix: "logs/", Destination: dst}}, func(t *testing.T, f *replFixture) (string, string) {
			o := f.put(t, "a", []byte("x"), nil)
			return o.Key, o.VersionID
		}, ""},
		{"disabled rule", []replication.Rule{{ID: "off", Destination: dst}}, func(t *testing.T, f *replFixture) (string, string) {
			o := f.put(t, "a", []byte("x"), nil)
			return o.Key, o.VersionID
		}, ""},
		{"tag filter, tagged", []replication.Rule{{ID: "t", Enabled: true, Tags: []replication.Tag{{Key: "rep", Value: "yes"}}, Destination: dst}}, func(t *testing.T, f *replFixture) (string, string) {
			o, err := f.svc.PutObject(bg, f.p, PutObjectInput{Bucket: "bkt", Key: "a", Tags: []meta.Tag{{Key: "rep", Value: "yes"}}, Body: Body{Reader: bytes.NewReader([]byte("x")), Size: 1}})
			if err != nil {
				t.Fatal(err)
			}
			return o.Key, o.VersionID
		}, replication.StatusPending},
		{"SSE-KMS without SseKmsEncryptedObjects", nil, func(t *testing.T, f *replFixture) (string, string) {
			o := f.put(t, "a", []byte("x"), kmsSpec)
			return o.Key, o.VersionID
		}, ""},
		{"SSE-KMS with SseKmsEncryptedObjects", []replication.Rule{{ID: "kms", Enabled: true, SSEKMSEncrypted: true, Destination: dst}}, func(t *testing.T, f *replFixture) (string, string) {
			o := f.put(t, "a", []byte("x"), kmsSpec)
			return o.Key, o.VersionID
		}, replication.StatusPending},
		{"SSE-S3", nil, func(t *testing.T, f *replFixture) (string, string) {
			o := f.put(t, "a", []byte("x"), &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256})
			return o.Key, o.VersionID
		}, replication.StatusPending},
		{"copy", nil, func(t *testing.T, f *replFixture) (string, string) {
			setReplication(t, f.fixture, nil)
			f.put(t, "src", []byte("x"), nil)
			setReplication(t, f.fixture, &replication.Config{Rules: []replication.Rule{{ID: "all", Enabled: true, Destination: dst}}})
			out, err := f.svc.CopyObject(bg, f.p, CopyObjectInput{SrcBucket: "bkt", SrcKey: "src", Bucket: "bkt", Key: "a"})
			if err != nil {
				t.Fatal(err)
			}
			return out.Key, out.VersionID
		}, replication.StatusPending},
		{"multipart", nil, func(t *testing.T, f *replFixture) (string, string) {
			u, err := f.svc.CreateMultipartUpload(bg, f.p, CreateUploadInput{Bucket: "bkt", Key: "a"})
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.svc.UploadPart(bg, f.p, UploadPartInput{Bucket: "bkt", Key: "a", UploadID: u.ID, PartNumber: 1, Body: Body{Reader: bytes.NewReader([]byte("x")), Size: 1}})
			if err != nil {
				t.Fatal(err)
			}
			o, err := f.svc.CompleteMultipartUpload(bg, f.p, CompleteUploadInput{Bucket: "bkt", Key: "a", UploadID: u.ID, Parts: []CompletePart{{1, p.ETag}}})
			if err != nil {
				t.Fatal(err)
			}
			return o.Key, o.VersionID
		}, replication.StatusPending},
		{"delete marker", nil, func(t *testing.T, f *replFixture) (string, string) {
			setReplication(t, f.fixture, nil)
			f.put(t, "a", []byte("x"), nil)
			setReplication(t, f.fixture, &replication.Config{Rules: []replication.Rule{{ID: "all", Enabled: true, DeleteMarkers: true, Destination: dst}}})
			out, err := f.svc.DeleteObjectVersion(bg, f.p, "bkt", "a", "", false)
			if err != nil {
				t.Fatal(err)
			}
			return "a", out.VersionID
		}, replication.StatusPending},
		{"delete marker, rule without DeleteMarkerReplication", []replication.Rule{{ID: "all", Enabled: true, Destination: dst}}, func(t *testing.T, f *replFixture) (string, string) {
			out, err := f.svc.DeleteObjectVersion(bg, f.p, "bkt", "a", "", false)
			if err != nil {
				t.Fatal(err)
			}
			return "a", out.VersionID
		}, ""},
		{"delete marker, tag rule", []replication.Rule{{ID: "t", Enabled: true, DeleteMarkers: true, Tags: []replication.Tag{{Key: "k", Value: "v"}}, Destination: dst}}, func(t *testing.T, f *replFixture) (string, string) {
			out, err := f.svc.DeleteObjectVersion(bg, f.p, "bkt", "a", "", false)
			if err != nil {
				t.Fatal(err)
			}
			return "a", out.VersionID
		}, ""},
		{"versioning suspended", nil, func(t *testing.T, f *replFixture) (string, string) {
			// Through the store: the service refuses to suspend a bucket
			// that has a replication configuration.
			if err := f.meta.UpdateBucket(bg, "bkt", func(b *meta.Bucket) error { b.Versioning = meta.VersioningSuspended; return nil }); err != nil {
				t.Fatal(err)
			}
			f.put(t, "a", []byte("x"), nil)
			if _, err := f.svc.DeleteObjectVersion(bg, f.p, "bkt", "a", "", false); err != nil {
				t.Fatal(err)
			}
			return "a", meta.NullVersion
		}, ""},
		{"written before the configuration", nil, func(t *testing.T, f *replFixture) (string, string) {
			setReplication(t, f.fixture, nil)
			o := f.put(t, "a", []byte("x"), nil)
			setReplication(t, f.fixture, &replication.Config{Rules: []replication.Rule{{ID: "all", Enabled: true, Destination: dst}}})
			return o.Key, o.VersionID
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newReplFixture(t, nil, c.rules...)
			key, id := c.write(t, f)
			v := f.version(t, "bkt", key, id)
			if v.ReplicationStatus != c.want {
				t.Fatalf("status %q, want %q", v.ReplicationStatus, c.want)
			}
			var mine []*meta.ReplicationEntry
			for _, e := range f.queue(t) {
				if e.Key == key && e.VersionID == id {
					mine = append(mine, e)
				}
			}
			if c.want == "" {
				if q := f.queue(t); len(q) != 0 {
					t.Fatalf("queued: %+v", q)
				}
			} else if len(mine) != 1 {
				t.Fatalf("%d queue entries for the version, want 1", len(mine))
			}
			if c.want != "" {
				select {
				case <-f.svc.replWake:
				default:
					t.Error("the write did not wake the replication job")
				}
			}
		})
	}
}

// TestReplicationDrain: a pass replicates every queued version (objects and
// a delete marker, over several steps) with its version ID, data, metadata
// and tags, marks the sources COMPLETED, and empties the queue; the counts
// and the status call report it.
func TestReplicationDrain(t *testing.T) {
	f := newReplFixture(t, nil)
	bg := context.Background()
	var srcs []*meta.Object
	var total int64
	for i := range 9 {
		data := bytes.Repeat([]byte{byte('a' + i)}, 100*(i+1))
		o, err := f.svc.PutObject(bg, f.p, PutObjectInput{Bucket: "bkt", Key: fmt.Sprintf("k%d", i%3), Body: Body{Reader: bytes.NewReader(data), Size: int64(len(data))},
			Meta: ObjectMeta{UserMeta: map[string]string{"n": fmt.Sprint(i)}}, Tags: []meta.Tag{{Key: "i", Value: fmt.Sprint(i)}}})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, o)
		total += int64(len(data))
	}
	dm, err := f.svc.DeleteObjectVersion(bg, f.p, "bkt", "k0", "", false)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Add(3 * time.Second)
	st, err := ReplicationStatus(bg, f.meta, "bkt", f.clk.Now())
	if err != nil || len(st) != 1 || st[0].Backlog != 10 || st[0].Lag != 3*time.Second {
		t.Fatalf("status before the pass: %+v %v", st, err)
	}

	j := f.pass(t)
	if j.Pass["completed"] != 10 || j.Pass["bytes"] != total {
		t.Fatalf("pass counts %v, want 10 completed, %d bytes", j.Pass, total)
	}
	if q := f.queue(t); len(q) != 0 {
		t.Fatalf("queue after the pass: %+v", q)
	}
	for i, o := range srcs {
		if s := f.version(t, "bkt", o.Key, o.VersionID).ReplicationStatus; s != replication.StatusCompleted {
			t.Errorf("source %d: %s", i, s)
		}
		r := f.version(t, "dst", o.Key, o.VersionID)
		if r.ReplicationStatus != replication.StatusReplica || r.UserMeta["n"] != fmt.Sprint(i) || len(r.Tags) != 1 || r.Tags[0].Value != fmt.Sprint(i) {
			t.Errorf("replica %d: %+v", i, r)
		}
		ob, err := f.svc.GetObject(bg, f.p, GetObjectInput{Bucket: "dst", Key: o.Key, VersionID: o.VersionID})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(ob.Body)
		ob.Body.Close()
		if !bytes.Equal(got, bytes.Repeat([]byte{byte('a' + i)}, 100*(i+1))) {
			t.Errorf("replica %d: wrong data", i)
		}
	}
	if r := f.version(t, "dst", "k0", dm.VersionID); !r.DeleteMarker || r.ReplicationStatus != replication.StatusReplica {
		t.Errorf("replicated delete marker: %+v", r)
	}
	if s := f.version(t, "bkt", "k0", dm.VersionID).ReplicationStatus; s != replication.StatusCompleted {
		t.Errorf("source delete marker: %s", s)
	}
	// The replicas are not queued in turn.
	st, err = ReplicationStatus(bg, f.meta, "bkt", f.clk.Now())
	if err != nil || st[0].Backlog != 0 || st[0].Completed != 10 || st[0].Bytes != total || st[0].Lag != 0 {
		t.Fatalf("status after the pass: %+v %v", st[0], err)
	}
}

// flakyTarget fails the first `fails` transfers with err, then passes them
// to the real target, counting the calls per version.
type flakyTarget struct {
	mu    sync.Mutex
	real  func(context.Context, replication.Destination) (ReplicaTarget, error)
	fails int
	err   error
	calls map[string]int
}

func (ft *flakyTarget) open(ctx context.Context, d replication.Destination) (ReplicaTarget, error) {
	real, err := ft.real(ctx, d)
	if err != nil {
		return nil, err
	}
	return flakyConn{ft, real}, nil
}

type flakyConn struct {
	ft   *flakyTarget
	real ReplicaTarget
}

func (c flakyConn) fail(src *meta.Object) error {
	c.ft.mu.Lock()
	defer c.ft.mu.Unlock()
	if c.ft.calls == nil {
		c.ft.calls = map[string]int{}
	}
	c.ft.calls[src.VersionID]++
	if c.ft.fails > 0 {
		c.ft.fails--
		return c.ft.err
	}
	return nil
}

func (c flakyConn) PutReplica(ctx context.Context, src *meta.Object, r *replication.Rule) (int64, error) {
	if err := c.fail(src); err != nil {
		return 0, err
	}
	return c.real.PutReplica(ctx, src, r)
}

func (c flakyConn) PutDeleteMarker(ctx context.Context, src *meta.Object, r *replication.Rule) error {
	if err := c.fail(src); err != nil {
		return err
	}
	return c.real.PutDeleteMarker(ctx, src, r)
}

// TestReplicationRetry: a transient failure leaves the entry queued and the
// version PENDING, retried after 1 s, 2 s, 4 s (not before); the fourth
// attempt succeeds.
func TestReplicationRetry(t *testing.T) {
	ft := &flakyTarget{fails: 3, err: errors.New("destination down")}
	f := newReplFixture(t, ft.open)
	ft.real = f.svc.ReplicaTarget
	o := f.put(t, "a", []byte("data"), nil)
	bg := context.Background()
	for attempt, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		f.pass(t)
		q := f.queue(t)
		if len(q) != 1 || q[0].Attempts != attempt+1 || q[0].LastError != "destination down" || !q[0].NextTry.Equal(f.clk.Now().Add(wait)) {
			t.Fatalf("attempt %d: queue %+v, want a retry in %s", attempt+1, q, wait)
		}
		if s := f.version(t, "bkt", "a", o.VersionID).ReplicationStatus; s != replication.StatusPending {
			t.Fatalf("attempt %d: status %s", attempt+1, s)
		}
		st, _ := ReplicationStatus(bg, f.meta, "bkt", f.clk.Now())
		if st[0].Retrying != 1 || st[0].LastError != "destination down" {
			t.Fatalf("status: %+v", st[0])
		}
		// Not due yet: a pass leaves it alone.
		f.clk.Add(wait - time.Millisecond)
		f.pass(t)
		if ft.calls[o.VersionID] != attempt+1 {
			t.Fatalf("retried before its time: %d calls", ft.calls[o.VersionID])
		}
		f.clk.Add(time.Millisecond)
	}
	f.pass(t)
	if q := f.queue(t); len(q) != 0 {
		t.Fatalf("queue: %+v", q)
	}
	if s := f.version(t, "bkt", "a", o.VersionID).ReplicationStatus; s != replication.StatusCompleted {
		t.Fatalf("status %s after the retries", s)
	}
	if n := ft.calls[o.VersionID]; n != 4 {
		t.Fatalf("%d transfers, want 4", n)
	}
}

// TestReplicationPermanentFailure: an error wrapping ErrPermanent marks the
// version FAILED at once and removes the entry; so does a rule removed
// since the write. The status call keeps the error.
func TestReplicationPermanentFailure(t *testing.T) {
	ft := &flakyTarget{fails: 1, err: fmt.Errorf("%w: destination bucket gone", replication.ErrPermanent)}
	f := newReplFixture(t, ft.open)
	ft.real = f.svc.ReplicaTarget
	o := f.put(t, "a", []byte("data"), nil)
	j := f.pass(t)
	if j.Pass["failed"] != 1 {
		t.Fatalf("counts %v", j.Pass)
	}
	if s := f.version(t, "bkt", "a", o.VersionID).ReplicationStatus; s != replication.StatusFailed {
		t.Fatalf("status %s, want FAILED", s)
	}
	if q := f.queue(t); len(q) != 0 {
		t.Fatalf("queue: %+v", q)
	}
	st, err := ReplicationStatus(context.Background(), f.meta, "bkt", f.clk.Now())
	if err != nil || st[0].Failed != 1 || st[0].LastError == "" || st[0].LastErrorAt.IsZero() {
		t.Fatalf("status: %+v %v", st, err)
	}

	o2 := f.put(t, "b", []byte("data"), nil)
	setReplication(t, f.fixture, &replication.Config{Rules: []replication.Rule{{ID: "other", Enabled: true, Destination: replication.Destination{Bucket: "dst"}}}})
	f.pass(t)
	if s := f.version(t, "bkt", "b", o2.VersionID).ReplicationStatus; s != replication.StatusFailed {
		t.Fatalf("rule removed: status %s, want FAILED", s)
	}
}

// TestReplicaIdempotent: transferring a version again (a crash after the
// transfer, before its outcome was recorded) leaves one replica version.
func TestReplicaIdempotent(t *testing.T) {
	f := newReplFixture(t, nil)
	bg := context.Background()
	o := f.put(t, "a", []byte("data"), nil)
	target, err := f.svc.ReplicaTarget(bg, replication.Destination{Bucket: "dst"})
	if err != nil {
		t.Fatal(err)
	}
	src := f.version(t, "bkt", "a", o.VersionID)
	rule := &replication.Rule{ID: "all"}
	if n, err := target.PutReplica(bg, src, rule); err != nil || n != 4 {
		t.Fatalf("first transfer: %d %v", n, err)
	}
	before := f.blobFiles(t)
	f.pass(t) // transfers it again, then records COMPLETED
	if n, err := target.PutReplica(bg, src, rule); err != nil {
		t.Fatalf("third transfer: %d %v", n, err)
	}
	var versions int
	if err := f.meta.ListObjectVersions(bg, "dst", "", "", "", func(*meta.Object, bool) error { versions++; return nil }); err != nil {
		t.Fatal(err)
	}
	if versions != 1 {
		t.Fatalf("%d replica versions, want 1", versions)
	}
	if after := f.blobFiles(t); after != before {
		t.Fatalf("blob files %d -> %d: a repeated transfer left data behind", before, after)
	}
	if s := f.version(t, "bkt", "a", o.VersionID).ReplicationStatus; s != replication.StatusCompleted {
		t.Fatalf("status %s", s)
	}
}

// TestReplicationDrivenByWrites: Drive drains at once what was queued
// before it started (a restart), and then replicates each write promptly,
// without waiting for the job's schedule.
func TestReplicationDrivenByWrites(t *testing.T) {
	f := newReplFixture(t, nil)
	left := f.put(t, "left", []byte("data"), nil)
	<-f.svc.replWake // as after a restart: queued, and nothing wakes the job
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.task.Drive(ctx, func(ctx context.Context) error { _, err := f.e.RunPass(ctx, ReplicationJob); return err })
	}()
	defer func() { cancel(); <-done }()
	waitCompleted := func(o *meta.Object) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for f.version(t, "bkt", o.Key, o.VersionID).ReplicationStatus != replication.StatusCompleted {
			if time.Now().After(deadline) {
				t.Fatalf("%s not replicated within 5 s", o.Key)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitCompleted(left)
	waitCompleted(f.put(t, "a", []byte("data"), nil))
}

// TestReplicationOutageScansOnlyNew: while the destination is down, a pass
// woken by a write looks only at the entries queued since the last pass,
// not at the backlog waiting for its retry; once a retry is due the whole
// queue is looked at again.
func TestReplicationOutageScansOnlyNew(t *testing.T) {
	ft := &flakyTarget{fails: 1 << 30, err: errors.New("destination down")}
	f := newReplFixture(t, ft.open)
	ft.real = f.svc.ReplicaTarget
	for i := range 10 {
		f.put(t, fmt.Sprintf("old%d", i), []byte("x"), nil)
	}
	if j := f.pass(t); j.Pass["scanned"] != 10 || j.Pass["retried"] != 10 {
		t.Fatalf("first pass: %v", j.Pass)
	}
	f.clk.Add(500 * time.Millisecond)
	f.put(t, "new", []byte("x"), nil)
	if j := f.pass(t); j.Pass["scanned"] != 1 || j.Pass["retried"] != 1 {
		t.Fatalf("pass after a write: %v, want only the new entry looked at", j.Pass)
	}
	f.clk.Add(500 * time.Millisecond) // the first ten are due
	if j := f.pass(t); j.Pass["scanned"] != 11 || j.Pass["retried"] != 10 {
		t.Fatalf("pass with retries due: %v", j.Pass)
	}
	if n := len(f.queue(t)); n != 11 {
		t.Fatalf("%d entries queued, want all 11 (nothing lost)", n)
	}
}

// TestReplicationBacklog: the task reports the queued versions as its
// backlog (the job backlog gauge), across the batches it reads them in,
// and nothing once they are replicated.
func TestReplicationBacklog(t *testing.T) {
	ft := &flakyTarget{fails: 1, err: errors.New("destination down")}
	f := newReplFixture(t, ft.open)
	ft.real = f.svc.ReplicaTarget
	bg := context.Background()
	for i := range 10 {
		f.put(t, fmt.Sprintf("k%d", i), []byte("data"), nil)
	}
	if n, err := f.task.Backlog(bg); err != nil || n != 10 {
		t.Fatalf("backlog of 10 queued versions: %d, %v", n, err)
	}
	if n, ok, err := f.e.Backlog(bg, ReplicationJob); err != nil || !ok || n != 10 {
		t.Fatalf("the engine's backlog of the job: %d %v %v", n, ok, err)
	}
	f.pass(t)
	f.clk.Add(time.Second)
	f.pass(t)
	if n, err := f.task.Backlog(bg); err != nil || n != 0 {
		t.Fatalf("backlog after replication: %d, %v", n, err)
	}
}

// TestReplicationProgress: OSS's NewObject progress is the enqueue time of
// the oldest version a rule still has queued, and now once none is.
func TestReplicationProgress(t *testing.T) {
	ft := &flakyTarget{fails: 2, err: errors.New("destination down")}
	f := newReplFixture(t, ft.open)
	ft.real = f.svc.ReplicaTarget
	bg := context.Background()
	queuedAt := f.clk.Now().UTC()
	f.put(t, "a", []byte("data"), nil)
	f.clk.Add(time.Minute)
	f.put(t, "b", []byte("data"), nil)
	f.pass(t) // both first attempts fail
	if at, err := f.svc.ReplicationProgress(bg, "bkt", "all"); err != nil || !at.Equal(queuedAt) {
		t.Fatalf("progress with a backlog: %v, %v; want %v", at, err, queuedAt)
	}
	f.clk.Add(time.Hour)
	f.pass(t)
	if at, err := f.svc.ReplicationProgress(bg, "bkt", "all"); err != nil || !at.Equal(f.clk.Now().UTC()) {
		t.Fatalf("progress with nothing queued: %v, %v; want now %v", at, err, f.clk.Now())
	}
}

// TestConcurrentReplicationAdds: OSS's add-a-rule requests racing each
// other all land (each is applied to the configuration stored in the
// bucket's own transaction, not to one read before it).
func TestConcurrentReplicationAdds(t *testing.T) {
	f := newFixture(t)
	bg := context.Background()
	const n = 6
	for i := range n {
		if _, err := f.svc.CreateBucket(bg, f.p, fmt.Sprintf("dst%d", i), "", ""); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			add := &replication.Config{Rules: []replication.Rule{{ID: fmt.Sprintf("r%d", i), Enabled: true,
				Destination: replication.Destination{Bucket: fmt.Sprintf("dst%d", i)}}}}
			errc <- f.svc.AddBucketReplicationRules(bg, f.p, "bkt", add, replication.OSS)
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	c, _, err := f.svc.GetBucketReplication(bg, f.p, "bkt")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules) != n {
		t.Fatalf("%d rules after %d concurrent adds, want all", len(c.Rules), n)
	}
}
