// Package e2eutil holds what every end-to-end test package needs: a clean
// environment for the cloud SDKs and a goroutine-safe log sink.
package e2eutil

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
)

// Main runs a test binary after clearing the environment the cloud SDKs
// read: this machine sets AWS_CA_BUNDLE (which breaks aws-sdk-go-v2's
// config loading with a custom HTTP client), and AWS_*, OSS_*,
// ALIBABA_CLOUD_* or proxy variables would send the SDKs elsewhere.
// t.Setenv cannot do this for parallel tests; unsetting once, first, can.
//
//	func TestMain(m *testing.M) { e2eutil.Main(m) }
func Main(m *testing.M) {
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		for _, p := range []string{"AWS_", "OSS_", "ALIBABA_CLOUD_"} {
			if strings.HasPrefix(k, p) {
				os.Unsetenv(k)
			}
		}
		if strings.EqualFold(k, "HTTP_PROXY") || strings.EqualFold(k, "HTTPS_PROXY") {
			os.Unsetenv(k)
		}
	}
	os.Exit(m.Run())
}

// LogBuffer is a goroutine-safe sink for a node's logs.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Bytes returns a copy of what was logged so far.
func (l *LogBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// String returns what was logged so far.
func (l *LogBuffer) String() string { return string(l.Bytes()) }
