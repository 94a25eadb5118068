package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as a human-readable table.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "strongroom bench: %s, %d CPUs, load %s -> %s, %.0fs\n", r.GoVersion, r.CPUs, r.LoadAvg, r.LoadAvgEnd, r.Elapsed)
	fmt.Fprintf(w, "server %s", r.Endpoint)
	if r.ServerPID > 0 {
		fmt.Fprintf(w, " (pid %d)", r.ServerPID)
	}
	if r.DataDir != "" {
		fmt.Fprintf(w, ", data %s", r.DataDir)
	}
	proto := "HTTP"
	if r.TLS {
		proto = "HTTPS (server and net/http yardstick)"
	}
	fmt.Fprintf(w, "\n4 KiB at concurrency %d, 1 MiB and 64 MiB with %d streams, %.1fs per phase, over %s; modes: %s\n\n",
		r.Concurrency, r.Streams, r.Duration, proto, strings.Join(r.Modes, ", "))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "yardstick\top\tsize\tMB/s\tops/s\tp50 ms\tp99 ms\t")
	for _, y := range r.Yardsticks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.0f\t%.2f\t%.2f\t%s\n", y.Target, y.Op, sizeName(y.Size), y.MBps, y.OpsPerSec, y.P50ms, y.P99ms, errNote(y.Errors, y.FirstErr))
	}
	tw.Flush()
	fmt.Fprintln(w)

	hasVsNone, hasDisk, hasVsBuiltin := false, false, false
	for _, f := range r.Figures {
		if f.VsNone > 0 {
			hasVsNone = true
		}
		if f.VsBuiltin > 0 {
			hasVsBuiltin = true
		}
		if f.Disk > 0 {
			hasDisk = true
		}
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	hdr := "figure\tmode\tstrongroom\tp50/p99 ms\tyardstick\tratio\t"
	if hasVsNone {
		hdr += "x none\t"
	}
	if hasDisk {
		hdr += "x disk\t"
	}
	if hasVsBuiltin {
		hdr += "x builtin\t"
	}
	fmt.Fprintln(tw, hdr+"target\t")
	for _, f := range r.Figures {
		val := fmt.Sprintf("%.1f %s", f.Value, f.Unit)
		if f.Unit == "ops/s" {
			val = fmt.Sprintf("%.0f %s", f.Value, f.Unit)
		}
		lat := ""
		if f.P50ms > 0 {
			lat = fmt.Sprintf("%.2f / %.2f", f.P50ms, f.P99ms)
		}
		yard, ratio := "", ""
		if f.Yardstick != "" {
			u := "MB/s"
			if f.Unit == "ops/s" {
				u = "ops/s"
			}
			yard = fmt.Sprintf("%s %.0f %s", f.Yardstick, f.YardValue, u)
			ratio = fmt.Sprintf("%.2f", f.Ratio)
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t", f.Name, f.Mode, val, lat, yard, ratio)
		if hasVsNone {
			vs := ""
			if f.VsNone > 0 {
				vs = fmt.Sprintf("%.2f", f.VsNone)
			}
			line += vs + "\t"
		}
		if hasDisk {
			d := ""
			if f.Disk > 0 {
				d = fmt.Sprintf("%.2f", f.Value/f.Disk)
			}
			line += d + "\t"
		}
		if hasVsBuiltin {
			v := ""
			if f.VsBuiltin > 0 {
				v = fmt.Sprintf("%.2f", f.VsBuiltin)
			}
			line += v + "\t"
		}
		verdict := f.Target
		if f.Pass != nil {
			if *f.Pass {
				verdict += " ok"
			} else {
				verdict += " MISSED"
			}
		}
		if f.Errors > 0 {
			verdict += fmt.Sprintf(" (%d errors)", f.Errors)
		}
		fmt.Fprintln(tw, line+verdict+"\t")
	}
	tw.Flush()
	for _, b := range r.Big {
		fmt.Fprintf(w, "\nbig: %s %s in %.1fs, %.1f MB/s, server peak RSS %.1f MiB%s", b.Op, sizeName(b.Size), b.Seconds, b.MBps, float64(b.PeakRSS)/MiB, errNote(b.Errors, b.FirstErr))
	}
	if len(r.Big) > 0 {
		fmt.Fprintln(w)
	}
	for _, res := range r.Results {
		if res.Errors > 0 {
			fmt.Fprintf(w, "\nerrors: %s %s %s: %d, first: %s", res.Mode, res.Op, sizeName(res.Size), res.Errors, res.FirstErr)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "\nnote: %s", n)
	}
	if hasDisk {
		fmt.Fprint(w, "\nx disk: the PUT's rate over the durable-write yardstick (the same bodies written, fsynced, renamed and the directory fsynced, no network, no hashing) - the filesystem's ceiling for durable PUTs.")
	}
	fmt.Fprintln(w)
	r.writeInterleaved(w)
	return nil
}

func errNote(n int, first string) string {
	if n == 0 {
		return ""
	}
	if len(first) > 200 {
		first = first[:200] + "..."
	}
	return fmt.Sprintf("  %d ERRORS (%s)", n, first)
}

// Passed reports whether every figure with a target met it.
func (r *Report) Passed() bool {
	for _, f := range r.Figures {
		if f.Pass != nil && !*f.Pass {
			return false
		}
	}
	return true
}
