package service

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Replication is asynchronous and durable: a write that a rule of its
// bucket's replication configuration matches is written PENDING and queued
// in the metadata transaction that installs it (meta.ReplicationQueue); the
// replication job drains the queue through a ReplicaTarget, and an entry
// leaves the queue only in the transaction that records COMPLETED or FAILED
// on its version. A crash between the transfer and that transaction
// transfers the version again, which the target's PutReplica makes
// harmless (the replica keeps the source's version ID).

// markReplication marks o, a version about to be written into b, PENDING
// under the rule that replicates it, if one does. As in S3, SSE-KMS objects
// are replicated only by a rule that selects them, replicas are never
// replicated again, only versions written while the configuration exists
// are queued (it is read with b, just before the write), and only in a
// bucket whose versioning is Enabled (a replica keeps its version ID; a
// null version has none).
func (s *Service) markReplication(b *meta.Bucket, o *meta.Object) {
	if o.ReplicationStatus == replication.StatusReplica {
		return
	}
	o.ReplicationStatus, o.ReplicationRule = "", ""
	if b.Versioning != meta.VersioningEnabled {
		return
	}
	c := s.replicationConfig(b)
	if c == nil {
		return
	}
	r := c.Match(o.Key, objectTags(o))
	if r == nil {
		return
	}
	if o.Encryption != nil && sse.Mode(o.Encryption.Mode) == sse.KMS && !r.SSEKMSEncrypted {
		return
	}
	o.ReplicationStatus, o.ReplicationRule = replication.StatusPending, r.ID
}

// deleteMarkerRule is the rule that replicates a delete marker of key in b,
// or "" (delete markers carry no tags: rules with a tag filter never match
// them, as in S3).
func (s *Service) deleteMarkerRule(b *meta.Bucket, key string) string {
	c := s.replicationConfig(b)
	if c == nil || b.Versioning != meta.VersioningEnabled {
		return ""
	}
	if r := c.Match(key, nil); r != nil && r.DeleteMarkers {
		return r.ID
	}
	return ""
}

// replicationConfig is b's replication configuration, or nil.
func (s *Service) replicationConfig(b *meta.Bucket) *replication.Config {
	raw := b.Config[replication.ConfigName]
	if raw == nil {
		return nil
	}
	c, err := replication.Decode(raw)
	if err != nil {
		s.log.Warn("replication: unreadable configuration", "bucket", b.Name, "err", err)
		return nil
	}
	return c
}

func objectTags(o *meta.Object) map[string]string {
	if len(o.Tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(o.Tags))
	for _, t := range o.Tags {
		m[t.Key] = t.Value
	}
	return m
}

// queued wakes the replication job after a write queued o.
func (s *Service) queued(o *meta.Object) {
	if o.ReplicationStatus != replication.StatusPending {
		return
	}
	select {
	case s.replWake <- struct{}{}:
	default: // a wake-up is already due
	}
}

// ReplicationJob is the replication job's name.
const ReplicationJob = "replication"

// ReplicationOptions tune the replication job.
type ReplicationOptions struct {
	// Workers bounds the transfers in flight (default 8).
	Workers int
	// Batch is how many queue entries a step looks at (default 64).
	Batch int
	// MinRetry and MaxRetry bound the backoff of an entry whose transfer
	// failed and is retried: MinRetry, doubling, at most MaxRetry
	// (defaults 1 s and 5 min).
	MinRetry, MaxRetry time.Duration
	// Target opens a rule's destination (default Service.ReplicaTarget);
	// tests wrap it.
	Target func(context.Context, replication.Destination) (ReplicaTarget, error)
}

// ReplicationTask is the job that drains the replication queue.
type ReplicationTask struct {
	s *Service
	o ReplicationOptions

	mu sync.Mutex
	// due is the earliest retry that passes since the last whole one left
	// waiting (zero: none); scanned the last entry they looked at;
	// lastFull when that whole pass began (zero: none yet).
	due      time.Time
	scanned  uint64
	lastFull time.Time
}

// ReplicationTask returns the replication job's task.
func (s *Service) ReplicationTask(o ReplicationOptions) *ReplicationTask {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.MinRetry <= 0 {
		o.MinRetry = time.Second
	}
	if o.MaxRetry <= 0 {
		o.MaxRetry = 5 * time.Minute
	}
	if o.Target == nil {
		o.Target = s.ReplicaTarget
	}
	return &ReplicationTask{s: s, o: o}
}

