package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

func TestInlineClasses(t *testing.T) {
	for _, c := range []struct{ n, class int }{
		{0, -1}, {1, 0}, {1024, 0}, {1025, 1}, {4096, 2}, {4097, 3},
		{InlineMax, inlineClasses - 1}, {InlineMax + 1, -1},
	} {
		if got := inlineClass(c.n); got != c.class {
			t.Errorf("inlineClass(%d) = %d, want %d", c.n, got, c.class)
		}
		if c.class >= 0 && 1<<(c.class+minInlineShift) < c.n {
			t.Errorf("class %d is too small for %d bytes", c.class, c.n)
		}
	}
}

// TestInlineLoan: what a loan keeps is a copy in a buffer of its own; when
// it is given back the object's parts no longer reach it and the bytes it
// held are gone; a part larger than any buffer is copied apart.
func TestInlineLoan(t *testing.T) {
	var bufs inlineBufs
	l := &inlineLoan{bufs: &bufs}
	stored := []byte("secret plaintext, decrypted in place")
	kept := l.keep(stored)
	if !bytes.Equal(kept, stored) || &kept[0] == &stored[0] {
		t.Fatalf("kept %q: not a copy of its own", kept)
	}
	big := l.keep(make([]byte, InlineMax+1))
	if len(big) != InlineMax+1 || len(l.lent) != 1 {
		t.Fatalf("a part larger than InlineMax: %d bytes, %d buffers lent", len(big), len(l.lent))
	}
	o := &meta.Object{Parts: []meta.Part{{Inline: kept}, {Inline: big}}}
	l.giveBack(o)
	if o.Parts[0].Inline != nil || o.Parts[1].Inline != nil {
		t.Fatal("the object still reaches the lent bytes")
	}
	if !bytes.Equal(kept[:len(stored)], make([]byte, len(stored))) {
		t.Fatalf("the buffer still holds %q", kept)
	}
	l.giveBack(o) // twice: nothing more happens
	if len(l.lent) != 0 {
		t.Fatalf("%d buffers still lent", len(l.lent))
	}
}

// TestGetLendsInlineBuffers: GETs of inline objects share buffers from one
// GET to the next, and no GET ever sees another's bytes: plain, SSE-S3
// and SSE-C objects (decrypted where they lie), whole and ranged, read to
// the end or closed early, alongside HEADs and failed preconditions, from
// eight goroutines at once. After Close the object reaches no buffer.
func TestGetLendsInlineBuffers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	specs := []*sse.Spec{nil, {Mode: sse.Managed, Algorithm: sse.AES256}, customerSpec()}
	const objects = 24
	data := make([][]byte, objects)
	etags := make([]string, objects)
	for i := range objects {
		// Sizes across buffer classes, each object's bytes its own.
		data[i] = bytes.Repeat([]byte{byte('a' + i)}, 100+i*997)
		etags[i] = f.put(t, fmt.Sprintf("k%02d", i), data[i], specs[i%len(specs)]).ETag
	}
	get := func(i int, in GetObjectInput) ([]byte, *meta.Object, error) {
		in.Bucket, in.Key = "bkt", fmt.Sprintf("k%02d", i)
		if s := specs[i%len(specs)]; s != nil && s.Mode == sse.Customer {
			in.SSE = s
		}
		ob, err := f.svc.GetObject(ctx, f.p, in)
		if err != nil {
			if ob != nil {
				return nil, ob.Object, err
			}
			return nil, nil, err
		}
		var b []byte
		if in.Range != nil && in.Range.End < 10 { // closed early, unread
			b = make([]byte, 3)
			_, err = io.ReadFull(ob.Body, b)
		} else {
			b, err = io.ReadAll(ob.Body)
		}
		ob.Body.Close()
		for _, p := range ob.Object.Parts {
			if p.Inline != nil {
				t.Errorf("k%02d: after Close the object still reaches %d inline bytes", i, len(p.Inline))
			}
		}
		return b, ob.Object, err
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 30 {
				i := (g*7 + round*5) % objects
				switch round % 5 {
				case 0, 1:
					if b, _, err := get(i, GetObjectInput{}); err != nil || !bytes.Equal(b, data[i]) {
						t.Errorf("GET k%02d: %d bytes %.8q..., %v", i, len(b), b, err)
					}
				case 2:
					r := &Range{Start: 50, End: 99}
					if b, _, err := get(i, GetObjectInput{Range: r}); err != nil || !bytes.Equal(b, data[i][50:100]) {
						t.Errorf("GET k%02d bytes 50-99: %q, %v", i, b, err)
					}
				case 3:
					if b, _, err := get(i, GetObjectInput{Range: &Range{Start: 0, End: 9}}); err != nil || !bytes.Equal(b, data[i][:3]) {
						t.Errorf("GET k%02d closed early: %q, %v", i, b, err)
					}
				case 4:
					_, o, err := get(i, GetObjectInput{Conditions: Conditions{IfNoneMatch: etags[i]}})
					if !errors.Is(err, errs.NotModified) || o == nil || o.ETag != etags[i] {
						t.Errorf("GET k%02d If-None-Match: %v", i, err)
					}
					if o != nil && o.Parts[0].Inline != nil {
						t.Errorf("k%02d: a failed precondition left the object on a lent buffer", i)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestInlineBufferHeldUntilClose: a GET's buffer stays its own until its
// body is closed, however many GETs of the same size open, read and close
// in between (a buffer given back early would be the next GET's, and the
// first body would read the second object's bytes).
func TestInlineBufferHeldUntilClose(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, spec := range []*sse.Spec{nil, {Mode: sse.Managed, Algorithm: sse.AES256}} {
		a, b := bytes.Repeat([]byte("a"), 4000), bytes.Repeat([]byte("b"), 4000)
		f.put(t, "a", a, spec)
		f.put(t, "b", b, spec)
		for range 8 {
			first, err := f.svc.GetObject(ctx, f.p, GetObjectInput{Bucket: "bkt", Key: "a"})
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if got := f.read(t, "b", nil); !bytes.Equal(got, b) {
					t.Fatalf("b read as %.8q...", got)
				}
			}
			got, err := io.ReadAll(first.Body)
			first.Body.Close()
			if err != nil || !bytes.Equal(got, a) {
				t.Fatalf("a, read after three GETs of b: %.8q..., %v", got, err)
			}
		}
	}
}
