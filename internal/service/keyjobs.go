package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Key jobs: the one-shot background jobs of key lifecycle (rewrap,
// re-encrypt, migrate). Each runs once per request: the request is stored
// in the job's cursor (meta.Jobs) together with its position, so a restart
// or a crash resumes it where its last step ended, and a pass without a
// request ends at once. A pass first counts the versions it has to do
// ("total"), then walks every version of every bucket (or of one bucket
// and prefix) in order, counting each version it handled as "done" and its
// outcome under its own name.
const (
	RewrapJob    = "key-rewrap"
	ReencryptJob = "key-reencrypt"
	MigrateJob   = "key-migrate"
)

// KeyJobOnce is the time between a key job's passes: a pass runs only
// when requested (StartKeyJob), never again by itself.
const KeyJobOnce = 100 * 365 * 24 * time.Hour

// KeyJobRequest is what a key job was asked to do.
type KeyJobRequest struct {
	Key       string `json:",omitempty"` // rewrap: the key whose versions move
	To        string `json:",omitempty"` // rewrap: move to this key instead
	Bucket    string `json:",omitempty"` // re-encrypt: the bucket (required)
	Prefix    string `json:",omitempty"` // re-encrypt: only keys with it
	Algorithm string `json:",omitempty"` // re-encrypt: AES256 or SM4 ("" keeps each object's)
	Provider  string `json:",omitempty"` // migrate: the target provider's kind
	// Target is the migration target's configuration (file names, no
	// secret), for the node to open it again after a restart.
	Target    json.RawMessage `json:",omitempty"`
	Rate      float64         `json:",omitempty"` // versions per second (0: no cap)
	Requested time.Time
}

// keyJobCursor is a key job's stored request and position: in Bucket,
// after version Version of Key (Key "": the bucket's start).
type keyJobCursor struct {
	Req     KeyJobRequest
	Counted bool   `json:",omitempty"`
	Bucket  string `json:",omitempty"`
	Key     string `json:",omitempty"`
	Version string `json:",omitempty"`
}

// versionWork is what one key job does to the versions it walks.
type versionWork interface {
	// wants reports whether version o is the job's to do.
	wants(o *meta.Object) bool
	// do handles o and names its outcome ("rewrapped", "changed", ...).
	do(ctx context.Context, o *meta.Object) (string, error)
}

// KeyJobBatch is how many versions one step of a key job looks at.
const KeyJobBatch = 256

// keyJobTask runs one kind of key job; build makes its work for a request.
type keyJobTask struct {
	s     *Service
	name  string
	batch int
	build func(ctx context.Context, req KeyJobRequest) (versionWork, error)

	mu   sync.Mutex
	req  time.Time // the request work was built for
	work versionWork
}

func (t *keyJobTask) workFor(ctx context.Context, req KeyJobRequest) (versionWork, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.work != nil && t.req.Equal(req.Requested) {
		return t.work, nil
	}
	w, err := t.build(ctx, req)
	if err != nil {
		return nil, err
	}
	t.work, t.req = w, req.Requested
	return w, nil
}

func (t *keyJobTask) Step(ctx context.Context, _ time.Time, raw []byte, counts jobs.Counts) (jobs.Step, error) {
	if raw == nil {
		return jobs.Step{Done: true}, nil // no request
	}
	var cur keyJobCursor
	if err := json.Unmarshal(raw, &cur); err != nil {
		return jobs.Step{}, fmt.Errorf("%s cursor: %w", t.name, err)
	}
	w, err := t.workFor(ctx, cur.Req)
	if err != nil {
		return jobs.Step{}, err
	}
	wall := time.Now()
	if !cur.Counted {
		n, err := t.s.countVersions(ctx, cur.Req, w)
		if err != nil {
			return jobs.Step{}, err
		}
		counts.Add("total", n)
		cur.Counted = true
		return t.next(cur, 0)
	}
	batch := t.batch
	if r := cur.Req.Rate; r > 0 {
		// Steps of about a quarter second: a throttled job shows its
		// progress and stops promptly.
		batch = max(1, min(batch, int(r/4)))
	}
	walked, end, done, err := t.s.walkVersions(ctx, cur, batch)
	if err != nil {
		return jobs.Step{}, err
	}
	// The batch's versions are done concurrently, so that the metadata
	// store commits their swaps in groups rather than one by one.
	finished := make([]bool, len(walked))
	var mu sync.Mutex
	sem := make(chan struct{}, keyJobWorkers)
	var wg sync.WaitGroup
	for i, v := range walked {
		if v.o == nil || !w.wants(v.o) {
			finished[i] = true
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			t.s.yieldToClients(ctx)
			if ctx.Err() != nil {
				return
			}
			outcome, err := w.do(ctx, v.o)
			if err != nil {
				if ctx.Err() != nil {
					return // not done: the cursor stops before it
				}
				// One version that cannot be done (its key disabled, its
				// data damaged) does not stop the job: it is counted and
				// logged, and stays as it was.
				t.s.log.Warn(t.name+": version left as it was", "bucket", v.o.Bucket, "key", v.o.Key, "version", v.o.VersionID, "err", err)
				outcome = "failed"
			}
			mu.Lock()
			finished[i] = true
			counts.Add("done", 1)
			counts.Add(outcome, 1)
			mu.Unlock()
		}()
	}
	wg.Wait()
	items := len(walked)
	// A stopped node records the step up to its first unfinished version.
	for i, ok := range finished {
		if !ok {
			done, items = false, i
			if i > 0 {
				end = walked[i-1].pos
			} else {
				end = cur
			}
			break
		}
	}
	cur = end
	// A stop while pacing still records the step: its effects are done.
	_ = pace(ctx, cur.Req.Rate, items, wall)
	if done {
		return jobs.Step{Done: true, Items: items}, nil
	}
	return t.next(cur, items)
}

func (t *keyJobTask) next(cur keyJobCursor, items int) (jobs.Step, error) {
	raw, err := json.Marshal(cur)
	return jobs.Step{Next: raw, Items: items}, err
}

// pace sleeps so that a step of items versions takes at least
// items/rate seconds of wall time since start: the job's throttle, leaving
// the node to its clients.
func pace(ctx context.Context, rate float64, items int, start time.Time) error {
	if rate <= 0 || items == 0 {
		return nil
	}
	wait := time.Duration(float64(items)/rate*float64(time.Second)) - time.Since(start)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// scopeBuckets lists the buckets a request covers, in name order.
func (s *Service) scopeBuckets(ctx context.Context, req KeyJobRequest) ([]string, error) {
	if req.Bucket != "" {
		if _, err := s.meta.GetBucket(ctx, req.Bucket); err != nil {
			return nil, mapMeta(err)
		}
		return []string{req.Bucket}, nil
	}
	all, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(all))
	for i, b := range all {
		names[i] = b.Name
	}
	sort.Strings(names)
	return names, nil
}

// countVersions counts the versions in the request's scope that w wants.
func (s *Service) countVersions(ctx context.Context, req KeyJobRequest, w versionWork) (int64, error) {
	buckets, err := s.scopeBuckets(ctx, req)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, b := range buckets {
		err := s.meta.ListObjectVersions(ctx, b, req.Prefix, "", "", func(o *meta.Object, _ bool) error {
			if !o.DeleteMarker && w.wants(o) {
				n++
			}
			return nil
		})
		if err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
			return 0, err
		}
	}
	return n, nil
}

