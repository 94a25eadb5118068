package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"strongroom/internal/errs"
	"strongroom/internal/jobs"
	"strongroom/internal/lifecycle"
	"strongroom/internal/meta"
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
// nil. It reads the bucket, so handlers call it only for responses that
// carry the header.
func (s *Service) ObjectExpiration(ctx context.Context, o *meta.Object) *Expiration {
	b, err := s.meta.GetBucket(ctx, o.Bucket)
	if err != nil {
		return nil
	}
	c, err := decodeLifecycle(b.Config[lifecycle.ConfigName])
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
	return lifecycle.Object{Key: o.Key, Size: o.Size, LastModified: o.LastModified}
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
	// Deletions run side by side so the metadata group commit shares one
	// fsync among many of them: one at a time, a pass is bound by fsyncs.
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		done  int64
	)
	work := make(chan *meta.Object)
	for range min(expireWorkers, len(expired)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				err := s.expireObject(ctx, o)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				} else if err == nil {
					done++
				}
				mu.Unlock()
			}
		}()
	}
	for _, o := range expired {
		work <- o
	}
	close(work)
	wg.Wait()
	counts.Add("expired", done)
	return n, last, first
}

// expireWorkers is how many expirations a step runs at once.
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
