package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// RewrapTask returns the task of `strongroom key rewrap`: it moves the
// wrapped key material (object keys, bucket keys) under an old version
// of a key, or under the key at all when the request names another key
// (To), to the newest version of the target key. Metadata only: object
// data stays where and as it is. provider names the node's key provider
// ("builtin", "pkcs11", "kmip"): material another provider wrapped under
// the key's name (before a switch) moves too.
func (s *Service) RewrapTask(provider string) jobs.Task {
	return s.keyJob(RewrapJob, func(ctx context.Context, req KeyJobRequest) (versionWork, error) {
		rw, err := s.rewrapperFor(ctx, req, provider)
		if err != nil {
			return nil, err
		}
		return &rewrapWork{s: s, rw: rw}, nil
	})
}

// rewrapperFor builds the Rewrapper of a rewrap request against the
// node's provider.
func (s *Service) rewrapperFor(ctx context.Context, req KeyJobRequest, provider string) (*sse.Rewrapper, error) {
	if s.sealer == nil {
		return nil, errors.New("rewrap: server-side encryption is not configured")
	}
	p := s.sealer.Provider()
	enc, ok := p.(kms.Encrypter)
	if !ok {
		return nil, sse.ErrCannotWrap
	}
	from, err := p.DescribeKey(ctx, req.Key)
	if err != nil {
		return nil, fmt.Errorf("rewrap: key %s: %w", req.Key, err)
	}
	rw := &sse.Rewrapper{From: p, To: enc}
	if req.To != "" {
		to, err := p.DescribeKey(ctx, req.To)
		if err != nil {
			return nil, fmt.Errorf("rewrap: key %s: %w", req.To, err)
		}
		rw.ToKey = to.ID
		rw.Match = func(r kms.WrapRef) bool {
			return r.Key == from.ID && !(r.Key == to.ID && r.Provider == provider && r.Version == uint32(to.Versions))
		}
	} else {
		newest := uint32(from.Versions)
		rw.Match = func(r kms.WrapRef) bool { return r.Key == from.ID && (r.Provider != provider || r.Version < newest) }
	}
	// New objects from now on get bucket keys under the newest version.
	s.sealer.ForgetWriteKeys()
	return rw, nil
}

type rewrapWork struct {
	s  *Service
	rw *sse.Rewrapper
}

func (w *rewrapWork) wants(o *meta.Object) bool { return w.rw.Needs(o.Encryption) }

func (w *rewrapWork) do(ctx context.Context, o *meta.Object) (string, error) {
	enc, err := w.rw.Rewrap(ctx, o.Encryption, o.Bucket, o.Key)
	if err != nil || enc == nil {
		return "skipped", err
	}
	return w.s.swapEncryption(ctx, o, enc)
}

// swapEncryption installs enc as version o's key material if the version
// still holds the material o was read with ("rewrapped"); a version
// changed or removed meanwhile is left alone ("changed", "gone").
func (s *Service) swapEncryption(ctx context.Context, o *meta.Object, enc *meta.Encryption) (string, error) {
	changed := false
	err := s.meta.UpdateObjectVersion(ctx, o.Bucket, o.Key, versionRef(o), func(cur *meta.Object) error {
		if !sse.SameMaterial(cur.Encryption, o.Encryption) {
			changed = true
			return nil
		}
		cur.Encryption = enc
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
	return "rewrapped", nil
}

// KeyUsage counts, per key and version, the stored object versions whose
// key material depends on it (`strongroom key list --usage`): a version
// with none left can be retired.
type KeyUsage struct {
	Provider string
	Key      string
	Version  uint32
	Objects  int64
}

// KeyUsage walks every version of every bucket.
func (s *Service) KeyUsage(ctx context.Context) ([]KeyUsage, error) {
	counts := map[kms.WrapRef]int64{}
	buckets, err := s.scopeBuckets(ctx, KeyJobRequest{})
	if err != nil {
		return nil, err
	}
	for _, b := range buckets {
		err := s.meta.ListObjectVersions(ctx, b, "", "", "", func(o *meta.Object, _ bool) error {
			if !o.DeleteMarker {
				for _, r := range sse.Refs(o.Encryption) {
					counts[r]++
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, meta.ErrNoSuchBucket) {
			return nil, err
		}
	}
	out := make([]KeyUsage, 0, len(counts))
	for r, n := range counts {
		out = append(out, KeyUsage{Provider: r.Provider, Key: r.Key, Version: r.Version, Objects: n})
	}
	sortUsage(out)
	return out, nil
}
