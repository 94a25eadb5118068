package service

import (
	"context"
	"errors"
	"testing"

	"strongroom/internal/errs"
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
