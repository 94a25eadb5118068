package service

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// TestReencryptSwitchesAlgorithm: a re-encrypt of a bucket to SM4 rewrites
// every SSE-S3 and SSE-KMS version under a fresh object key with SM4-GCM,
// keeps content, ETag, checksums, tags and user metadata, leaves plaintext
// versions alone, keeps every object readable during the job, and
// reclaims the old blobs (the blob count is unchanged).
func TestReencryptSwitchesAlgorithm(t *testing.T) {
	ctx := context.Background()
	f := newKeyJobFixture(t, 40)
	tagged, err := f.svc.PutObject(ctx, f.p, PutObjectInput{Bucket: "bkt", Key: "tagged", SSE: &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256},
		Meta: ObjectMeta{UserMeta: map[string]string{"colour": "blue"}}, Tags: []meta.Tag{{Key: "a", Value: "b"}},
		Body: Body{Reader: bytes.NewReader([]byte("tagged data")), Size: 11}})
	if err != nil {
		t.Fatal(err)
	}
	f.objects["tagged"], f.etags["tagged"] = []byte("tagged data"), tagged.ETag
	before := map[string]*meta.Object{}
	for key := range f.objects {
		o, err := f.meta.GetObject(ctx, "bkt", key)
		if err != nil {
			t.Fatal(err)
		}
		before[key] = o
	}
	blobs := f.blobFiles(t)
	task := f.svc.ReencryptTask()
	task.(*keyJobTask).batch = 6
	f.register(ReencryptJob, task)
	req := KeyJobRequest{Bucket: "bkt", Algorithm: sse.SM4, Requested: time.Now()}
	if err := f.svc.CheckReencrypt(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := StartKeyJob(ctx, f.meta, ReencryptJob, req); err != nil {
		t.Fatal(err)
	}
	stop := f.readLoop(t)
	j, err := f.engine.RunPass(ctx, ReencryptJob)
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if j.Pass["total"] != 33 || j.Pass["reencrypted"] != 33 {
		t.Fatalf("pass counts: %v", j.Pass)
	}
	f.checkAll(t)
	for key, b := range before {
		o, err := f.meta.GetObject(ctx, "bkt", key)
		if err != nil {
			t.Fatal(err)
		}
		if b.Encryption == nil {
			if o.Encryption != nil || o.Parts[0].BlobID != b.Parts[0].BlobID {
				t.Fatalf("%s: a plaintext object was rewritten", key)
			}
			continue
		}
		e := o.Encryption
		if e.Algorithm != sse.SM4 || string(e.WrappedKey) == string(b.Encryption.WrappedKey) || e.Mode != b.Encryption.Mode || e.KeyID != b.Encryption.KeyID || e.BucketKey != b.Encryption.BucketKey {
			t.Fatalf("%s: encryption after: %+v (before %+v)", key, e, b.Encryption)
		}
		if o.ETag != b.ETag || o.Size != b.Size || !sameMap(o.Checksums, b.Checksums) || !sameMap(o.UserMeta, b.UserMeta) || len(o.Tags) != len(b.Tags) {
			t.Fatalf("%s: what a client sees changed: %+v -> %+v", key, b, o)
		}
		if b.Parts[0].BlobID != "" && o.Parts[0].BlobID == b.Parts[0].BlobID {
			t.Fatalf("%s: the blob was not rewritten", key)
		}
	}
	if got := f.blobFiles(t); got != blobs {
		t.Fatalf("blob files: %d before, %d after (old blobs not reclaimed?)", blobs, got)
	}
	// And back to AES-256.
	req = KeyJobRequest{Bucket: "bkt", Prefix: "obj-000", Algorithm: sse.AES256, Requested: time.Now()}
	if err := StartKeyJob(ctx, f.meta, ReencryptJob, req); err != nil {
		t.Fatal(err)
	}
	if j, err := f.engine.RunPass(ctx, ReencryptJob); err != nil || j.Pass["reencrypted"] != 8 {
		t.Fatalf("prefix pass: %v, %v", j.Pass, err)
	}
	if o, _ := f.meta.GetObject(ctx, "bkt", "obj-0001"); o.Encryption.Algorithm != sse.AES256 {
		t.Fatalf("obj-0001 after the second pass: %s", o.Encryption.Algorithm)
	}
	f.checkAll(t)
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestReencryptKeepsConcurrentOverwrite: an object overwritten while its
// copy is being made keeps the client's write; the copy is dropped.
func TestReencryptKeepsConcurrentOverwrite(t *testing.T) {
	ctx := context.Background()
	f := newKeyJobFixture(t, 3)
	fresh := random(InlineMax + 5000) // a blob
	w := &reencryptWork{s: f.svc, alg: sse.SM4, mark: "test", beforeSwap: func(o *meta.Object) {
		f.put(t, o.Key, fresh, &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256})
	}}
	blobs := f.blobFiles(t)
	o, err := f.meta.GetObject(ctx, "bkt", "obj-0000")
	if err != nil {
		t.Fatal(err)
	}
	o.Bucket = "bkt"
	if got, err := w.do(ctx, o); err != nil || got != "changed" {
		t.Fatalf("re-encrypt racing an overwrite: %q, %v", got, err)
	}
	if got, err := f.get("obj-0000", nil); err != nil || !bytes.Equal(got, fresh) {
		t.Fatalf("the client's overwrite was lost: %v", err)
	}
	cur, _ := f.meta.GetObject(ctx, "bkt", "obj-0000")
	if cur.Encryption.Algorithm != sse.AES256 {
		t.Fatal("the copy was installed over the overwrite")
	}
	// obj-0000 is a blob-sized object (i%7==0): its old blob went with
	// the overwrite, the copy's was deleted, the new one is there.
	time.Sleep(10 * time.Millisecond)
	if got := f.blobFiles(t); got != blobs {
		t.Fatalf("blob files: %d before, %d after", blobs, got)
	}
}
