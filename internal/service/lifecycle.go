package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/lifecycle"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Lifecycle actions (S3 grants delete with put).
const (
	ActGetLifecycle = "s3:GetLifecycleConfiguration"
	ActPutLifecycle = "s3:PutLifecycleConfiguration"
)

// PutBucketLifecycle sets a bucket's lifecycle configuration, replacing
// any earlier one. Its rules apply to every object of the bucket from the
// next lifecycle pass on, existing objects included, as in S3.
func (s *Service) PutBucketLifecycle(ctx context.Context, p Principal, bucket string, c *lifecycle.Config) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding lifecycle: %w", err)
	}
	return s.setBucketConfig(ctx, p, ActPutLifecycle, bucket, lifecycle.ConfigName, raw)
}

// GetBucketLifecycle returns a bucket's lifecycle configuration.
func (s *Service) GetBucketLifecycle(ctx context.Context, p Principal, bucket string) (*lifecycle.Config, error) {
	raw, err := s.bucketConfig(ctx, p, ActGetLifecycle, bucket, lifecycle.ConfigName)
	if err != nil {
		return nil, err
	}
	c, err := decodeLifecycle(raw)
	if err == nil && c == nil {
		err = errs.NoSuchLifecycleConfiguration
	}
	return c, err
}

// DeleteBucketLifecycle removes a bucket's lifecycle configuration
// (removing none is not an error, as S3).
func (s *Service) DeleteBucketLifecycle(ctx context.Context, p Principal, bucket string) error {
	return s.setBucketConfig(ctx, p, ActPutLifecycle, bucket, lifecycle.ConfigName, nil)
}

func decodeLifecycle(raw []byte) (*lifecycle.Config, error) {
	if raw == nil {
		return nil, nil
	}
	c := new(lifecycle.Config)
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("decoding stored lifecycle: %w", err)
	}
	return c, nil
}

// Expiration is when an object's current version expires under its
// bucket's lifecycle (S3's x-amz-expiration), if a rule expires it.
type Expiration struct {
	Date   time.Time
	RuleID string
}

// ObjectExpiration returns o's expiration under its bucket's lifecycle, or
// nil, reading the bucket: for responses to writes. Reads get theirs with
// the object (ObjectBody.Expiration, HeadObject).
func (s *Service) ObjectExpiration(ctx context.Context, o *meta.Object) *Expiration {
	if b := rememberedBucket(ctx, o.Bucket); b != nil { // bucketmemo.go
		return objectExpiration(b, o)
	}
	b, err := s.meta.GetBucket(ctx, o.Bucket)
	if err != nil {
		return nil
	}
	return objectExpiration(b, o)
}

// objectExpiration is o's expiration under b's lifecycle, or nil.
func objectExpiration(b *meta.Bucket, o *meta.Object) *Expiration {
	raw := b.Config[lifecycle.ConfigName]
	if raw == nil {
		return nil
	}
	c, err := decodeLifecycle(raw)
	if err != nil || c == nil {
		return nil
	}
	at, rule, ok := c.Expiry(lifecycleObject(o))
	if !ok {
		return nil
	}
	return &Expiration{Date: at, RuleID: rule}
}

func lifecycleObject(o *meta.Object) lifecycle.Object {
	var tags map[string]string
	if len(o.Tags) > 0 {
		tags = make(map[string]string, len(o.Tags))
		for _, t := range o.Tags {
			tags[t.Key] = t.Value
		}
	}
	return lifecycle.Object{Key: o.Key, Size: o.Size, LastModified: o.LastModified, Tags: tags}
}

// LifecycleJob is the background job's name.
const LifecycleJob = "lifecycle"

// LifecycleBatch is how many objects one step of a lifecycle pass looks at.
const LifecycleBatch = 1000

// LifecycleTask returns the task that applies buckets' lifecycle rules,
// bucket by bucket in name order: expiring current versions, then
// aborting incomplete uploads.
func (s *Service) LifecycleTask() jobs.Task { return lifecycleTask{s, LifecycleBatch} }