// Drive runs a pass through run (the engine's RunPass) at once (what an
// earlier run left queued), whenever a write queues a version, and when a
// retry falls due, until ctx ends. Without it the queue is drained only on
// the job's schedule.
func (t *ReplicationTask) Drive(ctx context.Context, run func(context.Context) error) {
	timer := time.NewTimer(0)
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-t.s.replWake:
		case <-timer.C:
		}
		if err := run(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, jobs.ErrLeased) {
			t.s.log.Warn("replication pass failed", "err", err)
		}
		timer.Stop()
		t.mu.Lock()
		due := t.due
		t.mu.Unlock()
		if !due.IsZero() {
			// Not sooner than a second: retries falling due one after
			// another share a pass.
			timer.Reset(max(time.Until(due), time.Second))
		}
	}
}

// Step implements jobs.Task: it replicates the next Batch of due entries
// (looking at no more than ScanLimit entries), o.Workers at a time.
func (t *ReplicationTask) Step(ctx context.Context, now time.Time, cursor []byte, counts jobs.Counts) (jobs.Step, error) {
	after := t.start(now, cursor)
	var (
		due     []*meta.ReplicationEntry
		scanned int
		end     bool
	)
	for len(due) < t.o.Batch && scanned < replicationScanLimit && !end {
		es, err := t.s.meta.NextReplications(ctx, after, t.o.Batch)
		if err != nil {
			return jobs.Step{}, err
		}
		end = len(es) < t.o.Batch
		for _, e := range es {
			scanned++
			after = e.Seq
			if e.NextTry.After(now) {
				t.waitFor(e.NextTry)
				continue
			}
			if due = append(due, e); len(due) == t.o.Batch {
				end = false // the rest of es is the next step's
				break
			}
		}
	}
	counts.Add("scanned", int64(scanned))
	var (
		mu      sync.Mutex
		firstEr error
		rules   = map[ruleKey]*ruleTally{}
	)
	sem := make(chan struct{}, t.o.Workers)
	var wg sync.WaitGroup
	for _, e := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out, err := t.replicate(ctx, now, e)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstEr = cmpErr(firstEr, err)
				return
			}
			k := ruleKey{e.Bucket, e.Rule}
			if rules[k] == nil {
				rules[k] = &ruleTally{counts: jobs.Counts{}}
			}
			out.tally(counts, rules[k])
		}()
	}
	wg.Wait()
	// The per-rule figures are for status only: stored after the step's
	// outcomes, and a crash in between loses them, not an entry.
	if err := t.recordRules(context.WithoutCancel(ctx), now, rules); err != nil && firstEr == nil {
		firstEr = err
	}
	if firstEr != nil {
		return jobs.Step{}, firstEr
	}
	t.mu.Lock()
	t.scanned = max(t.scanned, after)
	t.mu.Unlock()
	return jobs.Step{Next: binary.BigEndian.AppendUint64(nil, after), Done: end, Items: scanned}, nil
}

// replicationScanLimit bounds the entries one step looks at, when most are
// waiting for their retry (a destination down).
const replicationScanLimit = 4096

// fullScanEvery is how often a pass looks at the whole queue although no
// retry it knows of is due.
const fullScanEvery = time.Minute

