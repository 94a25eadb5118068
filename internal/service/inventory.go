package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/inventory"
	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Inventory actions (S3 lists with Get and deletes with Put).
const (
	ActGetInventory = "s3:GetInventoryConfiguration"
	ActPutInventory = "s3:PutInventoryConfiguration"
)

// PutBucketInventory adds or replaces one inventory configuration of a
// bucket. Its destination bucket must exist and p must be allowed to
// write into it (reports are delivered there with the source bucket
// owner's rights); an SSE-KMS report key must be usable.
func (s *Service) PutBucketInventory(ctx context.Context, p Principal, bucket string, c *inventory.Config) error {
	if _, err := s.bucketFor(ctx, p, ActPutInventory, bucket, ""); err != nil {
		return err
	}
	dst, err := s.meta.GetBucket(ctx, c.Destination.Bucket)
	if errors.Is(err, meta.ErrNoSuchBucket) {
		return inventory.ErrNoDestinationBucket
	}
	if err != nil {
		return mapMeta(err)
	}
	// Authorized on the reports' own keys, so a policy granting a prefix
	// of the destination is enough.
	base := (&inventory.Report{Source: bucket, Config: c}).Base() + "/"
	if err := s.authorize(ctx, p, access{action: ActPutObject, bucket: dst, key: base}); err != nil {
		return err
	}
	if e := c.Destination.Encryption; e != nil {
		if s.sealer == nil {
			return errs.NotImplemented.WithMessage("Server-side encryption is not configured on this server.")
		}
		if e.KMS {
			if err := s.sealer.CheckKey(ctx, reportSpec(e)); err != nil {
				return err
			}
		}
	}
	return s.updateInventory(ctx, bucket, func(e *inventory.Entry) error { return e.Put(*c) })
}

// GetBucketInventory returns one inventory configuration.
func (s *Service) GetBucketInventory(ctx context.Context, p Principal, bucket, id string) (*inventory.Config, error) {
	e, err := s.inventoryEntry(ctx, p, bucket)
	if err != nil {
		return nil, err
	}
	c := e.Get(id)
	if c == nil {
		return nil, inventory.ErrNoSuchConfiguration
	}
	return c, nil
}

// ListBucketInventory returns every inventory configuration of a bucket.
func (s *Service) ListBucketInventory(ctx context.Context, p Principal, bucket string) (*inventory.Entry, error) {
	return s.inventoryEntry(ctx, p, bucket)
}

// DeleteBucketInventory removes one inventory configuration.
func (s *Service) DeleteBucketInventory(ctx context.Context, p Principal, bucket, id string) error {
	if _, err := s.bucketFor(ctx, p, ActPutInventory, bucket, ""); err != nil {
		return err
	}
	return s.updateInventory(ctx, bucket, func(e *inventory.Entry) error { return e.Delete(id) })
}

func (s *Service) inventoryEntry(ctx context.Context, p Principal, bucket string) (*inventory.Entry, error) {
	b, err := s.bucketFor(ctx, p, ActGetInventory, bucket, "")
	if err != nil {
		return nil, err
	}
	return decodeInventory(b.Config[inventory.ConfigName])
}

// updateInventory applies fn to a bucket's inventories in one metadata
// transaction.
func (s *Service) updateInventory(ctx context.Context, bucket string, fn func(*inventory.Entry) error) error {
	return mapMeta(s.meta.UpdateBucket(ctx, bucket, func(b *meta.Bucket) error {
		e, err := decodeInventory(b.Config[inventory.ConfigName])
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
		if len(e.Configs) == 0 {
			delete(b.Config, inventory.ConfigName)
			return nil
		}
		raw, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encoding inventory: %w", err)
		}
		if b.Config == nil {
			b.Config = make(map[string][]byte)
		}
		b.Config[inventory.ConfigName] = raw
		return nil
	}))
}

func decodeInventory(raw []byte) (*inventory.Entry, error) {
	e := new(inventory.Entry)
	if raw == nil {
		return e, nil
	}
	if err := json.Unmarshal(raw, e); err != nil {
		return nil, fmt.Errorf("decoding stored inventory: %w", err)
	}
	return e, nil
}

// reportSpec is how a report is encrypted under the inventory's own
// encryption (nil: the destination bucket's default, else plaintext,
// which PutObject resolves as for any write).
func reportSpec(e *inventory.Encryption) *sse.Spec {
	switch {
	case e == nil:
		return nil
	case e.KMS:
		return &sse.Spec{Mode: sse.KMS, KeyID: e.KeyID}
	}
	return &sse.Spec{Mode: sse.Managed}
}

// InventoryJob is the background job's name.
const InventoryJob = "inventory"

// InventoryRows is how many rows a data file holds at most (a file ends at
// a key boundary, so with every version listed it may hold one key's
// versions more).
const InventoryRows = 100_000

// InventoryTask returns the task that delivers the inventory reports that
// are due, bucket by bucket in name order, one data file per step.
func (s *Service) InventoryTask() jobs.Task { return inventoryTask{s, InventoryRows} }

type inventoryTask struct {
	s    *Service
	rows int // rows per data file
}

