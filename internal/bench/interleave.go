package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// Interleaved is a ratio taken from short alternating rounds (Config.Rounds):
// each round runs both sides back to back, so load from elsewhere on a
// shared machine, which swings a figure measured minutes apart from its
// reference by 2x or more, skews both sides of a round's ratio alike; the
// median over the rounds is the figure.
type Interleaved struct {
	Name   string    `json:"name"` // e.g. "PUT 4 KiB sse-s3 / none"
	Ratios []float64 `json:"ratios"`
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
}

// roundDuration is one phase of an interleaved round by default.
const roundDuration = time.Second

// interleave runs Config.Rounds rounds of the small size: the durable-create
// yardstick, then each mode's PUT, then each mode's GET, RoundDuration
// each, and sets the report's median ratios: PUT none to durable-create,
// and every other mode's PUT and GET to none's.
func (b *run) interleave(ctx context.Context, createDir string) error {
	c := b.cfg
	if c.Rounds <= 0 || (len(c.Only) > 0 && !slices.Contains(c.Only, c.SmallSize)) {
		return nil
	}
	rb := *b
	rb.cfg.Duration = c.RoundDuration
	if rb.cfg.Duration <= 0 {
		rb.cfg.Duration = roundDuration
	}
	size, workers := c.SmallSize, c.Concurrency
	ratios := map[string][]float64{}
	var names []string
	add := func(name string, a, z Result) {
		if a.Errors > 0 || z.Errors > 0 || z.OpsPerSec == 0 {
			return
		}
		if _, ok := ratios[name]; !ok {
			names = append(names, name)
		}
		ratios[name] = append(ratios[name], a.OpsPerSec/z.OpsPerSec)
	}
	for round := range c.Rounds {
		y, err := durableCreate(ctx, createDir, b.sr.client.data, size, workers, 0, rb.cfg.Duration)
		if err != nil {
			return fmt.Errorf("bench: durable-create yardstick: %w", err)
		}
		rb.progress(y)
		for _, op := range []string{"PUT", "GET"} {
			var base Result
			for i, m := range c.Modes {
				// Fresh keys every round: a PUT creates, as the yardstick does.
				rm := m
				rm.Name = fmt.Sprintf("%s-r%d", m.Name, round)
				r := rb.phase(ctx, b.sr, rm, op, size, workers, 0, "strongroom")
				if i == 0 {
					base = r
					if op == "PUT" {
						add(fmt.Sprintf("PUT %s %s / durable-create", sizeName(int64(size)), m.Name), r, y)
					}
					continue
				}
				add(fmt.Sprintf("%s %s %s / %s", op, sizeName(int64(size)), m.Name, c.Modes[0].Name), r, base)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	for _, name := range names {
		rs := ratios[name]
		s := slices.Sorted(slices.Values(rs))
		med := s[len(s)/2]
		if len(s)%2 == 0 {
			med = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
		b.rep.Interleaved = append(b.rep.Interleaved, Interleaved{Name: name, Ratios: rs, Median: med, Min: s[0], Max: s[len(s)-1]})
	}
	return nil
}

// writeInterleaved adds the interleaved ratios to the table report.
func (r *Report) writeInterleaved(w io.Writer) {
	if len(r.Interleaved) == 0 {
		return
	}
	fmt.Fprintf(w, "\ninterleaved rounds (%d): median ratio, min-max\n", len(r.Interleaved[0].Ratios))
	for _, x := range r.Interleaved {
		fmt.Fprintf(w, "  %-44s %5.2f  (%.2f-%.2f)\n", x.Name, x.Median, x.Min, x.Max)
	}
}