type lifecycleTask struct {
	s     *Service
	batch int // objects per step
}

// lifecycleCursor is where a pass stands: in Bucket, after object key
// After, or in its uploads.
type lifecycleCursor struct {
	Bucket  string `json:"b"`
	After   string `json:"k,omitempty"`
	Uploads bool   `json:"u,omitempty"`
}

// errChanged aborts a conditional expiry: the version evaluated is no
// longer the current one.
var errChanged = errors.New("service: object changed since it was evaluated")

// errLocked skips an expiry that would remove a version object lock
// protects; the pass counts it as "locked".
var errLocked = errors.New("service: version protected by object lock")

func (t lifecycleTask) Step(ctx context.Context, now time.Time, raw []byte, counts jobs.Counts) (jobs.Step, error) {
	s := t.s
	var cur lifecycleCursor
	if raw != nil {
		if err := json.Unmarshal(raw, &cur); err != nil {
			return jobs.Step{}, fmt.Errorf("lifecycle cursor: %w", err)
		}
	}
	b, err := s.nextLifecycleBucket(ctx, cur.Bucket)
	if err != nil || b == nil {
		return jobs.Step{Done: b == nil}, err
	}
	if b.Name != cur.Bucket {
		cur = lifecycleCursor{Bucket: b.Name}
	}
	next := func(c lifecycleCursor, items int) (jobs.Step, error) {
		raw, err := json.Marshal(c)
		return jobs.Step{Next: raw, Items: items}, err
	}
	// The bucket after this one: a name that sorts right after it.
	nextBucket := lifecycleCursor{Bucket: b.Name + "\x00"}

	cfg, err := decodeLifecycle(b.Config[lifecycle.ConfigName])
	if err != nil {
		return jobs.Step{}, err
	}
	if cfg == nil {
		return next(nextBucket, 1)
	}
	if !cur.Uploads && b.Versioning != "" {
		n, last, done, err := s.expireVersions(ctx, b.Name, cur.After, t.batch, cfg, now, counts)
		if err != nil {
			return jobs.Step{}, err
		}
		if !done {
			return next(lifecycleCursor{Bucket: b.Name, After: last}, n)
		}
		return next(lifecycleCursor{Bucket: b.Name, Uploads: true}, n)
	}
	if !cur.Uploads {
		n, last, err := s.expireObjects(ctx, b.Name, cur.After, t.batch, cfg, now, counts)
		if err != nil {
			return jobs.Step{}, err
		}
		if n == t.batch {
			return next(lifecycleCursor{Bucket: b.Name, After: last}, n)
		}
		return next(lifecycleCursor{Bucket: b.Name, Uploads: true}, n)
	}
	n, err := s.abortExpiredUploads(ctx, b.Name, cfg, now, counts)
	if err != nil {
		return jobs.Step{}, err
	}
	return next(nextBucket, n)
}

// nextLifecycleBucket returns the first bucket whose name sorts at or after
// from, or nil when there is none.
func (s *Service) nextLifecycleBucket(ctx context.Context, from string) (*meta.Bucket, error) {
	all, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	i := sort.Search(len(all), func(i int) bool { return all[i].Name >= from })
	if i == len(all) {
		return nil, nil
	}
	return all[i], nil
}

