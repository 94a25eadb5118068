package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
)

// TestReplicaKeyState: a version under a key pending deletion (or whose
// replica key is) fails its replication for good (FAILED) with the
// client paths' KMS.KMSInvalidStateException, whatever the provider
// answers for the disabled key; usable keys pass.
func TestReplicaKeyState(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.meta.UpdateKeyPolicy(ctx, "doomed", func(p *meta.KeyPolicy) error {
		p.DeletionDate = time.Now().Add(7 * 24 * time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rule := &replication.Rule{SSEKMSEncrypted: true, ReplicaKMSKeyID: "fine"}
	for _, c := range []struct {
		name string
		enc  *meta.Encryption
		rule *replication.Rule
		bad  bool
	}{
		{"source key pending deletion", &meta.Encryption{Mode: "kms", KeyID: "alias/doomed"}, rule, true},
		{"replica key pending deletion", &meta.Encryption{Mode: "kms", KeyID: "fine"}, &replication.Rule{SSEKMSEncrypted: true, ReplicaKMSKeyID: "doomed"}, true},
		{"usable keys", &meta.Encryption{Mode: "kms", KeyID: "fine"}, rule, false},
		{"SSE-S3", &meta.Encryption{Mode: "managed"}, rule, false},
	} {
		err := f.svc.replicaKeyState(ctx, c.enc, c.rule)
		if !c.bad {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if !errors.Is(err, replication.ErrPermanent) || errs.As(err) == nil || errs.As(err).Code != errs.KMSInvalidState.Code {
			t.Errorf("%s: %v, want a permanent KMS.KMSInvalidStateException", c.name, err)
		}
	}
}
