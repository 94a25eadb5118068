package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

const bigKey = "big/object"

// genReader yields n bytes cycling through a buffer, so a body of any size
// streams without being held in memory.
type genReader struct {
	data   []byte
	off    int
	remain int64
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.remain <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.remain {
		p = p[:g.remain]
	}
	n := copy(p, g.data[g.off:])
	// Advance by a prime-ish stride at wrap-around so successive cycles
	// are not identical.
	g.off += n
	if g.off >= len(g.data) {
		g.off = (g.off + 4099) % (len(g.data) / 2)
	}
	g.remain -= int64(n)
	return n, nil
}

// WriteTo lets the transport write straight from the buffer.
func (g *genReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for g.remain > 0 {
		chunk := g.data[g.off:]
		if int64(len(chunk)) > g.remain {
			chunk = chunk[:g.remain]
		}
		n, err := w.Write(chunk)
		total += int64(n)
		g.remain -= int64(n)
		g.off += n
		if g.off >= len(g.data) {
			g.off = (g.off + 4099) % (len(g.data) / 2)
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// big uploads one BigSize object, then reads it back, each with the
// server's peak RSS reset before and read after.
func (b *run) big(ctx context.Context) error {
	c := b.cfg
	e := b.sr
	m := c.Modes[0]
	for _, op := range []string{"PUT", "GET"} {
		note := ""
		if err := resetPeakRSS(b.pid); err != nil && b.pid > 0 {
			note = fmt.Sprintf("could not reset the server's peak RSS before the big %s (%v): it includes the earlier phases", op, err)
			b.rep.Notes = append(b.rep.Notes, note)
		}
		// Sample RSS too, in case VmHWM could not be reset.
		stop := make(chan struct{})
		var maxRSS int64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				if r := currentRSS(b.pid); r > maxRSS {
					maxRSS = r
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		r := runPhase(ctx, 1, 0, func(ctx context.Context, w, i int) (int64, error) {
			if op == "PUT" {
				g := &genReader{data: e.client.data, remain: c.BigSize}
				if err := e.putReader(ctx, bigKey, g, c.BigSize, m.PutHeaders); err != nil {
					return 0, err
				}
				return c.BigSize, nil
			}
			return e.get(ctx, bigKey, int(c.BigSize), m.GetHeaders, nil)
		})
		close(stop)
		wg.Wait()
		r.Target, r.Mode, r.Op, r.Size = "strongroom", m.Name, op, c.BigSize
		r.PeakRSS = peakRSS(b.pid)
		if note != "" {
			r.PeakRSS = maxRSS // sampled: may miss a short spike
		}
		b.progress(r)
		fmt.Fprintf(c.Progress, "  server peak RSS during the %s %s: %.1f MiB (sampled max %.1f MiB)\n", sizeName(c.BigSize), op, float64(r.PeakRSS)/MiB, float64(maxRSS)/MiB)
		b.rep.Big = append(b.rep.Big, r)
		if op == "PUT" {
			b.rep.BigPeakRSS = r.PeakRSS
			if r.Errors > 0 {
				return nil // nothing to read back
			}
		}
	}
	// Free the disk space.
	e.delete(ctx, bigKey)
	return ctx.Err()
}
