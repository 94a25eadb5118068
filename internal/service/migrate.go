package service

import (
	"context"
	"errors"

	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// MigrationTarget is the provider a key migration moves to: the keys
// there are named as in the provider the node runs on.
type MigrationTarget interface {
	kms.Encrypter
	Kind() string // "pkcs11", "kmip": kms.WrapRef.Provider of its ciphertexts
}

// MigrateTask returns the task of `strongroom key migrate`: every object
// key and bucket key wrapped by another provider than the target is
// unwrapped by the node's provider and wrapped again by the target under
// the same key name (the old master keys may not be exportable, as from an
// HSM). target returns the open target (nil: none is open).
func (s *Service) MigrateTask(target func() MigrationTarget) jobs.Task {
	return s.keyJob(MigrateJob, func(ctx context.Context, req KeyJobRequest) (versionWork, error) {
		if s.sealer == nil {
			return nil, errors.New("migrate: server-side encryption is not configured")
		}
		t := target()
		if t == nil || t.Kind() != req.Provider {
			return nil, errors.New("migrate: the target key provider is not open on this node")
		}
		kind := t.Kind()
		rw := &sse.Rewrapper{From: s.sealer.Provider(), To: t, Match: func(r kms.WrapRef) bool { return r.Provider != kind }}
		s.sealer.ForgetWriteKeys() // new bucket keys from the target
		return &rewrapWork{s: s, rw: rw}, nil
	})
}
