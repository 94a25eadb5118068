package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// cpuProfileHz is the sampling rate of --cpuprofile: 2.5 times
// runtime/pprof's 100 Hz, for a 4 KiB request takes some tens of
// microseconds of CPU, and at 100 Hz a mode's share of a run is too few
// samples to compare. Not more: Linux checks CPU timers once per tick, and
// at CONFIG_HZ=250 (this VM's; common) a higher rate still gives 250
// samples a second, each counted as 1/rate seconds, so the profile would
// under-report every time. (The runtime prints "cannot set cpu profile
// rate until previous profile has finished" when StartCPUProfile then asks
// for 100 Hz; the rate set here stays.)
const cpuProfileHz = 250

// startCPUProfile writes a CPU profile to path until the returned stop.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	runtime.SetCPUProfileRate(cpuProfileHz)
	if err := pprof.StartCPUProfile(f); err != nil {
		// Another profile is running (the one error StartCPUProfile
		// has), so the rate above was refused; setting it back to 0
		// here would stop that profile's sampling.
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
