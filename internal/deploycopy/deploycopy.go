// Package deploycopy copies one deployment's state into another through
// the store interfaces: buckets and their configurations, users (secrets
// still sealed under the root key), remotes, key policies, every object
// version and delete marker, multipart uploads in progress, and the
// builtin keyring. Blobs are copied byte for byte (ciphertext stays
// ciphertext: nothing is decrypted, and no key is needed); each gets a new
// ID in the target tier, recorded in the copied version.
//
// A copy is resumable: a marker in the target (meta.SharedBlobs) names the
// source and where the copy stands, and every version already in the
// target with the same version ID and ETag is skipped.
//
// Not copied: background job state (the target's jobs start afresh),
// the replication backlog (its versions stay PENDING; Stats counts it),
// records of completed uploads (kept for idempotent retries of Complete).
package deploycopy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// MarkerName is the target's shared blob recording a copy's source and
// progress; KeyringName the builtin keyring's (as the nodes share it).
const (
	MarkerName  = "migration"
	KeyringName = kms.SharedKeyringBlob
)

// Source is the deployment copied from. Meta may implement meta.Remotes
// and meta.KeyPolicies (copied when both ends do).
type Source struct {
	Meta  meta.Store
	Blobs blob.Store
	// Keyring is the builtin keyring's sealed bytes (nil: none).
	Keyring []byte
	// ID names the source deployment in the target's marker: a resume
	// must come from the same one.
	ID string
}

// Target is the deployment copied into. Its Meta must implement
// meta.SharedBlobs (the marker and the keyring live there).
type Target struct {
	Meta  meta.Store
	Blobs blob.Store
}

// Options tune a copy.
type Options struct {
	// Progress, when set, is called after each key and each bucket.
	Progress func(Stats)
	// Checkpoint is how many keys pass between progress records in the
	// marker (default 200).
	Checkpoint int
	// NoMarker copies into a target known to be new and thrown away on
	// failure (a backup's scratch store): no marker, no resume, and the
	// target need not keep shared blobs.
	NoMarker bool
	// CopyBlob, when set, copies each blob instead of the target's blob
	// store, returning the ID the copy records (a backup streams them
	// into its archive under their own IDs).
	CopyBlob func(ctx context.Context, id string, r blob.Reader) (newID string, err error)
}

// Stats counts what a copy did.
type Stats struct {
	Resumed       bool   `json:"resumed"`
	Bucket        string `json:"bucket,omitempty"` // the bucket being copied
	Buckets       int64  `json:"buckets"`
	Users         int64  `json:"users"`
	Remotes       int64  `json:"remotes"`
	KeyPolicies   int64  `json:"keyPolicies"`
	Keyring       bool   `json:"keyring"`
	Versions      int64  `json:"versions"`      // object versions copied (delete markers included)
	DeleteMarkers int64  `json:"deleteMarkers"` // of which delete markers
	Skipped       int64  `json:"skipped"`       // versions already in the target
	Vanished      int64  `json:"vanished"`      // versions deleted from a live source while copied
	Uploads       int64  `json:"uploads"`
	Parts         int64  `json:"parts"`
	Blobs         int64  `json:"blobs"`
	BlobBytes     int64  `json:"blobBytes"`
	// ReplicationBacklog counts the source's queued replications, which
	// are not carried over.
	ReplicationBacklog int64 `json:"replicationBacklog"`
}

// Errors of Copy's refusal to write.
var (
	ErrTargetNotEmpty = errors.New("deploycopy: the target is not empty and holds no copy of this source to resume")
	ErrAlreadyCopied  = errors.New("deploycopy: the target already holds a completed copy of this source")
)

