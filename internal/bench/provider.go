package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// ProviderRun is a key provider to compare with the builtin keyring: a
// second child server started with ServeArgs (e.g. --kms pkcs11 and its
// flags) runs every SSE-KMS mode of the run, reported as "<mode>@<Name>"
// with its ratio to the same mode on the builtin keyring.
type ProviderRun struct {
	Name      string
	ServeArgs []string
	Env       []string // added to the child's environment (e.g. SOFTHSM2_CONF)
	// KMSPID is the external key server's process (PyKMIP), whose CPU the
	// rounds account and wait to settle (0: none, or in-process as PKCS#11).
	KMSPID int
}

// providerEndpoint is a started ProviderRun.
type providerEndpoint struct {
	name   string
	e      *endpoint
	modes  []Mode // the run's SSE-KMS modes, renamed
	pid    int    // the child server
	kmsPID int    // ProviderRun.KMSPID
}

const providerSep = "@"

func isKMSMode(m Mode) bool { return strings.HasPrefix(m.Name, "sse-kms") }

// startProviders starts one child per ProviderRun; stop stops them all.
func startProviders(ctx context.Context, cfg Config, work string, base *endpoint) (ps []providerEndpoint, stop func(), err error) {
	var children []*child
	stop = func() {
		for _, c := range children {
			c.stop()
		}
	}
	for _, p := range cfg.Providers {
		var modes []Mode
		for _, m := range cfg.Modes {
			if isKMSMode(m) {
				m.Name += providerSep + p.Name
				modes = append(modes, m)
			}
		}
		if len(modes) == 0 {
			continue
		}
		start := time.Now()
		c, err := startChild(ctx, cfg.ServerCmd, append(append([]string(nil), cfg.ServerEnv...), p.Env...), filepath.Join(work, p.Name, "data"), p.ServeArgs)
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("bench: starting the %s server: %w", p.Name, err)
		}
		children = append(children, c)
		fmt.Fprintf(cfg.Progress, "%s server started in %.1fs\n", p.Name, time.Since(start).Seconds())
		e := &endpoint{client: base.client, base: c.url, accessKey: c.accessKey, secretKey: c.secretKey, bucket: base.bucket}
		if err := e.createBucket(ctx); err != nil {
			stop()
			return nil, nil, fmt.Errorf("bench: creating bucket on the %s server: %w", p.Name, err)
		}
		ps = append(ps, providerEndpoint{name: p.Name, e: e, modes: modes, pid: c.pid, kmsPID: p.KMSPID})
	}
	return ps, stop, nil
}

// providerPhases runs op at one size on every provider's server.
func (b *run) providerPhases(ctx context.Context, op string, size, workers, keep int) {
	for _, p := range b.providers {
		for _, m := range p.modes {
			r := b.phase(ctx, p.e, m, op, size, workers, keep, "strongroom")
			b.rep.Results = append(b.rep.Results, r)
		}
	}
}

// providerModes are the renamed modes the providers ran.
func (b *run) providerModes() []Mode {
	var out []Mode
	for _, p := range b.providers {
		out = append(out, p.modes...)
	}
	return out
}

// judgeProvider fills a provider figure's ratio to the builtin keyring
// and, for PUTs with bucket keys, the target (>= 0.9 of builtin). Without
// bucket keys every PUT makes a KMS round trip: its estimate (the p50
// difference) and share of the PUT go in the report's notes.
func (b *run) judgeProvider(f *Figure, r *Result, find func(mode, op string, size int64) *Result, small bool) {
	base, prov, _ := strings.Cut(f.Mode, providerSep)
	n := find(base, r.Op, r.Size)
	if n == nil {
		return
	}
	nv := n.MBps
	if small {
		nv = n.OpsPerSec
	}
	if nv > 0 {
		f.VsBuiltin = f.Value / nv
	}
	// With rounds, the ratio is the median of the rounds' (kmsrounds.go).
	spread := ""
	if x, ok := b.rep.interleaved(kmsRatioName(r.Op, int(r.Size), f.Mode)); ok {
		f.VsBuiltin = x.Median
		spread = fmt.Sprintf(" (median of %d rounds, %.2f-%.2f; 95%% CI %.2f-%.2f)", len(x.Ratios), x.Min, x.Max, x.CILow, x.CIHigh)
	}
	if strings.HasSuffix(base, "-bk") {
		if r.Op == "PUT" && r.KMSCallsPerOp > 0 {
			b.kmsNotes(prov, r, n)
		}
		if f.VsBuiltin > 0 && r.Op == "PUT" { // the target is on PUTs
			f.Target = ">= 0.90 x builtin" + spread
			ok := f.VsBuiltin >= 0.9 && r.Errors == 0
			f.Pass = &ok
		}
		return
	}
	if r.Op == "PUT" && r.KMSCallsPerOp > 0 {
		b.kmsNotes(prov, r, n)
		return
	}
	if r.Op == "PUT" && r.P50ms > 0 {
		rt := r.P50ms - n.P50ms
		note := fmt.Sprintf("%s PUT %s: KMS round trip ~%.2f ms per request (p50 %.2f vs builtin %.2f ms), %.0f%% of the PUT", prov, sizeName(r.Size), rt, r.P50ms, n.P50ms, 100*rt/r.P50ms)
		if rt <= 0 {
			note = fmt.Sprintf("%s PUT %s: no KMS round trip measurable over the noise (p50 %.2f vs builtin %.2f ms)", prov, sizeName(r.Size), r.P50ms, n.P50ms)
		}
		b.rep.Notes = append(b.rep.Notes, note)
	}
}
