package service

import (
	"context"
	"errors"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// TestPrecheck: the checks made before a request document is read refuse
// exactly who the operation would refuse whatever the document says.
func TestPrecheck(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	anon, mallory := Principal{}, Principal{User: "mallory"}
	up, err := f.svc.CreateMultipartUpload(ctx, f.p, CreateUploadInput{Bucket: "bkt", Key: "mp"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		run  func() error
		want error
	}{
		{"owner's bucket config", func() error { return f.svc.Precheck(ctx, f.p, ActPutEncryption, "bkt", "") }, nil},
		{"stranger's bucket config", func() error { return f.svc.Precheck(ctx, mallory, ActPutEncryption, "bkt", "") }, errs.AccessDenied},
		{"missing bucket", func() error { return f.svc.Precheck(ctx, f.p, ActPutEncryption, "nobkt", "") }, errs.NoSuchBucket},
		{"anonymous CreateBucket", func() error { return f.svc.Precheck(ctx, anon, ActCreateBucket, "newbkt", "") }, errs.AccessDenied},
		{"anonymous multi-delete, nothing grants", func() error { return f.svc.Precheck(ctx, anon, ActDeleteObject, "bkt", "") }, errs.AccessDenied},
		{"signed multi-delete is judged per key", func() error { return f.svc.Precheck(ctx, mallory, ActDeleteObject, "bkt", "") }, nil},
		{"owner's Complete", func() error { return f.svc.PrecheckComplete(ctx, f.p, "bkt", "mp", up.ID) }, nil},
		{"stranger's Complete", func() error { return f.svc.PrecheckComplete(ctx, mallory, "bkt", "mp", up.ID) }, errs.AccessDenied},
		{"Complete of an upload that is gone", func() error { return f.svc.PrecheckComplete(ctx, f.p, "bkt", "mp", "gone") }, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// A public-read-write bucket opens anonymous deletes.
	if err := f.svc.PutBucketACL(ctx, f.p, "bkt", ACLPublicReadWrite); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Precheck(ctx, anon, ActDeleteObject, "bkt", ""); err != nil {
		t.Fatalf("anonymous multi-delete on a public-read-write bucket: %v", err)
	}
}

// TestCreateBucketWithSettings: a bucket's object lock, tags and default
// encryption are installed with it; a setting that fails leaves no bucket.
func TestCreateBucketWithSettings(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateBucketWith(ctx, f.p, "badkey", BucketSettings{ObjectLock: true,
		Encryption: &sse.Config{Mode: sse.KMS, KeyID: "no-such-key", Algorithm: sse.AES256}})
	if err == nil {
		t.Fatal("a bucket with an unknown KMS key as its default was created")
	}
	if _, err := f.meta.GetBucket(ctx, "badkey"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("a refused creation left a bucket behind: %v", err)
	}
	if _, err := f.svc.CreateBucketWith(ctx, f.p, "badtags", BucketSettings{Tags: []meta.Tag{{Key: "aws:x", Value: "y"}}}); !errors.Is(err, errs.InvalidTag) {
		t.Fatalf("reserved tag key: %v", err)
	}
	if _, err := f.meta.GetBucket(ctx, "badtags"); !errors.Is(err, meta.ErrNoSuchBucket) {
		t.Fatalf("a refused creation left a bucket behind: %v", err)
	}
	b, err := f.svc.CreateBucketWith(ctx, f.p, "locked", BucketSettings{ObjectLock: true, Tags: []meta.Tag{{Key: "team", Value: "a"}},
		Encryption: &sse.Config{Mode: sse.Managed, Algorithm: sse.AES256}})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.meta.GetBucket(ctx, "locked")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{configObjectLock, configTagging, sse.ConfigName} {
		if stored.Config[name] == nil {
			t.Errorf("%s not stored with the bucket", name)
		}
	}
	if b.Versioning != meta.VersioningEnabled || stored.Versioning != meta.VersioningEnabled {
		t.Errorf("object lock without versioning: %q", stored.Versioning)
	}
}
