package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms/kmip/kmiptest"
	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11"
	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11/softhsm"
)

// KMS provider comparison (Config.KMSProviders, `strongroom bench --only
// kms`): the bench makes its own SoftHSM2 token and runs its own PyKMIP
// server, and compares SSE-KMS PUTs and GETs on a child server using each
// with the builtin keyring, in the same run. A missing tool skips its
// provider's rows, with a note (Report.ProvidersSkipped): the bench is not
// CI, but the test of this mode fails on a skip.

// startKMSServers adds a ProviderRun per external provider whose server it
// could start in work; stop stops them.
func startKMSServers(cfg *Config, rep *Report, work string) (stop func()) {
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
	}
	skip := func(name string, err error) {
		msg := fmt.Sprintf("%s provider rows skipped: %v", name, err)
		rep.ProvidersSkipped = append(rep.ProvidersSkipped, msg)
		rep.Notes = append(rep.Notes, msg)
		fmt.Fprintln(cfg.Progress, msg)
	}

	dir := filepath.Join(work, "softhsm")
	tok, err := func() (softhsm.Token, error) {
		if !cgoBuild {
			return softhsm.Token{}, pkcs11.ErrNoCgo
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return softhsm.Token{}, err
		}
		return softhsm.NewToken(dir, "strongroom-bench")
	}()
	if err != nil {
		skip("pkcs11", err)
	} else {
		cfg.Providers = append(cfg.Providers, ProviderRun{Name: "pkcs11", Env: tok.Env(), ServeArgs: []string{
			"--kms=pkcs11", "--pkcs11-module=" + tok.Module, "--pkcs11-token=" + tok.Label, "--pkcs11-pin-file=" + tok.PINFile}})
	}

	dir = filepath.Join(work, "pykmip")
	start := time.Now()
	srv, err := func() (*kmiptest.Server, error) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		return kmiptest.New(dir)
	}()
	if err != nil {
		skip("kmip", err)
	} else {
		stops = append(stops, srv.Stop)
		fmt.Fprintf(cfg.Progress, "PyKMIP server started on %s in %.1fs\n", srv.Addr, time.Since(start).Seconds())
		cfg.Providers = append(cfg.Providers, ProviderRun{Name: "kmip", KMSPID: srv.PID(), ServeArgs: []string{
			"--kms=kmip", "--kmip-addr=" + srv.Addr, "--kmip-cert=" + srv.CertFile, "--kmip-key=" + srv.KeyFile, "--kmip-ca=" + srv.CAFile}})
	}
	return stop
}

// kmsStats is the server's key provider calls so far, from its metrics
// (the kms.Counting every node wraps its provider in).
type kmsStats struct {
	calls   float64
	seconds float64
}

const kmsMetric = "strongroom_kms_call_duration_seconds"

// scrapeKMS reads e's /metrics; ok is false when it can't (an external
// server that wants a token).
func scrapeKMS(ctx context.Context, e *endpoint) (s kmsStats, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/metrics", nil)
	if err != nil {
		return s, false
	}
	resp, err := e.client.hc.Do(req)
	if err != nil {
		return s, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return s, false
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*KiB), MiB)
	for sc.Scan() {
		line := sc.Text()
		var dst *float64
		switch {
		case strings.HasPrefix(line, kmsMetric+"_sum"):
			dst = &s.seconds
		case strings.HasPrefix(line, kmsMetric+"_count"):
			dst = &s.calls
		default:
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			*dst += v
		}
	}
	return s, sc.Err() == nil
}

// kmsProbe measures the key provider calls a phase of an SSE-KMS mode
// makes on e: call it before the phase, and the function it returns
// after, on the phase's result.
func (b *run) kmsProbe(ctx context.Context, e *endpoint, m Mode) func(*Result) {
	if !isKMSMode(m) {
		return func(*Result) {}
	}
	before, ok := scrapeKMS(ctx, e)
	if !ok {
		return func(*Result) {}
	}
	return func(r *Result) {
		after, ok := scrapeKMS(ctx, e)
		if !ok || r.Ops == 0 {
			return
		}
		calls, secs := after.calls-before.calls, after.seconds-before.seconds
		r.KMSCallsPerOp = calls / float64(r.Ops)
		if calls > 0 {
			r.KMSCallMs = secs / calls * 1e3
		}
		// The mean request time, from the rate at this concurrency.
		if r.OpsPerSec > 0 {
			mean := float64(r.Workers) / r.OpsPerSec * 1e3
			r.KMSShare = r.KMSCallsPerOp * r.KMSCallMs / mean
		}
	}
}

// kmsNote describes a PUT phase's key provider round trips.
func kmsNote(prov string, r *Result) string {
	return fmt.Sprintf("%s PUT %s: %.3f KMS calls per request, %.3f ms each (measured in the server), %.0f%% of the mean PUT time",
		prov, sizeName(r.Size), r.KMSCallsPerOp, r.KMSCallMs, 100*r.KMSShare)
}

// kmsNotes notes a provider's PUT phase's KMS round trips, and the
// builtin keyring's in the same mode once.
func (b *run) kmsNotes(prov string, r, builtin *Result) {
	b.rep.Notes = append(b.rep.Notes, kmsNote(prov+" "+r.Mode[:strings.Index(r.Mode, providerSep)], r))
	if builtin.KMSCallsPerOp > 0 {
		if n := kmsNote("builtin "+builtin.Mode, builtin); !slices.Contains(b.rep.Notes, n) {
			b.rep.Notes = append(b.rep.Notes, n)
		}
	}
}

// mergeRounds sums the rounds of one phase. The latencies are not kept
// per request: p50 is the rounds' p50 weighted by their operations, p99
// the worst round's.
func mergeRounds(rs []Result) Result {
	out := rs[0]
	out.Ops, out.Errors, out.Bytes, out.Seconds, out.P50ms, out.P99ms = 0, 0, 0, 0, 0, 0
	var calls, callSecs, cpuMs, kmsCPU float64
	for _, r := range rs {
		cpuMs += r.ServerCPUMsPerOp * float64(r.Ops)
		kmsCPU += r.KMSServerCPU * r.Seconds
		out.Ops += r.Ops
		out.Errors += r.Errors
		out.Bytes += r.Bytes
		out.Seconds += r.Seconds
		out.P50ms += r.P50ms * float64(r.Ops)
		out.P99ms = max(out.P99ms, r.P99ms)
		if out.FirstErr == "" {
			out.FirstErr = r.FirstErr
		}
		c := r.KMSCallsPerOp * float64(r.Ops)
		calls += c
		callSecs += c * r.KMSCallMs
	}
	if out.Seconds > 0 {
		out.MBps = float64(out.Bytes) / out.Seconds / 1e6
		out.OpsPerSec = float64(out.Ops) / out.Seconds
	}
	out.KMSCallsPerOp, out.KMSCallMs, out.KMSShare = 0, 0, 0
	out.ServerCPUMsPerOp, out.KMSServerCPU = 0, 0
	if out.Seconds > 0 {
		out.KMSServerCPU = kmsCPU / out.Seconds
	}
	if out.Ops > 0 {
		out.ServerCPUMsPerOp = cpuMs / float64(out.Ops)
		out.P50ms /= float64(out.Ops)
		out.KMSCallsPerOp = calls / float64(out.Ops)
	}
	if calls > 0 {
		out.KMSCallMs = callSecs / calls
	}
	if out.OpsPerSec > 0 {
		out.KMSShare = out.KMSCallsPerOp * out.KMSCallMs / (float64(out.Workers) / out.OpsPerSec * 1e3)
	}
	return out
}
