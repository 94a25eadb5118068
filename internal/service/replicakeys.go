package service

import (
	"context"
	"fmt"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// Replication, origin pulls and the queue's transfers act for the bucket's
// owner under the node's authority, not for a requesting user: the key
// grants they rely on are checked where a user makes them act, when the
// replication configuration is set (encrypt on each local rule's
// ReplicaKmsKeyID, below) and when a remote deployment's credential
// delivers a replica (encrypt on the replica key, ReceiveReplica). A key
// pending deletion or destroyed is refused at transfer time with the
// client paths' error, KMS.KMSInvalidStateException, and the entry is
// marked FAILED (retrying cannot cure it).

// checkReplicaKeyGrants refuses a replication configuration whose local
// rules would wrap replicas under a KMS key p may not encrypt under.
// Remote destinations' keys are the remote's to check (at receive).
func (s *Service) checkReplicaKeyGrants(ctx context.Context, p Principal, c *replication.Config) error {
	for _, r := range c.Rules {
		if r.Destination.Remote == "" && r.ReplicaKMSKeyID != "" {
			if err := s.checkKeyUse(ctx, p, r.ReplicaKMSKeyID, KeyEncrypt); err != nil {
				return err
			}
		}
	}
	return nil
}

// replicaKeyState refuses, for good, to replicate a version whose KMS key
// or replica key is pending deletion or destroyed.
func (s *Service) replicaKeyState(ctx context.Context, enc *meta.Encryption, rule *replication.Rule) error {
	if enc == nil || sse.Mode(enc.Mode) != sse.KMS {
		return nil
	}
	ids := []string{enc.KeyID}
	if rule != nil {
		ids = append(ids, rule.ReplicaKMSKeyID)
	}
	for _, keyID := range ids {
		id, ok := policyKeyID(keyID)
		if !ok {
			continue
		}
		pol, err := s.keyPolicy(ctx, id)
		if err != nil {
			return err
		}
		if e := KeyStateError(pol); e != nil {
			return fmt.Errorf("%w: %w", replication.ErrPermanent, e)
		}
	}
	return nil
}