// expireObjects looks at up to batch objects after `after` and deletes the
// expired ones. It returns how many it looked at and the last key.
func (s *Service) expireObjects(ctx context.Context, bucket, after string, batch int, cfg *lifecycle.Config, now time.Time, counts jobs.Counts) (int, string, error) {
	var expired []*meta.Object
	n, last := 0, after
	err := s.meta.ListObjects(ctx, bucket, "", after, func(o *meta.Object) error {
		n, last = n+1, o.Key
		if cfg.Expired(lifecycleObject(o), now) {
			expired = append(expired, o)
		}
		if n == batch {
			return meta.ErrStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, meta.ErrStop) {
		return 0, "", fmt.Errorf("listing %s: %w", bucket, err)
	}
	acts := make([]versionAction, len(expired))
	for i, o := range expired {
		acts[i] = versionAction{o, "expired"}
	}
	first := s.runExpirations(acts, func(a versionAction) error { return s.expireObject(ctx, a.o) }, counts)
	return n, last, first
}

// versionAction is what a pass does to one version of a versioned bucket.
type versionAction struct {
	o    *meta.Object
	kind string // the counter: "expired", "noncurrent-expired", "markers-removed"
}

// expireVersions is expireObjects for a bucket that has (or had)
// versioning: current versions expire into delete markers, noncurrent ones
// expire NoncurrentDays after the next version replaced them (keeping
// NewerNoncurrentVersions), and a delete marker left as a key's only
// version is removed when a rule asks. It stops at a key boundary once it
// has looked at batch versions; done reports the bucket's end.
func (s *Service) expireVersions(ctx context.Context, bucket, afterKey string, batch int, cfg *lifecycle.Config, now time.Time, counts jobs.Counts) (n int, last string, done bool, err error) {
	var (
		acts       []versionAction
		key        string
		versions   int          // of key, so far
		noncurrent int          // noncurrent data versions of key, so far
		newer      time.Time    // when the version before this one was made
		marker     *meta.Object // key's current delete marker
		stopped    bool         // at a key boundary, with more to come
	)
	endKey := func() {
		if marker != nil && versions == 1 && cfg.DeleteMarkerExpired(key) {
			acts = append(acts, versionAction{marker, "markers-removed"})
		}
	}
	err = s.meta.ListObjectVersions(ctx, bucket, "", afterKey, "", func(o *meta.Object, latest bool) error {
		if o.Key != key {
			if key != "" {
				endKey()
				last = key
				if n >= batch {
					stopped = true
					return meta.ErrStop
				}
			}
			key, versions, noncurrent, marker = o.Key, 0, 0, nil
		}
		n++
		versions++
		lo := lifecycleObject(o)
		switch {
		case latest && o.DeleteMarker:
			marker = o
		case latest:
			if cfg.Expired(lo, now) {
				acts = append(acts, versionAction{o, "expired"})
			}
		case !o.DeleteMarker:
			if cfg.NoncurrentExpired(lo, newer, noncurrent, now) {
				acts = append(acts, versionAction{o, "noncurrent-expired"})
			}
			noncurrent++
		}
		newer = o.LastModified
		return nil
	})
	if errors.Is(err, meta.ErrStop) { // stores may return it or end cleanly
		err = nil
	}
	switch {
	case err != nil:
		return 0, "", false, fmt.Errorf("listing versions of %s: %w", bucket, err)
	case !stopped:
		if key != "" {
			endKey()
			last = key
		}
		done = true
	}
	first := s.runExpirations(acts, func(a versionAction) error {
		if a.kind == "expired" {
			return s.expireObject(ctx, a.o)
		}
		return s.removeVersion(ctx, a.o)
	}, counts)
	return n, last, done, first
}

// removeVersion deletes one version for good, if it is still the one
// evaluated.
func (s *Service) removeVersion(ctx context.Context, o *meta.Object) error {
	vid := o.VersionID
	if vid == "" {
		vid = meta.NullVersion
	}
	same := func(cur *meta.Object) error {
		if cur == nil || cur.ETag != o.ETag || !cur.LastModified.Equal(o.LastModified) || cur.DeleteMarker != o.DeleteMarker {
			return errChanged
		}
		if why := lockRefusal(cur.Lock, s.now(), false); why != "" {
			return errLocked
		}
		return nil
	}
	same, err := s.lifecycleWorm(ctx, o.Bucket, true, same)
	if err != nil {
		return err
	}
	d, err := s.meta.DeleteObjectVersion(ctx, o.Bucket, o.Key, vid, same)
	if errors.Is(err, errChanged) || errors.Is(err, meta.ErrNoSuchBucket) {
		return nil
	}
	if errors.Is(err, errLocked) {
		s.log.Debug("lifecycle: kept locked version", "bucket", o.Bucket, "key", o.Key, "version", vid)
		return err
	}
	if err != nil {
		return fmt.Errorf("expiring %s/%s version %s: %w", o.Bucket, o.Key, vid, err)
	}
	s.dropReplaced(ctx, d.Removed)
	s.log.Debug("lifecycle: removed version", "bucket", o.Bucket, "key", o.Key, "version", vid)
	return nil
}

// runExpirations runs act on every action, expireWorkers at a time (so the
// metadata group commit shares fsyncs among them), counting successes by
// kind; it returns the first error.
func (s *Service) runExpirations(acts []versionAction, act func(versionAction) error, counts jobs.Counts) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	work := make(chan versionAction)
	for range min(expireWorkers, len(acts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				err := act(a)
				mu.Lock()
				switch {
				case errors.Is(err, errLocked):
					counts.Add("locked", 1)
				case err != nil && first == nil:
					first = err
				case err == nil:
					counts.Add(a.kind, 1)
				}
				mu.Unlock()
			}
		}()
	}
	for _, a := range acts {
		work <- a
	}
	close(work)
	wg.Wait()
	return first
}