// inventoryCursor is where a pass stands: in Bucket, past the
// configurations up to Done (by ID), with Report in progress.
type inventoryCursor struct {
	Bucket string       `json:"b"`
	Done   string       `json:"d,omitempty"`
	Report *reportState `json:"r,omitempty"`
}

// reportState is a delivery in progress: enough to resume it after a
// restart without listing again what its files already hold.
type reportState struct {
	ID    string           `json:"i"`
	Start time.Time        `json:"s"`
	Name  string           `json:"n"` // random; names the data files
	After string           `json:"k,omitempty"`
	Files []inventory.File `json:"f,omitempty"`
}

func (t inventoryTask) Step(ctx context.Context, now time.Time, raw []byte, counts jobs.Counts) (jobs.Step, error) {
	s := t.s
	var cur inventoryCursor
	if raw != nil {
		if err := json.Unmarshal(raw, &cur); err != nil {
			return jobs.Step{}, fmt.Errorf("inventory cursor: %w", err)
		}
	}
	b, err := s.nextLifecycleBucket(ctx, cur.Bucket)
	if err != nil || b == nil {
		return jobs.Step{Done: b == nil}, err
	}
	if b.Name != cur.Bucket {
		cur = inventoryCursor{Bucket: b.Name}
	}
	next := func(c inventoryCursor, items int) (jobs.Step, error) {
		raw, err := json.Marshal(c)
		return jobs.Step{Next: raw, Items: items}, err
	}
	e, err := decodeInventory(b.Config[inventory.ConfigName])
	if err != nil {
		return jobs.Step{}, err
	}
	if cur.Report == nil {
		for _, c := range e.Configs {
			if c.ID > cur.Done && c.Due(e.Delivered[c.ID], now) {
				return next(inventoryCursor{Bucket: b.Name, Done: cur.Done, Report: newReport(c.ID, now)}, 0)
			}
		}
		return next(inventoryCursor{Bucket: b.Name + "\x00"}, 0)
	}
	rep := cur.Report
	done := inventoryCursor{Bucket: b.Name, Done: rep.ID}
	c := e.Get(rep.ID)
	if c == nil || !c.Enabled {
		return next(done, 0) // deleted or disabled meanwhile
	}
	n, finished, err := s.inventoryStep(ctx, b, c, rep, t.rows)
	if err != nil {
		// One inventory's failure (its destination gone, access revoked)
		// does not hold up the others: it is tried again next pass.
		counts.Add("failed", 1)
		s.log.Warn("inventory: delivery failed", "bucket", b.Name, "id", rep.ID, "err", err)
		return next(done, n)
	}
	counts.Add("rows", int64(n))
	if finished {
		counts.Add("reports", 1)
		return next(done, n)
	}
	return next(cur, n)
}

func newReport(id string, now time.Time) *reportState {
	return &reportState{ID: id, Start: now.UTC(), Name: rand.Text()}
}

// inventoryStep writes the report's next data file, or, when the listing
// is complete, its manifest, and records the delivery. It returns the rows
// written and whether the report is complete.
func (s *Service) inventoryStep(ctx context.Context, b *meta.Bucket, c *inventory.Config, rep *reportState, rows int) (int, bool, error) {
	r := &inventory.Report{Source: b.Name, Config: c, Start: rep.Start}
	f, after, more, err := s.inventoryFile(ctx, b, c, r, fileName(rep.Name, len(rep.Files)), rep.After, rows)
	if err != nil {
		return 0, false, err
	}
	n := 0
	if f != nil {
		rep.Files = append(rep.Files, f.File)
		n = f.rows
	}
	rep.After = after
	if more {
		return n, false, nil
	}
	return n, true, s.finishReport(ctx, b, r, rep.Files)
}

