package service

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// downTier is a data tier that can be switched to failing the way a
// remote store does when it cannot serve now.
type downTier struct {
	blob.Store
	down atomic.Bool
}

func (d *downTier) err() error {
	return fmt.Errorf("s3 tier: GET 503 SlowDown: %w", blob.ErrUnavailable)
}

func (d *downTier) Create(ctx context.Context) (blob.Writer, error) {
	if d.down.Load() {
		return nil, d.err()
	}
	return d.Store.Create(ctx)
}

func (d *downTier) Open(ctx context.Context, id string) (blob.Reader, error) {
	if d.down.Load() {
		return nil, d.err()
	}
	return d.Store.Open(ctx, id)
}

// TestDataTierUnavailable: a data tier that cannot serve now is a 503
// ServiceUnavailable (errs.DataUnavailable) on read and on write, plain
// and sealed, not a 500; nothing stored changes, and once the tier is back
// the object reads as before.
func TestDataTierUnavailable(t *testing.T) {
	tier := &downTier{}
	f := newFixtureWith(t, func(b blob.Store) blob.Store { tier.Store = b; return tier })
	ctx := context.Background()
	big := random(InlineMax + 1000) // stored in a blob, not inline
	for _, spec := range []*sse.Spec{nil, {Mode: sse.Managed, Algorithm: sse.AES256}} {
		name := "plain"
		if spec != nil {
			name = "sse-s3"
		}
		t.Run(name, func(t *testing.T) {
			f.put(t, name, big, spec)
			tier.down.Store(true)
			if _, err := f.get(name, nil); errs.As(err) != errs.DataUnavailable {
				t.Errorf("GET with the tier down: %v, want DataUnavailable", err)
			}
			_, err := f.svc.PutObject(ctx, f.p, PutObjectInput{Bucket: "bkt", Key: name + "-new", SSE: spec,
				Body: Body{Reader: bytes.NewReader(big), Size: int64(len(big))}})
			if errs.As(err) != errs.DataUnavailable {
				t.Errorf("PUT with the tier down: %v, want DataUnavailable", err)
			}
			tier.down.Store(false)
			if got, err := f.get(name, nil); err != nil || !bytes.Equal(got, big) {
				t.Errorf("GET with the tier back: %v (bytes match: %v)", err, bytes.Equal(got, big))
			}
			if _, err := f.get(name+"-new", nil); errs.As(err) != errs.NoSuchKey {
				t.Errorf("the PUT refused while the tier was down left an object: %v", err)
			}
		})
	}
	// Other failures stay internal errors (500), named without paths.
	if err := storageErr(fmt.Errorf("open /data/blobs/x: %w", context.DeadlineExceeded)); errs.As(err) != nil || !strings.HasPrefix(err.Error(), "data store: ") {
		t.Errorf("storageErr of a non-tier failure: %v", err)
	}
}

// TestOpenPartInlineNotLoaded: a part whose inline bytes were not loaded
// (a version from a listing) is refused, never served as empty.
func TestOpenPartInlineNotLoaded(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.openPart(context.Background(), &meta.Part{Number: 1, StoredSize: 40}); err == nil || !strings.Contains(err.Error(), "not loaded") {
		t.Errorf("openPart of an unloaded inline part: %v, want refused", err)
	}
	r, err := f.svc.openPart(context.Background(), &meta.Part{Number: 1, StoredSize: 3, Inline: []byte("abc")})
	if err != nil || r.Size() != 3 {
		t.Fatalf("openPart of a loaded inline part: %v", err)
	}
	r.Close()
}
