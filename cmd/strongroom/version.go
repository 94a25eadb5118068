package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at release builds: -ldflags "-X main.version=v1.2.3".
// Otherwise the module version (a `go install ...@vX` build) or "devel".
var version = ""

// versionString is "strongroom VERSION (commit COMMIT[, modified]) GOVERSION
// OS/ARCH", from what the build recorded.
func versionString() string {
	v, commit, dirty := version, "unknown", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	if dirty {
		commit += ", modified"
	}
	return fmt.Sprintf("strongroom %s (commit %s) %s %s/%s", v, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
