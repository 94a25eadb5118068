package service

import (
	"bytes"
	"math/bits"
	"sync"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// inlineBufs are the buffers GETs read inline parts into, reused from one
// GET to the next: the copy out of the metadata file was 4.6 KiB of a
// 4 KiB GET's 10 KiB of garbage, and allocating and collecting it took
// about an eighth of the GET's CPU (BenchmarkHot4KGetMany). One pool per
// power of two from 1 KiB to InlineMax (TestInlineClasses).
type inlineBufs [inlineClasses]sync.Pool

const (
	minInlineShift = 10 // the smallest buffer: 1 KiB
	inlineClasses  = 6  // up to 32 KiB, InlineMax
)

// inlineClass is the pool of the smallest buffers that hold n bytes, or
// -1 when none does.
func inlineClass(n int) int {
	c := max(bits.Len(uint(n-1)), minInlineShift) - minInlineShift
	if n <= 0 || c >= inlineClasses {
		return -1
	}
	return c
}

// inlineLoan lends one read the buffers its inline parts are read into
// (keep, a meta.RecordReader's into) and takes them back (giveBack) when
// the read is done.
type inlineLoan struct {
	bufs  *inlineBufs
	lent  []lentBuf
	first [1]lentBuf // lent's room for the usual single part
}

type lentBuf struct {
	b    *[]byte
	used int
}

func (s *Service) newInlineLoan() *inlineLoan {
	l := &inlineLoan{bufs: &s.inlineBufs}
	l.lent = l.first[:0]
	return l
}

// keep copies stored into a lent buffer (a part too large for any is
// copied apart, as GetObject does).
func (l *inlineLoan) keep(stored []byte) []byte {
	c := inlineClass(len(stored))
	if c < 0 {
		return bytes.Clone(stored)
	}
	b, _ := l.bufs[c].Get().(*[]byte)
	if b == nil {
		nb := make([]byte, 1<<(c+minInlineShift))
		b = &nb
	}
	l.lent = append(l.lent, lentBuf{b, len(stored)})
	return append((*b)[:0], stored...)
}

// giveBack takes back what was lent for o. Every part's Inline is dropped
// first, so that nothing o reaches is a buffer another read may be
// filling, and each buffer is cleared, since a sealed part is decrypted
// where it lies. It is safe to call twice.
func (l *inlineLoan) giveBack(o *meta.Object) {
	if len(l.lent) == 0 {
		return
	}
	if o != nil {
		for i := range o.Parts {
			o.Parts[i].Inline = nil
		}
	}
	for _, lb := range l.lent {
		clear((*lb.b)[:lb.used])
		l.bufs[inlineClass(cap(*lb.b))].Put(lb.b)
	}
	l.lent = l.lent[:0]
}
