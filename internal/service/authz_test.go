package service

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// denyAll is a policy engine whose bucket policy "deny" refuses every
// action to everyone and whose other documents decide nothing.
type denyAll struct{}

func (denyAll) Decide(bucketPolicy []byte, _ []string, _ *AuthzRequest) (Decision, string) {
	if bytes.Equal(bucketPolicy, []byte("deny")) {
		return Deny, "statement 0"
	}
	return NotApplicable, ""
}

func (denyAll) ValidateBucketPolicy([]byte) error { return nil }

// TestRootBoundByExplicitDeny: a bucket policy's explicit Deny binds root
// too, except for managing the bucket policy itself (so root and the
// owner can always undo a lock-out); without a Deny root may do anything.
func TestRootBoundByExplicitDeny(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.svc.policies = denyAll{}
	root := Principal{User: "root", Root: true}
	put := func(p Principal) error {
		_, err := f.svc.PutObject(ctx, p, PutObjectInput{Bucket: "bkt", Key: "k", Body: Body{Reader: bytes.NewReader([]byte("x")), Size: 1}})
		return err
	}
	if err := put(root); err != nil {
		t.Fatalf("root, no policy: %v", err)
	}
	if err := f.svc.PutBucketPolicy(ctx, root, "bkt", []byte("deny")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []Principal{root, f.p} {
		if err := put(p); !errors.Is(err, errs.AccessDenied) {
			t.Fatalf("%s: PUT under an explicit Deny: %v, want AccessDenied", p.User, err)
		}
		if _, err := f.svc.GetObject(ctx, p, GetObjectInput{Bucket: "bkt", Key: "k"}); !errors.Is(err, errs.AccessDenied) {
			t.Fatalf("%s: GET under an explicit Deny: %v, want AccessDenied", p.User, err)
		}
		if err := f.svc.DeleteBucket(ctx, p, "bkt"); !errors.Is(err, errs.AccessDenied) {
			t.Fatalf("%s: DeleteBucket under an explicit Deny: %v, want AccessDenied", p.User, err)
		}
		// The way out stays open.
		if doc, err := f.svc.GetBucketPolicy(ctx, p, "bkt"); err != nil || string(doc) != "deny" {
			t.Fatalf("%s: GetBucketPolicy: %q, %v", p.User, doc, err)
		}
		if err := f.svc.PutBucketPolicy(ctx, p, "bkt", []byte("deny")); err != nil {
			t.Fatalf("%s: PutBucketPolicy: %v", p.User, err)
		}
	}
	if err := f.svc.DeleteBucketPolicy(ctx, root, "bkt"); err != nil {
		t.Fatal(err)
	}
	if err := put(root); err != nil {
		t.Fatalf("root after the policy is gone: %v", err)
	}
	// Another user is not let in by the policy-management exception.
	if err := f.svc.PutBucketPolicy(ctx, root, "bkt", []byte("deny")); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteBucketPolicy(ctx, Principal{User: "mallory"}, "bkt"); !errors.Is(err, errs.AccessDenied) {
		t.Fatalf("a stranger deleting the policy: %v, want AccessDenied", err)
	}
}