// marker is the target's MarkerName record.
type marker struct {
	Source   string    `json:"source"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	// Done lists the buckets copied whole; Bucket and Key where the copy
	// of the current bucket's objects stands (every version of the keys
	// up to Key is in the target).
	Done   []string `json:"done,omitempty"`
	Bucket string   `json:"bucket,omitempty"`
	Key    string   `json:"key,omitempty"`
}

type copier struct {
	src    Source
	dst    Target
	shared meta.SharedBlobs
	o      Options
	st     Stats
	mk     marker
	keys   int // keys since the last checkpoint
}

// Copy copies src into dst (see the package comment). It refuses a target
// that holds anything but an unfinished copy of the same source.
func Copy(ctx context.Context, src Source, dst Target, o Options) (*Stats, error) {
	shared, ok := dst.Meta.(meta.SharedBlobs)
	if !ok && !o.NoMarker {
		return nil, errors.New("deploycopy: the target metadata store keeps no shared blobs (a PostgreSQL store does)")
	}
	if src.ID == "" {
		return nil, errors.New("deploycopy: the source has no ID")
	}
	if o.Checkpoint <= 0 {
		o.Checkpoint = 200
	}
	c := &copier{src: src, dst: dst, shared: shared, o: o}
	if err := c.begin(ctx); err != nil {
		return nil, err
	}
	steps := []func(context.Context) error{c.users, c.remotes, c.keyPolicies, c.keyring, c.buckets, c.backlog}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return &c.st, err
		}
	}
	c.mk.Finished = time.Now().UTC()
	c.mk.Bucket, c.mk.Key = "", ""
	if err := c.save(ctx); err != nil {
		return &c.st, err
	}
	return &c.st, nil
}

// begin reads the marker, or checks the target is empty and writes one.
func (c *copier) begin(ctx context.Context) error {
	if c.o.NoMarker {
		return nil
	}
	b, err := c.shared.GetBlob(ctx, MarkerName)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &c.mk); err != nil {
			return fmt.Errorf("deploycopy: the target's copy marker: %w", err)
		}
		if c.mk.Source != c.src.ID {
			return fmt.Errorf("%w: it holds a copy of deployment %s", ErrTargetNotEmpty, c.mk.Source)
		}
		if !c.mk.Finished.IsZero() {
			return fmt.Errorf("%w (finished %s): nodes may have written to it since", ErrAlreadyCopied, c.mk.Finished.Format(time.RFC3339))
		}
		c.st.Resumed = true
		return nil
	case !errors.Is(err, meta.ErrNoSuchBlob):
		return fmt.Errorf("deploycopy: reading the target's copy marker: %w", err)
	}
	bs, err := c.dst.Meta.ListBuckets(ctx)
	if err != nil {
		return err
	}
	us, err := c.dst.Meta.ListUsers(ctx)
	if err != nil {
		return err
	}
	_, kerr := c.shared.GetBlob(ctx, KeyringName)
	if len(bs) > 0 || len(us) > 0 || kerr == nil {
		return fmt.Errorf("%w (%d buckets, %d users)", ErrTargetNotEmpty, len(bs), len(us))
	}
	c.mk = marker{Source: c.src.ID, Started: time.Now().UTC()}
	return c.save(ctx)
}

func (c *copier) save(ctx context.Context) error {
	if c.o.NoMarker {
		return nil
	}
	b, err := json.Marshal(c.mk)
	if err != nil {
		return err
	}
	return c.shared.UpdateBlob(ctx, MarkerName, func(old []byte) ([]byte, error) {
		var m marker
		if old != nil && json.Unmarshal(old, &m) == nil && m.Source != c.mk.Source {
			return nil, fmt.Errorf("%w: another copy (of %s) took it over", ErrTargetNotEmpty, m.Source)
		}
		return b, nil
	})
}

func (c *copier) users(ctx context.Context) error {
	us, err := c.src.Meta.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range us {
		if err := c.dst.Meta.PutUser(ctx, u); err != nil {
			return fmt.Errorf("deploycopy: user %s: %w", u.Name, err)
		}
		c.st.Users++
	}
	return nil
}

func (c *copier) remotes(ctx context.Context) error {
	from, ok1 := c.src.Meta.(meta.Remotes)
	to, ok2 := c.dst.Meta.(meta.Remotes)
	if !ok1 || !ok2 {
		return nil
	}
	rs, err := from.ListRemotes(ctx)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if err := to.PutRemote(ctx, r); err != nil {
			return fmt.Errorf("deploycopy: remote %s: %w", r.Name, err)
		}
		c.st.Remotes++
	}
	return nil
}

func (c *copier) keyPolicies(ctx context.Context) error {
	from, ok1 := c.src.Meta.(meta.KeyPolicies)
	to, ok2 := c.dst.Meta.(meta.KeyPolicies)
	if !ok1 || !ok2 {
		return nil
	}
	ps, err := from.ListKeyPolicies(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := to.UpdateKeyPolicy(ctx, p.Key, func(q *meta.KeyPolicy) error { *q = *p; return nil }); err != nil {
			return fmt.Errorf("deploycopy: key policy %s: %w", p.Key, err)
		}
		c.st.KeyPolicies++
	}
	return nil
}

// keyring stores the source's sealed keyring as the target's shared one;
// a different keyring already there is not overwritten.
func (c *copier) keyring(ctx context.Context) error {
	if c.src.Keyring == nil {
		return nil
	}
	if c.shared == nil {
		return errors.New("deploycopy: the target keeps no shared blobs for the keyring")
	}
	err := c.shared.UpdateBlob(ctx, KeyringName, func(old []byte) ([]byte, error) {
		if old != nil && !bytes.Equal(old, c.src.Keyring) {
			return nil, errors.New("deploycopy: the target holds another keyring")
		}
		return c.src.Keyring, nil
	})
	c.st.Keyring = err == nil
	return err
}

func (c *copier) backlog(ctx context.Context) error {
	var after uint64
	for {
		es, err := c.src.Meta.NextReplications(ctx, after, 1000)
		if err != nil || len(es) == 0 {
			return err
		}
		c.st.ReplicationBacklog += int64(len(es))
		after = es[len(es)-1].Seq
	}
}

func (c *copier) progress() {
	if c.o.Progress != nil {
		c.o.Progress(c.st)
	}
}

func (c *copier) buckets(ctx context.Context) error {
	bs, err := c.src.Meta.ListBuckets(ctx)
	if err != nil {
		return err
	}
	slices.SortFunc(bs, func(a, b *meta.Bucket) int { return strings.Compare(a.Name, b.Name) })
	for _, b := range bs {
		c.st.Buckets++
		if slices.Contains(c.mk.Done, b.Name) {
			continue
		}
		c.st.Bucket = b.Name
		if err := c.bucket(ctx, b); err != nil {
			return fmt.Errorf("deploycopy: bucket %s: %w", b.Name, err)
		}
		c.mk.Done = append(c.mk.Done, b.Name)
		c.mk.Bucket, c.mk.Key = "", ""
		if err := c.save(ctx); err != nil {
			return err
		}
		c.progress()
	}
	c.st.Bucket = ""
	return nil
}

// bucket copies one bucket: while its versions are copied it is Enabled
// in the target (so versions keep their IDs) when it was ever versioned;
// its own versioning state is set last.
func (c *copier) bucket(ctx context.Context, b *meta.Bucket) error {
	during := b.Versioning
	if during != "" {
		during = meta.VersioningEnabled
	}
	nb := *b
	nb.Versioning = during
	if err := c.dst.Meta.CreateBucket(ctx, &nb); err != nil && !errors.Is(err, meta.ErrBucketExists) {
		return err
	}
	set := func(state string) error {
		return c.dst.Meta.UpdateBucket(ctx, b.Name, func(t *meta.Bucket) error {
			t.Owner, t.Created, t.Region, t.Config, t.Versioning = b.Owner, b.Created, b.Region, b.Config, state
			return nil
		})
	}
	if err := set(during); err != nil {
		return err
	}
	after := ""
	if c.mk.Bucket == b.Name {
		after = c.mk.Key
	}
	if err := c.objects(ctx, b.Name, after); err != nil {
		return err
	}
	if err := c.uploads(ctx, b.Name); err != nil {
		return err
	}
	return set(b.Versioning)
}

// objects copies the versions of the keys after `after`, one key at a
// time, oldest version first (a null version takes the newest place when
// installed, as it did when it was written).
func (c *copier) objects(ctx context.Context, bucket, after string) error {
	var key string
	var versions []*meta.Object
	flush := func() error {
		if len(versions) == 0 {
			return nil
		}
		for _, v := range slices.Backward(versions) {
			if err := c.version(ctx, v); err != nil {
				return fmt.Errorf("%q version %q: %w", v.Key, v.VersionID, err)
			}
		}
		versions = versions[:0]
		c.progress()
		c.keys++
		if c.keys >= c.o.Checkpoint {
			c.keys = 0
			c.mk.Bucket, c.mk.Key = bucket, key
			return c.save(ctx)
		}
		return nil
	}
	err := c.src.Meta.ListObjectVersions(ctx, bucket, "", after, "", func(o *meta.Object, _ bool) error {
		if o.Key != key {
			if err := flush(); err != nil {
				return err
			}
			key = o.Key
		}
		versions = append(versions, o)
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// version copies one version unless the target has it.
func (c *copier) version(ctx context.Context, v *meta.Object) error {
	vid := v.VersionID
	if vid == "" {
		vid = meta.NullVersion
	}
	have, err := c.dst.Meta.GetObjectVersion(ctx, v.Bucket, v.Key, vid)
	switch {
	case err == nil && have.ETag == v.ETag && have.DeleteMarker == v.DeleteMarker && (v.VersionID != "" || have.LastModified.Equal(v.LastModified) || v.DeleteMarker):
		c.st.Skipped++
		return nil
	case err != nil && !errors.Is(err, meta.ErrNoSuchVersion) && !errors.Is(err, meta.ErrNoSuchKey):
		return err
	}
	if v.DeleteMarker && v.VersionID == "" {
		return c.nullMarker(ctx, v)
	}
	if inlineUnloaded(v) {
		// A listing leaves inline bytes out: read the whole record.
		full, err := c.src.Meta.GetObjectVersion(ctx, v.Bucket, v.Key, vid)
		if err != nil && c.gone(ctx, v) {
			c.st.Vanished++
			return nil
		}
		if err != nil {
			return err
		}
		v = full
	}
	o := *v
	o.Parts = slices.Clone(v.Parts)
	var made []string
	undo := func() {
		if c.dst.Blobs == nil {
			return
		}
		for _, id := range made {
			c.dst.Blobs.Delete(context.WithoutCancel(ctx), id)
		}
	}
	for i := range o.Parts {
		p := &o.Parts[i]
		if p.BlobID == "" {
			continue
		}
		id, n, err := c.blob(ctx, p.BlobID)
		if errors.Is(err, blob.ErrNotFound) && c.gone(ctx, v) {
			undo()
			c.st.Vanished++
			return nil
		}
		if err != nil {
			undo()
			return err
		}
		made = append(made, id)
		p.BlobID = id
		c.st.Blobs++
		c.st.BlobBytes += n
	}
	replaced, _, err := c.dst.Meta.PutReplica(ctx, &o)
	if err != nil {
		undo()
		return err
	}
	c.dropBlobs(ctx, partsOf(replaced))
	c.st.Versions++
	if v.DeleteMarker {
		c.st.DeleteMarkers++
	}
	return nil
}

// nullMarker recreates a null delete marker (PutReplica takes none): a
// delete while the bucket is Suspended. It is dated now, not as the
// source's was.
func (c *copier) nullMarker(ctx context.Context, v *meta.Object) error {
	state := func(s string) error {
		return c.dst.Meta.UpdateBucket(ctx, v.Bucket, func(b *meta.Bucket) error { b.Versioning = s; return nil })
	}
	if err := state(meta.VersioningSuspended); err != nil {
		return err
	}
	d, err := c.dst.Meta.DeleteObjectVersion(ctx, v.Bucket, v.Key, "", nil)
	if err := state(meta.VersioningEnabled); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	if d.Removed != nil {
		c.dropBlobs(ctx, d.Removed.Parts)
	}
	c.st.Versions++
	c.st.DeleteMarkers++
	return nil
}

// gone reports whether a live source deleted v since it was listed.
func (c *copier) gone(ctx context.Context, v *meta.Object) bool {
	vid := v.VersionID
	if vid == "" {
		vid = meta.NullVersion
	}
	now, err := c.src.Meta.GetObjectVersion(ctx, v.Bucket, v.Key, vid)
	return errors.Is(err, meta.ErrNoSuchVersion) || errors.Is(err, meta.ErrNoSuchKey) || err == nil && now.ETag != v.ETag
}

func inlineUnloaded(o *meta.Object) bool {
	for _, p := range o.Parts {
		if p.BlobID == "" && len(p.Inline) == 0 && p.StoredSize > 0 {
			return true
		}
	}
	return false
}

func partsOf(o *meta.Object) []meta.Part {
	if o == nil {
		return nil
	}
	return o.Parts
}

// dropBlobs deletes target blobs a replaced record no longer names (this
// copy's own, from an earlier run).
func (c *copier) dropBlobs(ctx context.Context, parts []meta.Part) {
	if c.dst.Blobs == nil {
		return
	}
	for _, p := range parts {
		if p.BlobID != "" {
			c.dst.Blobs.Delete(ctx, p.BlobID)
		}
	}
}

// blob copies one blob as is, returning its ID in the target.
func (c *copier) blob(ctx context.Context, id string) (string, int64, error) {
	r, err := c.src.Blobs.Open(ctx, id)
	if err != nil {
		return "", 0, fmt.Errorf("blob %s: %w", id, err)
	}
	defer r.Close()
	if c.o.CopyBlob != nil {
		nid, err := c.o.CopyBlob(ctx, id, r)
		return nid, r.Size(), err
	}
	w, err := c.dst.Blobs.Create(ctx)
	if err != nil {
		return "", 0, err
	}
	n, err := io.Copy(w, io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		w.Abort()
		return "", 0, fmt.Errorf("blob %s: %w", id, err)
	}
	nid, err := w.Commit(ctx)
	if err != nil {
		return "", 0, fmt.Errorf("blob %s: %w", id, err)
	}
	return nid, n, nil
}

// uploads copies the bucket's uploads in progress and the parts they hold.
func (c *copier) uploads(ctx context.Context, bucket string) error {
	us, err := c.src.Meta.ListUploads(ctx, bucket, "")
	if err != nil {
		return err
	}
	for _, u := range us {
		if err := c.upload(ctx, u); err != nil {
			return fmt.Errorf("upload %s: %w", u.ID, err)
		}
	}
	return nil
}

func (c *copier) upload(ctx context.Context, u *meta.Upload) error {
	parts, err := c.src.Meta.ListParts(ctx, u.Bucket, u.ID)
	if errors.Is(err, meta.ErrNoSuchUpload) {
		return nil // completed or aborted meanwhile (a live source)
	}
	if err != nil {
		return err
	}
	have := map[int]meta.Part{}
	if _, err := c.dst.Meta.GetUpload(ctx, u.Bucket, u.ID); errors.Is(err, meta.ErrNoSuchUpload) {
		if err := c.dst.Meta.CreateUpload(ctx, u); err != nil {
			return err
		}
	} else if err != nil {
		return err
	} else {
		ps, err := c.dst.Meta.ListParts(ctx, u.Bucket, u.ID)
		if err != nil {
			return err
		}
		for _, p := range ps {
			have[p.Number] = p
		}
	}
	c.st.Uploads++
	for _, p := range parts {
		if h, ok := have[p.Number]; ok && h.ETag == p.ETag {
			continue
		}
		if p.BlobID != "" {
			id, n, err := c.blob(ctx, p.BlobID)
			if errors.Is(err, blob.ErrNotFound) {
				continue // replaced meanwhile (a live source)
			}
			if err != nil {
				return err
			}
			p.BlobID = id
			c.st.Blobs++
			c.st.BlobBytes += n
		}
		replaced, err := c.dst.Meta.PutPart(ctx, u.Bucket, u.ID, &p)
		if err != nil {
			if p.BlobID != "" && c.dst.Blobs != nil {
				c.dst.Blobs.Delete(context.WithoutCancel(ctx), p.BlobID)
			}
			return err
		}
		if replaced != nil {
			c.dropBlobs(ctx, []meta.Part{*replaced})
		}
		c.st.Parts++
	}
	return nil
}