// keyJobWorkers bounds the versions a key job handles at once.
const keyJobWorkers = 16

// walked is a version a walk passed (o nil: a delete marker) and the
// cursor just after it.
type walked struct {
	o   *meta.Object
	pos keyJobCursor
}

// walkVersions lists up to batch versions after cur's position and the
// cursor after them; done reports the end of the scope.
func (s *Service) walkVersions(ctx context.Context, cur keyJobCursor, batch int) (out []walked, end keyJobCursor, done bool, err error) {
	buckets, err := s.scopeBuckets(ctx, cur.Req)
	if err != nil {
		return nil, cur, false, err
	}
	i := sort.SearchStrings(buckets, cur.Bucket)
	for ; i < len(buckets); i++ {
		if buckets[i] != cur.Bucket {
			cur.Bucket, cur.Key, cur.Version = buckets[i], "", ""
		}
		stopped := false // the store may or may not pass ErrStop on
		err := s.meta.ListObjectVersions(ctx, cur.Bucket, cur.Req.Prefix, cur.Key, cur.Version, func(o *meta.Object, _ bool) error {
			if len(out) == batch {
				stopped = true
				return meta.ErrStop
			}
			cur.Key, cur.Version = o.Key, versionRef(o)
			if o.DeleteMarker {
				o = nil
			} else {
				o.Bucket = cur.Bucket
			}
			out = append(out, walked{o: o, pos: cur})
			return nil
		})
		switch {
		case stopped || errors.Is(err, meta.ErrStop):
			return out, cur, false, nil
		case errors.Is(err, meta.ErrNoSuchBucket):
			// deleted meanwhile: nothing left to do in it
		case err != nil:
			return nil, cur, false, err
		}
	}
	return out, cur, true, nil
}

