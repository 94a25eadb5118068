package service

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// TestReceiveReplicaTampering feeds the receiving end of the replica
// transfer payloads altered in transit, or replayed elsewhere, and checks
// that each is refused with its error and nothing is installed; the
// untouched payload installs once, and again is "exists" without a read.
func TestReceiveReplicaTampering(t *testing.T) {
	ctx := context.Background()
	src, dst := newFixture(t), newFixture(t)
	for _, f := range []*fixture{src, dst} {
		if err := f.svc.PutBucketVersioning(ctx, f.p, "bkt", meta.VersioningEnabled); err != nil {
			t.Fatal(err)
		}
	}
	data := bytes.Repeat([]byte("secret plaintext "), 10000) // 170 KB: a blob, several segments
	obj := src.put(t, "k", data, &sse.Spec{Mode: sse.Managed})
	const secret = "the-remote-secret"
	out, err := src.svc.outgoingReplica(ctx, obj, nil, "bkt", secret)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := io.ReadAll(out.body(ctx))
	if err != nil {
		t.Fatal(err)
	}
	_, hn, err := readReplicaHeader(bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	upload := func(key, secret string, body []byte) ReplicaUpload {
		return ReplicaUpload{Bucket: "bkt", Key: key, VersionID: obj.VersionID, Secret: secret, Body: bytes.NewReader(body), Size: int64(len(body))}
	}
	flipped := bytes.Clone(payload)
	flipped[hn+5000] ^= 1
	withHeader := func(edit func(h *replicaHeader)) []byte {
		h, n, err := readReplicaHeader(bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		edit(h)
		enc, err := encodeReplicaHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		return append(enc, payload[n:]...)
	}
	tests := []struct {
		name string
		in   ReplicaUpload
		want *errs.Error
	}{
		{"another credential's secret", upload("k", "another-secret", payload), errs.AccessDenied},
		{"a flipped ciphertext bit", upload("k", secret, flipped), errs.BadDigest},
		{"replayed onto another key", upload("k2", secret, withHeader(func(h *replicaHeader) { h.Object.Key = "k2" })), errs.AccessDenied},
		{"header names another key", upload("k2", secret, payload), errs.InvalidRequest},
		{"truncated", ReplicaUpload{Bucket: "bkt", Key: "k", VersionID: obj.VersionID, Secret: secret, Body: bytes.NewReader(payload[:len(payload)-10]), Size: int64(len(payload))}, errs.IncompleteBody},
		{"trailing data", ReplicaUpload{Bucket: "bkt", Key: "k", VersionID: obj.VersionID, Secret: secret, Body: bytes.NewReader(append(bytes.Clone(payload), 'x')), Size: int64(len(payload))}, errs.InvalidRequest},
		{"sizes that do not add up", upload("k", secret, withHeader(func(h *replicaHeader) { h.Object.Size++ })), errs.InvalidRequest},
		{"more user metadata than a PUT may set", upload("k", secret, withHeader(func(h *replicaHeader) {
			h.Object.UserMeta = map[string]string{"big": string(bytes.Repeat([]byte("m"), MaxUserMetaBytes))}
		})), errs.MetadataTooLarge},
		{"SSE-KMS without ReplicaKmsKeyID", upload("k", secret, withHeader(func(h *replicaHeader) { h.Object.Encryption.Mode = string(sse.KMS) })), errs.InvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dst.svc.ReceiveReplica(ctx, dst.p, tc.in)
			if errs.As(err) == nil || errs.As(err).Code != tc.want.Code {
				t.Fatalf("error %v, want %s", err, tc.want.Code)
			}
			if _, err := dst.svc.meta.GetObjectVersion(ctx, "bkt", tc.in.Key, obj.VersionID); err == nil {
				t.Error("a refused replica was installed")
			}
		})
	}
	installed, err := dst.svc.ReceiveReplica(ctx, dst.p, upload("k", secret, payload))
	if err != nil || !installed {
		t.Fatalf("untouched payload: installed %v, %v", installed, err)
	}
	got, err := dst.get("k", nil)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("replica reads back %d bytes, %v", len(got), err)
	}
	unread := &countingReader{}
	if installed, err := dst.svc.ReceiveReplica(ctx, dst.p, ReplicaUpload{Bucket: "bkt", Key: "k", VersionID: obj.VersionID, Secret: secret, Body: unread, Size: int64(len(payload))}); err != nil || installed {
		t.Errorf("second transfer: installed %v, %v; want exists", installed, err)
	}
	if unread.n != 0 {
		t.Errorf("a replica already there read %d body bytes", unread.n)
	}
}

type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) { c.n += len(p); return 0, io.EOF }

// TestReplicaSizes sends objects of edge sizes (empty, one byte, one past a
// segment, just past the inline limit) in each keyed mode through the
// transfer and reads them back from the destination.
func TestReplicaSizes(t *testing.T) {
	ctx := context.Background()
	src, dst := newFixture(t), newFixture(t)
	for _, f := range []*fixture{src, dst} {
		if err := f.svc.PutBucketVersioning(ctx, f.p, "bkt", meta.VersioningEnabled); err != nil {
			t.Fatal(err)
		}
	}
	const secret = "s"
	for _, size := range []int{0, 1, 64<<10 + 1, InlineMax + 1} {
		for _, spec := range []*sse.Spec{nil, {Mode: sse.Managed}, {Mode: sse.Managed, Algorithm: sse.SM4}} {
			data := bytes.Repeat([]byte{'x'}, size)
			obj := src.put(t, "k", data, spec)
			out, err := src.svc.outgoingReplica(ctx, obj, nil, "bkt", secret)
			if err != nil {
				t.Fatal(err)
			}
			in := ReplicaUpload{Bucket: "bkt", Key: "k", VersionID: obj.VersionID, Secret: secret, Body: out.body(ctx), Size: out.size}
			if ok, err := dst.svc.ReceiveReplica(ctx, dst.p, in); err != nil || !ok {
				t.Fatalf("size %d spec %+v: installed %v, %v", size, spec, ok, err)
			}
			ob, err := dst.svc.GetObject(ctx, dst.p, GetObjectInput{Bucket: "bkt", Key: "k", VersionID: obj.VersionID})
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(ob.Body)
			ob.Body.Close()
			if err != nil || !bytes.Equal(got, data) || ob.Object.ETag != obj.ETag {
				t.Errorf("size %d spec %+v: read %d bytes, etag %s (want %s), %v", size, spec, len(got), ob.Object.ETag, obj.ETag, err)
			}
		}
	}
}
