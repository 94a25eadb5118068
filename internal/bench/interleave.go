package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"syscall"
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
	// CILow and CIHigh bound, at 95% confidence (medianCI95), the median
	// that endless rounds would give: a median near its target reads as
	// uncertain as the rounds' scatter leaves it.
	CILow  float64 `json:"ci95_low"`
	CIHigh float64 `json:"ci95_high"`
}

// newInterleaved summarises the per-round ratios rs of the ratio name.
func newInterleaved(name string, rs []float64) Interleaved {
	s := slices.Sorted(slices.Values(rs))
	lo, hi := medianCI95(s)
	return Interleaved{Name: name, Ratios: rs, Median: median(s), Min: s[0], Max: s[len(s)-1], CILow: lo, CIHigh: hi}
}

// median is the median of sorted, which is not empty.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 0 {
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return sorted[n/2]
}

// medianCI95 is a 95% confidence interval of the median of sorted (not
// empty), by the percentile bootstrap: the 2.5th and 97.5th percentiles of
// the medians of bootstrapResamples resamples of the rounds. The draws
// come from a fixed seed, so one report gives one interval.
func medianCI95(sorted []float64) (lo, hi float64) {
	n := len(sorted)
	rng := rand.New(rand.NewPCG(1, 2))
	meds := make([]float64, bootstrapResamples)
	resample := make([]float64, n)
	for i := range meds {
		for j := range resample {
			resample[j] = sorted[rng.IntN(n)]
		}
		slices.Sort(resample)
		meds[i] = median(resample)
	}
	slices.Sort(meds)
	return meds[bootstrapResamples*25/1000], meds[bootstrapResamples*975/1000-1]
}

// bootstrapResamples is enough for the interval's ends to move by less
// than the two decimals reported.
const bootstrapResamples = 4000

// roundDuration is one phase of an interleaved round by default.
const roundDuration = time.Second

// interleave runs Config.Rounds rounds of the small size: the durable-create
// yardstick, then each mode's PUT, then the net/http yardstick's GET and
// each mode's GET, RoundDuration each and each begun quiesced, and sets
// the report's median ratios: PUT none to durable-create, GET none to
// net/http, and every other mode's PUT and GET to none's.
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
	addRatio := func(name string, a, z float64) {
		if a <= 0 || z <= 0 {
			return
		}
		if _, ok := ratios[name]; !ok {
			names = append(names, name)
		}
		ratios[name] = append(ratios[name], a/z)
	}
	add := func(name string, a, z Result) {
		if a.Errors > 0 || z.Errors > 0 {
			return
		}
		addRatio(name, a.OpsPerSec, z.OpsPerSec)
		// The servers' CPU per request, steadier than the rates on a
		// shared machine: it does not move when the client or another
		// process takes the cores for a while.
		addRatio(cpuRatioPrefix+name, a.ServerCPUMsPerOp, z.ServerCPUMsPerOp)
	}
	// Each phase starts with the page cache written back and the servers
	// idle, as the provider rounds' phases do (kmsrounds.go): the
	// writeback of the PUTs before it and a server's tail of work (a GC
	// cycle, a group commit) otherwise land in whichever phase comes next
	// (the first GET phase after the PUTs was often its round's slowest).
	watch, window := []int{b.pid, b.rep.YardstickPID}, b.settleWindow()
	var waited time.Duration
	unsettled := 0
	quiesce := func() {
		syscall.Sync()
		w, ok := settle(ctx, watch, window)
		waited += w
		if !ok {
			unsettled++
		}
	}
	defer func() {
		note := fmt.Sprintf("interleaved rounds: each phase began after sync(2) and %s of idle servers; waited %.1fs in all", window, waited.Seconds())
		if unsettled > 0 {
			note += fmt.Sprintf("; %d phases started busy after %s", unsettled, settleTries*window)
		}
		b.rep.Notes = append(b.rep.Notes, note)
	}()
	// phase runs one side of a round, with its server's CPU per request.
	phase := func(e *endpoint, pid int, m Mode, op, target string) Result {
		quiesce()
		cpu0 := treeCPU(pid)
		r := rb.phase(ctx, e, m, op, size, workers, 0, target)
		if pid > 0 && r.Ops > 0 {
			r.ServerCPUMsPerOp = ms(treeCPU(pid)-cpu0) / float64(r.Ops)
		}
		return r
	}
	if b.yard.getWritten("", size).n(0) == 0 {
		// The yardstick's GETs read the keys its PUTs named (--only
		// phases may have skipped them).
		rb.phase(ctx, b.yard, Mode{Name: ""}, "PUT", size, workers, 0, "net/http")
	}
	for round := range c.Rounds {
		quiesce()
		y, err := durableCreate(ctx, createDir, b.sr.client.data, size, workers, 0, rb.cfg.Duration)
		if err != nil {
			return fmt.Errorf("bench: durable-create yardstick: %w", err)
		}
		rb.progress(y)
		for _, op := range []string{"PUT", "GET"} {
			// Each round starts the op's phases at a different one, so
			// that no side always runs first (after the PUTs' writeback,
			// say) or last.
			sides := len(c.Modes)
			if op == "GET" {
				sides++ // the net/http yardstick's GET
			}
			got := make([]Result, sides)
			for j := range sides {
				i := (round + j) % sides
				if i == len(c.Modes) {
					got[i] = phase(b.yard, b.rep.YardstickPID, Mode{Name: ""}, op, "net/http")
					continue
				}
				// Fresh keys every round: a PUT creates, as the yardstick does.
				rm := c.Modes[i]
				rm.Name = fmt.Sprintf("%s-r%d", rm.Name, round)
				got[i] = phase(b.sr, b.pid, rm, op, "strongroom")
			}
			base := c.Modes[0].Name
			if op == "PUT" {
				add(ratioName(op, int64(size), base, "durable-create"), got[0], y)
			} else {
				add(ratioName(op, int64(size), base, "net/http"), got[0], got[len(c.Modes)])
			}
			for i, m := range c.Modes[1:] {
				add(ratioName(op, int64(size), m.Name, base), got[i+1], got[0])
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	for _, name := range names {
		b.rep.Interleaved = append(b.rep.Interleaved, newInterleaved(name, ratios[name]))
	}
	return nil
}

// ratioName names an interleaved ratio ("GET 4 KiB sse-s3 / none"); the
// judge finds a figure's median by it.
func ratioName(op string, size int64, mode, ref string) string {
	return fmt.Sprintf("%s %s %s / %s", op, sizeName(size), mode, ref)
}

// cpuRatioPrefix names the interleaved ratios of server CPU per request
// (lower is cheaper), beside the rate ratios of the same name.
const cpuRatioPrefix = "server CPU/op: "

// interleaved is the interleaved ratio name, if the run measured it.
func (r *Report) interleaved(name string) (Interleaved, bool) {
	for _, x := range r.Interleaved {
		if x.Name == name {
			return x, true
		}
	}
	return Interleaved{}, false
}

// writeInterleaved adds the interleaved ratios to the table report.
func (r *Report) writeInterleaved(w io.Writer) {
	if len(r.Interleaved) == 0 {
		return
	}
	fmt.Fprintf(w, "\ninterleaved rounds (%d): median ratio (min-max; 95%% confidence interval of the median)\n", len(r.Interleaved[0].Ratios))
	for _, x := range r.Interleaved {
		fmt.Fprintf(w, "  %-44s %5.2f  (%.2f-%.2f; %.2f-%.2f)\n", x.Name, x.Median, x.Min, x.Max, x.CILow, x.CIHigh)
	}
}