// Errors of StartKeyJob.
var (
	ErrKeyJobRunning = errors.New("a job of this kind is already running")
	// ErrEmptyPass: the engine is running a pass without a request (it
	// ends at once); try again.
	ErrEmptyPass = errors.New("the job's engine is between passes; try again")
)

// InitKeyJobs schedules the key jobs' first pass far away, so that the
// engine does not run one without a request.
func InitKeyJobs(ctx context.Context, store meta.Jobs, names ...string) error {
	for _, name := range names {
		if _, err := store.UpdateJob(ctx, name, func(j *meta.Job) error {
			if j.NextRun.IsZero() && j.PassStarted.IsZero() {
				j.NextRun = time.Now().Add(KeyJobOnce)
			}
			return nil
		}); err != nil {
			return fmt.Errorf("key job %s: %w", name, err)
		}
	}
	return nil
}

// StartKeyJob stores a request for key job name (RewrapJob, ...), which
// the engine then runs once (the caller runs its pass: Engine.RunPass).
// It refuses while a pass of the job is unfinished.
func StartKeyJob(ctx context.Context, store meta.Jobs, name string, req KeyJobRequest) error {
	raw, err := json.Marshal(keyJobCursor{Req: req})
	if err != nil {
		return err
	}
	_, err = store.UpdateJob(ctx, name, func(j *meta.Job) error {
		switch {
		case !j.PassStarted.IsZero() && j.Cursor != nil:
			return fmt.Errorf("%w: %s since %s", ErrKeyJobRunning, name, j.PassStarted.UTC().Format(time.RFC3339))
		case !j.PassStarted.IsZero():
			// Its end would drop the request stored now.
			return ErrEmptyPass
		}
		j.PassStarted, j.Cursor, j.Pass = req.Requested, raw, nil
		j.Failures, j.LastError = 0, ""
		return nil
	})
	return err
}

// KeyJobStatus is a key job's progress as the CLI shows it.
type KeyJobStatus struct {
	Job     string
	Running bool
	Request *KeyJobRequest `json:",omitempty"` // of the running pass
	Total   int64          // versions to do, once counted
	Done    int64          // versions handled so far
	Counts  map[string]int64
	// Passes counts completed passes; LastPass is when the last ended.
	Passes    int64
	LastPass  time.Time `json:",omitempty"`
	LastError string    `json:",omitempty"`
}

// KeyJobState reads a key job's status from its stored state.
func KeyJobState(ctx context.Context, store meta.Jobs, name string) (*KeyJobStatus, error) {
	j, err := store.GetJob(ctx, name)
	if errors.Is(err, meta.ErrNoSuchJob) {
		return &KeyJobStatus{Job: name}, nil
	}
	if err != nil {
		return nil, err
	}
	st := &KeyJobStatus{Job: name, Running: !j.PassStarted.IsZero() && j.Cursor != nil, Total: j.Pass["total"], Done: j.Pass["done"],
		Counts: j.Pass, Passes: j.Passes, LastPass: j.LastPass, LastError: j.LastError}
	if st.Running {
		var cur keyJobCursor
		if json.Unmarshal(j.Cursor, &cur) == nil {
			st.Request = &cur.Req
		}
	}
	return st, nil
}

// registerKeyJob is how the service's key jobs are made (keyjob tasks of
// the same Service share nothing but the store).
func (s *Service) keyJob(name string, build func(ctx context.Context, req KeyJobRequest) (versionWork, error)) jobs.Task {
	return &keyJobTask{s: s, name: name, batch: KeyJobBatch, build: build}
}

func sortUsage(u []KeyUsage) {
	sort.Slice(u, func(i, j int) bool {
		a, b := u[i], u[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		return a.Version < b.Version
	})
}

// client counts an object read or write in progress until the returned
// function is called.
func (s *Service) client() (done func()) {
	s.clients.Add(1)
	return func() { s.clients.Add(-1) }
}

// MaxYield is the longest a key job's worker waits for clients' requests
// to end before it goes on with a version anyway (so a busy node still
// sees the job progress).
const MaxYield = 200 * time.Millisecond

// yieldToClients waits, up to MaxYield, while object reads or writes of
// clients are in progress: key jobs use the gaps between them.
func (s *Service) yieldToClients(ctx context.Context) {
	deadline := time.Now().Add(MaxYield)
	for s.clients.Load() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
	}
}
