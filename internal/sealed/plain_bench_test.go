package sealed

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time: on a shared machine it is
// a steadier cost measure than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-ns/MiB metric for what ran since start.
func reportCPU(b *testing.B, start time.Duration, bytes int64) {
	b.ReportMetric(float64(cpuTime()-start)/(float64(b.N)*float64(bytes)/(1<<20)), "cpu-ns/MiB")
}

// BenchmarkPlainRead reads a 64 MiB plain blob from a file through a range
// reader into 1 MiB buffers (as the service's read pipeline does), against
// raw ReadAt of the same bytes and the checksum alone.
func BenchmarkPlainRead(b *testing.B) {
	const size = 64 << 20
	pt := pattern(size, 1)
	dir := b.TempDir()
	raw := filepath.Join(dir, "raw")
	framed := filepath.Join(dir, "framed")
	if err := os.WriteFile(raw, pt, 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(framed, frame(b, 0, pt, 1<<20), 0o600); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.Run("raw", func(b *testing.B) {
		f, _ := os.Open(raw)
		defer f.Close()
		b.SetBytes(size)
		defer reportCPU(b, cpuTime(), size)
		for range b.N {
			r := io.NewSectionReader(f, 0, size)
			for {
				if _, err := io.ReadFull(r, buf); err != nil {
					break
				}
			}
		}
	})
	b.Run("plain", func(b *testing.B) {
		f, _ := os.Open(framed)
		defer f.Close()
		fi, _ := f.Stat()
		b.SetBytes(size)
		defer reportCPU(b, cpuTime(), size)
		for range b.N {
			pr, err := NewPlainReader(f, fi.Size())
			if err != nil {
				b.Fatal(err)
			}
			r := pr.NewRangeReader(0, size)
			for {
				if _, err := io.ReadFull(r, buf); err != nil {
					break
				}
			}
		}
	})
	b.Run("checksum", func(b *testing.B) {
		var hdr [PlainHeaderSize]byte
		b.SetBytes(size)
		defer reportCPU(b, cpuTime(), size)
		for range b.N {
			for i := 0; i < size; i += DefaultSegmentSize {
				segmentSum(&hdr, uint64(i), false, pt[i:i+DefaultSegmentSize])
			}
		}
	})
}
