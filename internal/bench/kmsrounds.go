package bench

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The provider comparison's rounds (Config.KMSRounds). Three things made
// one run's ratio to builtin swing by 0.1 with no KMS call in the path:
//   - a round ran every phase of one server back to back, so a provider's
//     bucket-key phase always followed its own no-bucket-key phase;
//   - PyKMIP (one Python process) was still answering that phase's calls,
//     up to a worker's worth in flight at 70+ ms each, and took a core
//     from the next phase's server;
//   - the merged rounds hid how far single rounds spread.
// So a round runs one mode on builtin and on every provider back to back
// (phases of the same kind side by side), the order within it rotates
// each round, every phase starts once the servers and the key server are
// idle, and a provider figure's ratio is the median of its rounds' ratios,
// reported with their range (Report.Interleaved).

// settleWindow is how long the servers must stay idle before a phase;
// the wait gives up after settleTries windows (15 s).
const (
	settleWindow = 200 * time.Millisecond
	settleTries  = 75
)

// kmsSubject is one server and mode of the comparison.
type kmsSubject struct {
	e    *endpoint
	m    Mode
	base string // the mode without "@provider"
	pid  int    // the child server
}

// kmsRounds runs one op and size of the provider comparison in rounds;
// it reports whether it did (false: not a rounds run). Other modes run
// once, as usual.
func (b *run) kmsRounds(ctx context.Context, op string, size, workers, keep int) bool {
	rounds := b.cfg.KMSRounds
	if rounds <= 1 || len(b.providers) == 0 {
		return false
	}
	var subjects []kmsSubject
	groups := map[string][]int{} // base mode -> subjects, builtin first
	var order []string
	add := func(s kmsSubject) {
		if _, ok := groups[s.base]; !ok {
			order = append(order, s.base)
		}
		groups[s.base] = append(groups[s.base], len(subjects))
		subjects = append(subjects, s)
	}
	for _, m := range b.cfg.Modes {
		if !isKMSMode(m) {
			r := b.phase(ctx, b.sr, m, op, size, workers, keep, "strongroom")
			r.PeakRSS = peakRSS(b.pid)
			b.rep.Results = append(b.rep.Results, r)
			continue
		}
		add(kmsSubject{e: b.sr, m: m, base: m.Name, pid: b.pid})
	}
	watch := []int{b.pid}
	var kmsPIDs []int
	for _, p := range b.providers {
		watch = append(watch, p.pid)
		if p.kmsPID > 0 {
			watch = append(watch, p.kmsPID)
			kmsPIDs = append(kmsPIDs, p.kmsPID)
		}
		for _, m := range p.modes {
			base, _, _ := strings.Cut(m.Name, providerSep)
			add(kmsSubject{e: p.e, m: m, base: base, pid: p.pid})
		}
	}

	window := b.settleWindow()
	full := b.cfg.Duration
	b.cfg.Duration = max(full/time.Duration(rounds), 50*time.Millisecond)
	defer func() { b.cfg.Duration = full }()
	got := make([][]Result, len(subjects))
	var waited, longest time.Duration
	var longestAfter string
	unsettled := 0
	prev := "the start"
	tail := map[string]time.Duration{} // key server CPU after a phase ended, by phase
	defer func() {
		if len(tail) == 0 {
			return
		}
		var parts []string
		for _, p := range slices.Sorted(maps.Keys(tail)) {
			parts = append(parts, fmt.Sprintf("%s %.2f", p, tail[p].Seconds()))
		}
		b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("kms rounds, %s %s: the key server's CPU after the phases ended, before the next began (CPU-s over %d rounds, by the phase before): %s",
			op, sizeName(int64(size)), rounds, strings.Join(parts, ", ")))
	}()
	for r := range rounds {
		for _, base := range order {
			g := groups[base]
			for _, i := range rotate(g, r) {
				s := subjects[i]
				k0 := treeCPUs(kmsPIDs...)
				w, ok := settle(ctx, watch, window)
				if len(kmsPIDs) > 0 {
					tail[prev] += treeCPUs(kmsPIDs...) - k0
				}
				waited += w
				if w > longest {
					longest, longestAfter = w, prev
				}
				if !ok {
					unsettled++
				}
				m := s.m
				m.Name += ".r" + strconv.Itoa(r) // a key name part: no "#" (a URL fragment)
				cpu0, kcpu0 := treeCPUs(s.pid), treeCPUs(kmsPIDs...)
				res := b.phase(ctx, s.e, m, op, size, workers, keep, "strongroom")
				cpu, kcpu := treeCPUs(s.pid)-cpu0, treeCPUs(kmsPIDs...)-kcpu0
				if res.Ops > 0 {
					res.ServerCPUMsPerOp = ms(cpu) / float64(res.Ops)
				}
				if res.Seconds > 0 {
					res.KMSServerCPU = kcpu.Seconds() / res.Seconds
				}
				got[i] = append(got[i], res)
				prev = s.m.Name
			}
		}
	}
	merged := make([]Result, len(subjects))
	for i, s := range subjects {
		res := mergeRounds(got[i])
		res.Mode = s.m.Name
		if s.e == b.sr {
			res.PeakRSS = peakRSS(b.pid)
		}
		merged[i] = res
		b.rep.Results = append(b.rep.Results, res)
	}
	small := size == b.cfg.SmallSize
	for _, base := range order {
		g := groups[base]
		ref := g[0]
		for _, i := range g[1:] {
			var ratios []float64
			for r := range rounds {
				if v, z := figureValue(got[i][r], small), figureValue(got[ref][r], small); z > 0 && got[i][r].Errors == 0 {
					ratios = append(ratios, v/z)
				}
			}
			if len(ratios) > 0 {
				b.rep.Interleaved = append(b.rep.Interleaved, newInterleaved(kmsRatioName(op, size, subjects[i].m.Name), ratios))
			}
			if op == "PUT" {
				p, x := merged[i], merged[ref]
				b.rep.Notes = append(b.rep.Notes, fmt.Sprintf("%s PUT %s: node CPU %.3f ms per PUT (builtin %.3f); key server CPU during the phase %.2f cores (builtin's phase %.2f)",
					subjects[i].m.Name, sizeName(int64(size)), p.ServerCPUMsPerOp, x.ServerCPUMsPerOp, p.KMSServerCPU, x.KMSServerCPU))
			}
		}
	}
	note := fmt.Sprintf("kms rounds, %s %s: waited %.1fs in all for the servers and the key server to idle before phases (longest %.1fs, after %s)",
		op, sizeName(int64(size)), waited.Seconds(), longest.Seconds(), longestAfter)
	if unsettled > 0 {
		note += fmt.Sprintf("; %d phases started busy after %s", unsettled, settleTries*window)
	}
	b.rep.Notes = append(b.rep.Notes, note)
	return true
}