// fileName is a data file's name: a UUID derived from the report's random
// name and the file's index, so a step re-run after a crash rewrites the
// same key instead of leaving a stray file.
func fileName(report string, i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", report, i))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

type dataFile struct {
	inventory.File
	rows int
}

// inventoryFile lists b after key `after` into one gzipped CSV data file
// of at most about `rows` rows, streamed into the destination: neither the
// listing nor the file is held in memory. No file is written when no
// object is left. more reports that the listing goes on after `last`.
func (s *Service) inventoryFile(ctx context.Context, b *meta.Bucket, c *inventory.Config, r *inventory.Report, name, after string, rows int) (f *dataFile, last string, more bool, err error) {
	key := r.DataKey(name)
	var (
		pw  *io.PipeWriter
		dw  inventory.RowWriter
		put chan error
		row []string
		// shredded remembers which KMS keys were destroyed.
		shredded = map[string]bool{}
	)
	// The PUT starts with the first row, so an exhausted listing writes
	// no empty file.
	start := func() {
		var pr *io.PipeReader
		pr, pw = io.Pipe()
		dw = c.NewWriter(pw)
		put = make(chan error, 1)
		go func() {
			err := s.putReportFile(ctx, b, c, key, contentType(c), pr)
			pr.CloseWithError(err)
			put <- err
		}()
	}
	emit := func(o *meta.Object, latest bool) error {
		if dw == nil {
			start()
		}
		row = c.Row(b.Name, o, latest, row)
		if s.keyShredded(ctx, o.Encryption, shredded) {
			c.MarkShredded(row)
		}
		return dw.Write(row)
	}
	last, more, err = s.listInventory(ctx, b.Name, c, after, rows, emit)
	if dw == nil {
		return nil, last, more, err
	}
	var file inventory.File
	if err == nil {
		file, err = dw.Close(key)
	}
	pw.CloseWithError(err)
	if perr := <-put; err == nil {
		err = perr
	}
	if err != nil {
		return nil, "", false, err
	}
	return &dataFile{file, dw.Rows()}, last, more, nil
}

func contentType(c *inventory.Config) string {
	if c.Destination.Format == inventory.Parquet {
		return "application/vnd.apache.parquet"
	}
	return "application/gzip"
}

// listInventory calls emit for the objects (or versions) c selects after
// key `after`, stopping at a key boundary once `rows` were emitted. It
// returns the last key looked at and whether the listing goes on.
func (s *Service) listInventory(ctx context.Context, bucket string, c *inventory.Config, after string, rows int, emit func(*meta.Object, bool) error) (last string, more bool, err error) {
	n := 0
	last = after
	if !c.AllVersions {
		err = s.meta.ListObjects(ctx, bucket, c.Filter.Prefix, after, func(o *meta.Object) error {
			if n >= rows {
				more = true
				return meta.ErrStop
			}
			last = o.Key
			if o.DeleteMarker || !c.Filter.Matches(o) {
				return nil
			}
			n++
			return emit(o, true)
		})
	} else {
		err = s.meta.ListObjectVersions(ctx, bucket, c.Filter.Prefix, after, "", func(o *meta.Object, latest bool) error {
			if o.Key != last && n >= rows {
				more = true
				return meta.ErrStop
			}
			last = o.Key
			if !c.Filter.Matches(o) {
				return nil
			}
			n++
			return emit(o, latest)
		})
	}
	if errors.Is(err, meta.ErrStop) {
		err = nil
	}
	if err != nil {
		return "", false, fmt.Errorf("listing %s: %w", bucket, err)
	}
	return last, more, nil
}

// putReportFile writes one report file into the destination bucket
// through the normal write path, as the source bucket's owner: encrypted
// with the inventory's own encryption, else by the destination bucket's
// default, else not.
func (s *Service) putReportFile(ctx context.Context, src *meta.Bucket, c *inventory.Config, key, contentType string, body io.Reader) error {
	size := int64(-1)
	if r, ok := body.(*bytes.Reader); ok {
		size = r.Size()
	}
	_, err := s.PutObject(ctx, Principal{User: src.Owner}, PutObjectInput{
		Bucket: c.Destination.Bucket, Key: key,
		Meta: ObjectMeta{Headers: meta.Headers{ContentType: contentType}},
		Body: Body{Reader: body, Size: size},
		SSE:  reportSpec(c.Destination.Encryption),
	})
	if err != nil {
		return fmt.Errorf("writing %s/%s: %w", c.Destination.Bucket, key, err)
	}
	return nil
}

// finishReport writes manifest.json, manifest.checksum and the Hive
// symlink file, then records the delivery.
func (s *Service) finishReport(ctx context.Context, b *meta.Bucket, r *inventory.Report, files []inventory.File) error {
	manifest, sum, err := r.Manifest(files)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		key, ctype string
		data       []byte
	}{
		{r.SymlinkKey(), "text/plain", r.Symlink(files)},
		{r.ManifestKey(), "application/json", manifest},
		// The checksum last: its presence says the manifest is complete.
		{r.ChecksumKey(), "text/plain", sum},
	} {
		if err := s.putReportFile(ctx, b, r.Config, f.key, f.ctype, bytes.NewReader(f.data)); err != nil {
			return err
		}
	}
	id, start := r.Config.ID, r.Start
	return s.updateInventory(ctx, b.Name, func(e *inventory.Entry) error {
		if e.Get(id) == nil {
			return nil
		}
		if e.Delivered == nil {
			e.Delivered = make(map[string]time.Time)
		}
		e.Delivered[id] = start
		return nil
	})
}

// RunInventory delivers one report of a bucket's inventory now, whatever
// its schedule and even if disabled, and returns the manifest's key. It
// runs outside the job engine (the operator's `strongroom inventory run`).
func (s *Service) RunInventory(ctx context.Context, bucket, id string) (string, error) {
	b, err := s.meta.GetBucket(ctx, bucket)
	if err != nil {
		return "", mapMeta(err)
	}
	e, err := decodeInventory(b.Config[inventory.ConfigName])
	if err != nil {
		return "", err
	}
	c := e.Get(id)
	if c == nil {
		return "", inventory.ErrNoSuchConfiguration
	}
	rep := newReport(id, s.now())
	for {
		_, finished, err := s.inventoryStep(ctx, b, c, rep, InventoryRows)
		if err != nil {
			return "", err
		}
		if finished {
			r := inventory.Report{Source: b.Name, Config: c, Start: rep.Start}
			return r.ManifestKey(), nil
		}
	}
}
