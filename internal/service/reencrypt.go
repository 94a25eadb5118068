package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// ReencryptTask returns the task of `strongroom key reencrypt`: every
// SSE-S3 and SSE-KMS version in a bucket (and prefix) is rewritten under a
// fresh object key, wrapped as before (same mode, master key, context and
// bucket key setting), with the request's data algorithm or its own. Each
// part is decrypted and sealed anew into a new blob (or inline record);
// the version's record is then swapped in one metadata transaction only if
// it still holds the parts and key material the job read, so a concurrent
// overwrite or delete is never undone. Everything else a client sees stays:
// version ID, ETag, checksums, size, part layout, tags, user metadata,
// object lock. The old blobs go through the reclaimer, like an overwrite's.
// SSE-C versions (the server does not hold their keys) and plaintext ones
// are left alone.
func (s *Service) ReencryptTask() jobs.Task {
	return s.keyJob(ReencryptJob, func(_ context.Context, req KeyJobRequest) (versionWork, error) {
		if s.sealer == nil {
			return nil, errors.New("reencrypt: server-side encryption is not configured")
		}
		return &reencryptWork{s: s, alg: req.Algorithm, mark: req.Requested.UTC().Format(time.RFC3339Nano)}, nil
	})
}

// CheckReencrypt validates a re-encrypt request before it is stored.
func (s *Service) CheckReencrypt(ctx context.Context, req KeyJobRequest) error {
	if req.Bucket == "" {
		return errors.New("reencrypt: name the bucket")
	}
	switch req.Algorithm {
	case "", sse.AES256, sse.SM4:
	default:
		return fmt.Errorf("reencrypt: algorithm %q: want %s or %s", req.Algorithm, sse.AES256, sse.SM4)
	}
	_, err := s.meta.GetBucket(ctx, req.Bucket)
	return mapMeta(err)
}

type reencryptWork struct {
	s   *Service
	alg string // "" keeps each version's algorithm
	// mark tags the versions this request rewrote (Encryption.Extra), so
	// a step re-run after a crash does not rewrite them again.
	mark string
	// beforeSwap, if set, runs between the copy and its install (tests
	// race a client's write there).
	beforeSwap func(o *meta.Object)
}

func (w *reencryptWork) wants(o *meta.Object) bool {
	e := o.Encryption
	return e != nil && (sse.Mode(e.Mode) == sse.Managed || sse.Mode(e.Mode) == sse.KMS) && e.Extra[reencryptMark] != w.mark
}

// reencryptMark is the Encryption.Extra entry naming the re-encrypt
// request that wrote a version's data.
const reencryptMark = "reencrypted"

func (w *reencryptWork) do(ctx context.Context, listed *meta.Object) (string, error) {
	s := w.s
	// Read the version as a GET does: its blobs pinned against reclaim
	// until the new copy is written.
	hold := s.reclaim.begin()
	defer hold.release()
	o, err := s.meta.GetObjectVersion(ctx, listed.Bucket, listed.Key, versionRef(listed))
	switch {
	case errors.Is(err, meta.ErrNoSuchVersion), errors.Is(err, meta.ErrNoSuchKey), errors.Is(err, meta.ErrNoSuchBucket):
		return "gone", nil
	case err != nil:
		return "", err
	}
	hold.keep(o.Parts)
	o.Bucket = listed.Bucket
	if o.DeleteMarker || !w.wants(o) {
		return "gone", nil
	}
	old, err := s.openSealing(ctx, o.Encryption, o.Bucket, o.Key, nil)
	if err != nil {
		return "", err
	}
	defer clear(old.oek)
	e := o.Encryption
	spec := &sse.Spec{Mode: sse.Mode(e.Mode), Algorithm: e.Algorithm, KeyID: e.KeyID, ProjectID: e.ProjectID, Context: e.Context, BucketKey: e.BucketKey}
	if w.alg != "" {
		spec.Algorithm = w.alg
	}
	fresh, err := s.sealingFor(ctx, spec, o.Bucket, o.Key)
	if err != nil {
		return "", err
	}
	defer clear(fresh.oek)
	fresh.enc.KeyID = e.KeyID // as the client named it (the echo is unchanged)
	if fresh.enc.Extra == nil {
		fresh.enc.Extra = map[string]string{}
	}
	fresh.enc.Extra[reencryptMark] = w.mark
	parts := make([]meta.Part, 0, len(o.Parts))
	keep := false
	defer func() {
		if !keep {
			s.deleteBlobs(context.WithoutCancel(ctx), parts)
		}
	}()
	for _, p := range o.Parts {
		np, err := s.resealPart(ctx, o, p, old, fresh)
		if err != nil {
			return "", err
		}
		parts = append(parts, np)
	}
	if w.beforeSwap != nil {
		w.beforeSwap(o)
	}
	changed := false
	err = s.meta.UpdateObjectVersion(ctx, o.Bucket, o.Key, versionRef(o), func(cur *meta.Object) error {
		if !sse.SameMaterial(cur.Encryption, o.Encryption) || !sameBlobs(cur.Parts, o.Parts) || cur.ETag != o.ETag {
			changed = true
			return nil
		}
		cur.Encryption, cur.Parts = fresh.enc, parts
		return nil
	})
	switch {
	case errors.Is(err, meta.ErrNoSuchKey), errors.Is(err, meta.ErrNoSuchVersion), errors.Is(err, meta.ErrNoSuchBucket):
		return "gone", nil
	case err != nil:
		return "", err
	case changed:
		return "changed", nil
	}
	keep = true
	s.reclaim.retire(o.Parts)
	return "reencrypted", nil
}

// resealPart decrypts part p of o (sealed under old) and seals its
// plaintext under fresh into a new blob, keeping what a client sees of
// the part (number, size, ETag, checksums, time).
func (s *Service) resealPart(ctx context.Context, o *meta.Object, p meta.Part, old, fresh *sealing) (meta.Part, error) {
	one := *o
	one.Parts = []meta.Part{p}
	r := s.newObjectReader(ctx, &one, old, 0, p.Size)
	defer r.Close()
	w, err := s.writeBlob(ctx, Body{Reader: r, Size: p.Size}, fresh, p.Number)
	if err != nil {
		return meta.Part{}, fmt.Errorf("part %d: %w", p.Number, err)
	}
	np := p
	np.BlobID, np.Inline, np.StoredSize, np.Format = w.part.BlobID, w.part.Inline, w.part.StoredSize, w.part.Format
	return np, nil
}

// sameBlobs reports whether two part lists store the same bytes.
func sameBlobs(a, b []meta.Part) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Number != b[i].Number || a[i].BlobID != b[i].BlobID || string(a[i].Inline) != string(b[i].Inline) || a[i].StoredSize != b[i].StoredSize {
			return false
		}
	}
	return true
}