// expireWorkers is how many expirations a step runs at once: one at a time
// a pass is bound by fsyncs (~130 objects/s here), 128 share them (~3,000).
const expireWorkers = 128

// expireObject deletes o if it is still the current version of its key:
// an overwrite since the evaluation wins.
func (s *Service) expireObject(ctx context.Context, o *meta.Object) error {
	same := func(cur *meta.Object) error {
		if cur == nil || cur.ETag != o.ETag || !cur.LastModified.Equal(o.LastModified) {
			return errChanged
		}
		return nil
	}
	same, err := s.lifecycleWorm(ctx, o.Bucket, false, same)
	if err != nil {
		return err
	}
	deleted, err := s.meta.DeleteObject(ctx, o.Bucket, o.Key, same)
	if errors.Is(err, errChanged) || errors.Is(err, meta.ErrNoSuchBucket) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("expiring %s/%s: %w", o.Bucket, o.Key, err)
	}
	s.dropReplaced(ctx, deleted)
	s.log.Debug("lifecycle: expired", "bucket", o.Bucket, "key", o.Key)
	return nil
}

// abortExpiredUploads aborts a bucket's incomplete uploads that a rule
// expires, returning how many uploads it looked at.
func (s *Service) abortExpiredUploads(ctx context.Context, bucket string, cfg *lifecycle.Config, now time.Time, counts jobs.Counts) (int, error) {
	if !cfg.HasUploadRules() {
		return 0, nil
	}
	ups, err := s.meta.ListUploads(ctx, bucket, "")
	if err != nil {
		if errors.Is(err, meta.ErrNoSuchBucket) {
			return 0, nil
		}
		return 0, fmt.Errorf("listing uploads of %s: %w", bucket, err)
	}
	for _, u := range ups {
		if !cfg.UploadExpired(u.Key, u.Initiated, now) {
			continue
		}
		parts, err := s.meta.AbortUpload(ctx, bucket, u.ID)
		if errors.Is(err, meta.ErrNoSuchUpload) {
			continue // completed or aborted meanwhile
		}
		if err != nil {
			return 0, fmt.Errorf("aborting upload %s of %s: %w", u.ID, bucket, err)
		}
		s.deleteBlobs(ctx, parts)
		counts.Add("aborted", 1)
		s.log.Debug("lifecycle: aborted upload", "bucket", bucket, "key", u.Key, "upload", u.ID)
	}
	return len(ups), nil
}