// rotate is g starting at element r (mod its length): round r's order.
func rotate(g []int, r int) []int {
	k := r % len(g)
	return append(slices.Clone(g[k:]), g[:k]...)
}

// figureValue is what a figure of r reports: ops/s for the small size,
// MB/s otherwise.
func figureValue(r Result, small bool) float64 {
	if small {
		return r.OpsPerSec
	}
	return r.MBps
}

// kmsRatioName names a provider phase's per-round ratios in
// Report.Interleaved.
func kmsRatioName(op string, size int, mode string) string {
	return fmt.Sprintf("%s %s %s / builtin", op, sizeName(int64(size)), mode)
}

// settleWindow is the window in which the servers must stay idle before
// a phase of rounds.
func (b *run) settleWindow() time.Duration {
	if b.cfg.settle > 0 {
		return b.cfg.settle
	}
	return settleWindow
}

// settle waits until the processes in pids (and their children) use less
// than a tenth of a core over a window, or settleTries windows have passed
// (ok false), and says how long it waited.
func settle(ctx context.Context, pids []int, window time.Duration) (waited time.Duration, ok bool) {
	start := time.Now()
	last := treeCPUs(pids...)
	for range settleTries {
		select {
		case <-ctx.Done():
			return time.Since(start), false
		case <-time.After(window):
		}
		cur := treeCPUs(pids...)
		if cur-last <= window/10 {
			return time.Since(start), true
		}
		last = cur
	}
	return time.Since(start), false
}

// treeCPUs is the CPU time of the processes in pids and their children.
func treeCPUs(pids ...int) time.Duration {
	var d time.Duration
	for _, p := range pids {
		d += treeCPU(p)
	}
	return d
}
