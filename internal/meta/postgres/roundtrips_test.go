package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgserver"
)

// TestRoundTrips bounds the round trips each object operation costs on
// the wire (BEGIN and COMMIT included), counted by a proxy in front of
// PostgreSQL: a write is BEGIN with the key's lock and reads, then the
// writes with COMMIT; a read is one statement.
func TestRoundTrips(t *testing.T) {
	_, dbURL := openTest(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := pgserver.NewRoundTripProxy(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	u.Host = proxy.Addr()
	s := openURL(t, u.String())
	for _, b := range []string{"plain", "versioned", "suspended"} {
		metatest.MustBucket(t, s, b)
	}
	metatest.SetVersioning(t, s, "versioned", meta.VersioningEnabled)
	metatest.SetVersioning(t, s, "suspended", meta.VersioningSuspended)

	inline := func(bucket, key string) *meta.Object {
		o := metatest.Obj(bucket, key)
		o.Parts = []meta.Part{{Number: 1, Inline: []byte("abc"), Size: 3, StoredSize: 3}}
		return o
	}
	n := 0
	blob := func(bucket, key string) *meta.Object {
		n++
		return metatest.Obj(bucket, key, fmt.Sprintf("blob-%d", n))
	}
	put := func(mk func(string, string) *meta.Object, bucket string) func(string) error {
		return func(key string) error { _, err := s.PutObject(ctx, mk(bucket, key), nil); return err }
	}
	putIfNone := func(key string) error {
		_, err := s.PutObject(ctx, inline("plain", key+"-new"), func(cur *meta.Object) error {
			if cur != nil {
				return meta.ErrInvalid
			}
			return nil
		})
		return err
	}
	get := func(bucket string) func(string) error {
		return func(key string) error { _, err := s.GetObject(ctx, bucket, key); return err }
	}
	del := func(bucket string) func(string) error {
		return func(key string) error { _, err := s.DeleteObject(ctx, bucket, key, nil); return err }
	}
	getVersion := func(key string) error {
		o, err := s.GetObject(ctx, "versioned", key)
		if err != nil {
			return err
		}
		_, err = s.GetObjectVersion(ctx, "versioned", key, o.VersionID)
		return err
	}
	delVersion := func(key string) error {
		o, err := s.GetObject(ctx, "versioned", key)
		if err != nil {
			return err
		}
		_, err = s.DeleteObjectVersion(ctx, "versioned", key, o.VersionID, nil)
		return err
	}
	upload := func(key string) error {
		id := "up-" + key
		if err := s.CreateUpload(ctx, &meta.Upload{ID: id, Bucket: "plain", Key: key, Initiated: time.Now()}); err != nil {
			return err
		}
		_, err := s.PutPart(ctx, "plain", id, &meta.Part{Number: 1, BlobID: "part-" + key, Size: 1, StoredSize: 17})
		return err
	}
	complete := func(key string) error {
		o := metatest.Obj("plain", key, "part-"+key)
		o.Parts[0].Number = 1
		_, _, err := s.CompleteUpload(ctx, "plain", "up-"+key, o, nil)
		return err
	}
	tests := []struct {
		name  string
		setup func(key string) error // not counted
		op    func(key string) error
		max   int64
	}{
		{name: "PutObject inline new", op: put(inline, "plain"), max: 2},
		{name: "PutObject inline replace", setup: put(inline, "plain"), op: put(inline, "plain"), max: 2},
		{name: "PutObject inline if-none-match", op: putIfNone, max: 2},
		{name: "PutObject blob replace", setup: put(blob, "plain"), op: put(blob, "plain"), max: 2},
		{name: "PutObject versioned inline", setup: put(inline, "versioned"), op: put(inline, "versioned"), max: 2},
		{name: "PutObject versioned blob", setup: put(blob, "versioned"), op: put(blob, "versioned"), max: 2},
		{name: "PutObject suspended blob", setup: put(blob, "suspended"), op: put(blob, "suspended"), max: 2},
		{name: "GetObject", setup: put(inline, "plain"), op: get("plain"), max: 1},
		{name: "GetBucketObject", setup: put(inline, "plain"), op: func(key string) error { _, _, err := s.GetBucketObject(ctx, "plain", key, ""); return err }, max: 1},
		{name: "GetObject missing", op: func(key string) error {
			_, err := s.GetObject(ctx, "plain", key)
			return ignore(err, meta.ErrNoSuchKey)
		}, max: 1},
		{name: "GetObjectVersion (after a GetObject)", setup: put(inline, "versioned"), op: getVersion, max: 2},
		{name: "DeleteObject unversioned", setup: put(blob, "plain"), op: del("plain"), max: 2},
		{name: "DeleteObject versioned (marker)", setup: put(blob, "versioned"), op: del("versioned"), max: 2},
		{name: "DeleteObject suspended", setup: put(blob, "suspended"), op: del("suspended"), max: 2},
		{name: "DeleteObjectVersion (after a GetObject)", setup: put(blob, "versioned"), op: delVersion, max: 3},
		{name: "CompleteUpload", setup: upload, op: complete, max: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The fewest over a few runs: a run may pay for preparing a
			// statement on a connection new to it, or a pool's ping.
			best := int64(-1)
			for i := range 4 {
				key := fmt.Sprintf("%s/%d", strings.ReplaceAll(tc.name, " ", "-"), i)
				if tc.setup != nil {
					if err := tc.setup(key); err != nil {
						t.Fatal(err)
					}
				}
				before := proxy.Trips()
				if err := tc.op(key); err != nil {
					t.Fatal(err)
				}
				if got := proxy.Trips() - before; best < 0 || got < best {
					best = got
				}
			}
			t.Logf("%s: %d round trips", tc.name, best)
			if best > tc.max {
				t.Errorf("%s: %d round trips, want at most %d", tc.name, best, tc.max)
			}
		})
	}
}

// ignore is err unless it is target.
func ignore(err, target error) error {
	if errors.Is(err, target) {
		return nil
	}
	return err
}
