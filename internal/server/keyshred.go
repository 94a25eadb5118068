package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

// KeyDeletionJob destroys keys whose deletion date has come.
const KeyDeletionJob = "key-deletion"

// shredSample is how many versions a shred report names.
const shredSample = 100

// keyDeletionSpec registers the job that crypto-shreds keys at their
// deletion date: it destroys their material in the provider
// (kms.Destroyer) and records a shred report in their policy.
func keyDeletionSpec(k kms.KeyAdmin, m meta.Store, l audit.Logger, log *slog.Logger) jobs.Spec {
	return jobs.Spec{Name: KeyDeletionJob, Every: time.Hour, Task: &keyDeletion{keys: k, meta: m, audit: l, log: log}}
}

type keyDeletion struct {
	keys  kms.KeyAdmin
	meta  meta.Store
	audit audit.Logger
	log   *slog.Logger
}

// Step implements jobs.Task: one step looks at every key policy (there
// are few) and destroys the keys that are due. It is idempotent: a key
// the provider no longer has is recorded destroyed.
func (t *keyDeletion) Step(ctx context.Context, now time.Time, _ []byte, counts jobs.Counts) (jobs.Step, error) {
	kp, ok := t.meta.(meta.KeyPolicies)
	if !ok {
		return jobs.Step{Done: true}, nil
	}
	pols, err := kp.ListKeyPolicies(ctx)
	if err != nil {
		return jobs.Step{}, err
	}
	var errs []error
	for _, p := range pols {
		if p.DeletionDate.IsZero() || !p.Destroyed.IsZero() || now.Before(p.DeletionDate) {
			continue
		}
		err := t.destroy(ctx, kp, p.Key, now)
		AuditAdmin(ctx, t.audit, audit.TypeKey, "destroy", p.Key, "", "key-deletion job", err)
		if err != nil {
			t.log.Warn("key deletion failed", "key", p.Key, "err", err)
			counts.Add("failed", 1)
			errs = append(errs, err)
			continue
		}
		counts.Add("destroyed", 1)
	}
	return jobs.Step{Done: true, Items: len(pols)}, errors.Join(errs...)
}

// destroy crypto-shreds key id: unless a version under object lock
// depends on it (a legal hold may have come since it was scheduled), the
// versions under it are counted, its material destroyed in the provider,
// and the report stored.
func (t *keyDeletion) destroy(ctx context.Context, kp meta.KeyPolicies, id string, now time.Time) error {
	d, ok := t.keys.(kms.Destroyer)
	if !ok {
		return errors.New("this key provider cannot destroy keys")
	}
	info, err := t.keys.DescribeKey(ctx, id)
	gone := errors.Is(err, kms.ErrNotFound) // destroyed before a crash
	if err != nil && !gone {
		return err
	}
	if gone {
		info = kms.KeyInfo{ID: id}
	}
	if !gone {
		if err := refuseLockedKeyOp(ctx, t.keys, t.meta, id, "destroy", now); err != nil {
			return err
		}
	}
	counts, sample, err := keyVersions(ctx, t.meta, info, shredSample)
	if err != nil {
		return err
	}
	if !gone {
		if err := d.DestroyKey(ctx, id); err != nil && !errors.Is(err, kms.ErrNotFound) {
			return fmt.Errorf("destroying %s: %w", id, err)
		}
	}
	_, err = kp.UpdateKeyPolicy(ctx, id, func(p *meta.KeyPolicy) error {
		p.Destroyed = now.UTC()
		p.Shred = &meta.ShredReport{Destroyed: now.UTC(), Versions: counts, Sample: sample}
		return nil
	})
	if err == nil {
		t.log.Info("key destroyed (crypto-shredded)", "key", id, "versions", counts)
	}
	return err
}