// start is where a pass's step begins: the cursor, or for a new pass the
// queue's start, or only the entries queued since the last pass looked
// (none of the older ones left waiting is due yet, and the queue's order
// is the order of the transactions that queued them). A restart begins
// with a whole pass.
func (t *ReplicationTask) start(now time.Time, cursor []byte) uint64 {
	if cursor != nil {
		return binary.BigEndian.Uint64(cursor)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	retryDue := !t.due.IsZero() && !now.Before(t.due)
	if t.lastFull.IsZero() || retryDue || now.Sub(t.lastFull) >= fullScanEvery {
		t.due, t.lastFull = time.Time{}, now
		return 0
	}
	return t.scanned
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func (t *ReplicationTask) waitFor(at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.due.IsZero() || at.Before(t.due) {
		t.due = at
	}
}

// outcome is what became of one entry.
type outcome struct {
	status string // COMPLETED, FAILED, or "" when retried later
	bytes  int64
	err    error // the transfer's error (FAILED or retried)
	// dropped: the version is gone (or no longer pending); the entry was
	// removed with nothing to do.
	dropped bool
}

func (o outcome) tally(c jobs.Counts, r *ruleTally) {
	name := "retried"
	switch {
	case o.dropped:
		name = "dropped"
	case o.status == replication.StatusCompleted:
		name = "completed"
	case o.status == replication.StatusFailed:
		name = "failed"
	}
	for _, cs := range []jobs.Counts{c, r.counts} {
		cs.Add(name, 1)
		if o.bytes > 0 {
			cs.Add("bytes", o.bytes)
		}
	}
	if o.err != nil {
		r.lastErr = o.err.Error()
	}
}

// replicate transfers one entry's version and records the outcome. Its
// error is a store error (the step fails and is retried); a transfer's
// error is in the outcome.
func (t *ReplicationTask) replicate(ctx context.Context, now time.Time, e *meta.ReplicationEntry) (outcome, error) {
	s := t.s
	vid := e.VersionID
	if vid == "" {
		vid = meta.NullVersion
	}
	src, err := s.meta.GetObjectVersion(ctx, e.Bucket, e.Key, vid)
	switch {
	case errors.Is(err, meta.ErrNoSuchVersion), errors.Is(err, meta.ErrNoSuchKey), errors.Is(err, meta.ErrNoSuchBucket):
		return outcome{dropped: true}, s.meta.FinishReplication(ctx, e, replication.StatusFailed)
	case err != nil:
		return outcome{}, err
	case src.ReplicationStatus != replication.StatusPending:
		return outcome{dropped: true}, s.meta.FinishReplication(ctx, e, src.ReplicationStatus)
	}
	n, xerr := t.transfer(ctx, e, src)
	switch {
	case xerr == nil:
		return outcome{status: replication.StatusCompleted, bytes: n}, s.meta.FinishReplication(ctx, e, replication.StatusCompleted)
	case errors.Is(xerr, replication.ErrPermanent):
		s.log.Warn("replication failed", "bucket", e.Bucket, "key", e.Key, "version", e.VersionID, "rule", e.Rule, "err", xerr)
		return outcome{status: replication.StatusFailed, err: xerr}, s.meta.FinishReplication(ctx, e, replication.StatusFailed)
	case ctx.Err() != nil:
		return outcome{}, ctx.Err() // stopping: not the entry's failure
	}
	e.Attempts++
	e.NextTry = now.Add(t.backoff(e.Attempts))
	e.LastError = xerr.Error()
	t.waitFor(e.NextTry)
	return outcome{err: xerr}, s.meta.RetryReplication(ctx, e)
}

// transfer sends src to its rule's destination.
func (t *ReplicationTask) transfer(ctx context.Context, e *meta.ReplicationEntry, src *meta.Object) (int64, error) {
	b, err := t.s.meta.GetBucket(ctx, e.Bucket)
	if err != nil {
		return 0, err
	}
	var rule *replication.Rule
	if c := t.s.replicationConfig(b); c != nil {
		rule = c.Rule(e.Rule)
	}
	if rule == nil || !rule.Enabled {
		return 0, fmt.Errorf("%w: rule %q of bucket %q is gone or disabled", replication.ErrPermanent, e.Rule, e.Bucket)
	}
	if src.VersionID == "" {
		return 0, fmt.Errorf("%w: a null version (bucket %q was not versioned when it was written)", replication.ErrPermanent, e.Bucket)
	}
	target, err := t.o.Target(ctx, rule.Destination)
	if err != nil {
		return 0, err
	}
	if src.DeleteMarker {
		return 0, target.PutDeleteMarker(ctx, src, rule)
	}
	return target.PutReplica(ctx, src, rule)
}

// backoff is the wait before attempt n+1 after n failed ones.
func (t *ReplicationTask) backoff(n int) time.Duration {
	d := t.o.MinRetry
	for i := 1; i < n && d < t.o.MaxRetry; i++ {
		d *= 2
	}
	return min(d, t.o.MaxRetry)
}

type ruleKey struct{ bucket, rule string }

type ruleTally struct {
	counts  jobs.Counts
	lastErr string
}

// ruleRecord is the name of the jobs record that keeps a rule's figures
// (meta.Job: Total counts, LastError and its time in LastPass). It is not
// a registered job: `jobs list` does not show it.
func ruleRecord(bucket, rule string) string { return ReplicationJob + "/" + bucket + "/" + rule }

func (t *ReplicationTask) recordRules(ctx context.Context, now time.Time, rules map[ruleKey]*ruleTally) error {
	for k, r := range rules {
		_, err := t.s.meta.UpdateJob(ctx, ruleRecord(k.bucket, k.rule), func(j *meta.Job) error {
			if j.Total == nil {
				j.Total = map[string]int64{}
			}
			for n, v := range r.counts {
				j.Total[n] += v
			}
			if r.lastErr != "" {
				j.LastError, j.LastPass = r.lastErr, now.UTC()
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// RuleStatus is the replication state of one rule of a bucket.
type RuleStatus struct {
	Bucket      string
	Rule        string
	Destination string `json:",omitempty"`
	Enabled     bool
	// Backlog is the number of versions queued; Oldest the enqueue time of
	// the oldest (zero: none) and Lag its age.
	Backlog int64
	Oldest  time.Time `json:",omitempty"`
	Lag     time.Duration
	// Retrying counts the queued versions whose last attempt failed.
	Retrying int64
	// Completed, Failed and Bytes count every pass so far.
	Completed, Failed, Bytes int64
	// LastError is the last transfer error (a FAILED one or a retried
	// one), at LastErrorAt.
	LastError   string    `json:",omitempty"`
	LastErrorAt time.Time `json:",omitempty"`
}

// ReplicationStatus reports the replication state of a bucket's rules
// (those configured, and any a queued entry still names) from the store
// alone, so it works on a stopped node's data directory too.
func ReplicationStatus(ctx context.Context, m meta.Store, bucket string, now time.Time) ([]*RuleStatus, error) {
	b, err := m.GetBucket(ctx, bucket)
	if err != nil {
		return nil, mapMeta(err)
	}
	byRule := map[string]*RuleStatus{}
	get := func(id string) *RuleStatus {
		if byRule[id] == nil {
			byRule[id] = &RuleStatus{Bucket: bucket, Rule: id}
		}
		return byRule[id]
	}
	if raw := b.Config[replication.ConfigName]; raw != nil {
		c, err := replication.Decode(raw)
		if err != nil {
			return nil, err
		}
		for _, r := range c.Rules {
			st := get(r.ID)
			st.Destination, st.Enabled = r.Destination.String(), r.Enabled
		}
	}
	var after uint64
	for {
		es, err := m.NextReplications(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if e.Bucket != bucket {
				continue
			}
			st := get(e.Rule)
			st.Backlog++
			if st.Oldest.IsZero() || e.Enqueued.Before(st.Oldest) {
				st.Oldest = e.Enqueued
			}
			if e.Attempts > 0 {
				st.Retrying++
			}
		}
		if len(es) < 1000 {
			break
		}
		after = es[len(es)-1].Seq
	}
	out := make([]*RuleStatus, 0, len(byRule))
	for id, st := range byRule {
		if !st.Oldest.IsZero() {
			st.Lag = now.Sub(st.Oldest)
		}
		j, err := m.GetJob(ctx, ruleRecord(bucket, id))
		switch {
		case errors.Is(err, meta.ErrNoSuchJob):
		case err != nil:
			return nil, err
		default:
			st.Completed, st.Failed, st.Bytes = j.Total["completed"], j.Total["failed"], j.Total["bytes"]
			st.LastError, st.LastErrorAt = j.LastError, j.LastPass
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rule < out[j].Rule })
	return out, nil
}

// maxBacklogCount bounds the queue entries Backlog counts: a scrape during
// a long outage reads at most this many.
const maxBacklogCount = 1 << 20

// Backlog implements jobs.Backlogger: the versions waiting in the queue
// (counted up to maxBacklogCount), for the job backlog gauge.
func (t *ReplicationTask) Backlog(ctx context.Context) (int64, error) {
	var n int64
	after := uint64(0)
	for n < maxBacklogCount {
		es, err := t.s.meta.NextReplications(ctx, after, 4096)
		if err != nil {
			return n, err
		}
		if len(es) == 0 {
			break
		}
		n += int64(len(es))
		after = es[len(es)-1].Seq
	}
	return n, nil
}

// ReplicationProgress is the time before which every version a rule of
// the bucket queued has been replicated (OSS GetBucketReplicationProgress
// NewObject): the oldest still queued, else now. The caller has been
// authorized to read the bucket's replication configuration.
func (s *Service) ReplicationProgress(ctx context.Context, bucket, rule string) (time.Time, error) {
	now := s.now().UTC()
	st, err := ReplicationStatus(ctx, s.meta, bucket, now)
	if err != nil {
		return time.Time{}, err
	}
	for _, r := range st {
		if r.Rule == rule && r.Backlog > 0 && !r.Oldest.IsZero() {
			return r.Oldest.UTC(), nil
		}
	}
	return now, nil
}
