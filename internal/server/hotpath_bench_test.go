package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// The 4 KiB PUT and GET benchmarks run a whole signed request through the
// node's HTTP handler in process (routing, SigV4, authorization, the
// service, sealing, metadata and blob stores; no sockets), so allocs/op
// and profiles show the server's own request path. Requests are signed
// before the timer starts.
//
//	go test -run '^$' -bench 'Hot4K' -benchmem ./internal/server/

var hotModes = []struct {
	name string
	hdr  map[string]string
}{
	{"plain", nil},
	{"sse-s3", map[string]string{"X-Amz-Server-Side-Encryption": "AES256"}},
	{"sse-kms-bk", map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled": "true"}},
}

// hotNode opens a node on a temporary data directory with a bucket.
func hotNode(b testing.TB) *server.Node {
	b.Helper()
	n, err := server.Open(context.Background(), server.Config{DataDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler),
		Addr: "127.0.0.1:0", NoBackgroundJobs: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.Close(ctx)
	})
	w := serve(b, n, signed(n, http.MethodPut, "/bkt", nil, nil))
	if w.code != http.StatusOK {
		b.Fatalf("create bucket: %d %s", w.code, w.body.String())
	}
	return n
}

func signed(n *server.Node, method, path string, body []byte, hdr map[string]string) *http.Request {
	req, _ := http.NewRequest(method, "http://127.0.0.1"+path, nil)
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	auth.SignV4(req, n.Root.AccessKey, n.Root.SecretKey, "us-east-1", time.Now(), "")
	return req
}

// sink is a ResponseWriter that keeps the status and counts the body.
type sink struct {
	h    http.Header
	code int
	n    int
	body bytes.Buffer // only when keep
	keep bool
}

func (s *sink) Header() http.Header { return s.h }
func (s *sink) WriteHeader(c int) {
	if s.code == 0 {
		s.code = c
	}
}
func (s *sink) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	s.n += len(p)
	if s.keep {
		s.body.Write(p)
	}
	return len(p), nil
}

func serve(b testing.TB, n *server.Node, req *http.Request) *sink {
	w := &sink{h: http.Header{}, keep: true}
	n.Handler().ServeHTTP(w, req)
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w
}

// hotLoop runs b.N requests made by mk (all signed before the timer
// starts) through the handler from 8 goroutines, as `strongroom bench`
// runs its 4 KiB phases at concurrency 8; each must be answered with want.
func hotLoop(b *testing.B, n *server.Node, want int, mk func(i int) *http.Request) {
	h := n.Handler()
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = mk(i)
	}
	var next atomic.Int64
	b.SetParallelism(4) // 8 goroutines on 2 CPUs
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		w := &sink{h: http.Header{}}
		for pb.Next() {
			r := reqs[next.Add(1)-1]
			clear(w.h)
			w.code, w.n = 0, 0
			h.ServeHTTP(w, r)
			if w.code == 0 {
				w.code = http.StatusOK
			}
			if w.code != want {
				b.Errorf("%s %s: %d", r.Method, r.URL.Path, w.code)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	// On a shared machine CPU time per request is steadier than wall time.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkHot4KPut(b *testing.B) {
	data := make([]byte, 4<<10)
	rand.Read(data)
	for _, m := range hotModes {
		b.Run(m.name, func(b *testing.B) {
			n := hotNode(b)
			hotLoop(b, n, http.StatusOK, func(i int) *http.Request {
				return signed(n, http.MethodPut, fmt.Sprintf("/bkt/k%08d", i), data, m.hdr)
			})
		})
	}
}

// BenchmarkHot4KGet: GETs of 64 objects in turn, whose records and keys
// stay hot in the CPU's caches.
func BenchmarkHot4KGet(b *testing.B) { hotGets(b, 64) }

// BenchmarkHot4KGetMany: GETs spread over 8192 objects, as `strongroom
// bench` reads what its PUT phases wrote. Each GET touches cold
// per-object memory (the record, an encrypted object's cache entry and
// blob key), which 64 objects hide.
func BenchmarkHot4KGetMany(b *testing.B) { hotGets(b, 8192) }

// BenchmarkHot4KHead: HEADs spread over 8192 objects, which read the
// record and never the object's bytes.
func BenchmarkHot4KHead(b *testing.B) { hotReads(b, http.MethodHead, 8192) }

// hotGets PUTs as many 4 KiB objects as keys says in each mode, then GETs
// them in a stride that visits all before any again.
func hotGets(b *testing.B, keys int) { hotReads(b, http.MethodGet, keys) }

// hotReads is hotGets with the reading request's method.
func hotReads(b *testing.B, method string, keys int) {
	data := make([]byte, 4<<10)
	rand.Read(data)
	const stride = 7919 // a prime: coprime with any key count here
	for _, m := range hotModes {
		b.Run(m.name, func(b *testing.B) {
			n := hotNode(b)
			for i := range keys {
				if w := serve(b, n, signed(n, http.MethodPut, fmt.Sprintf("/bkt/k%05d", i), data, m.hdr)); w.code != http.StatusOK {
					b.Fatalf("put: %d %s", w.code, w.body.String())
				}
			}
			hotLoop(b, n, http.StatusOK, func(i int) *http.Request {
				return signed(n, method, fmt.Sprintf("/bkt/k%05d", (i*stride)%keys), nil, nil)
			})
		})
	}
}

// BenchmarkHot4KHeadMissing: a HEAD of a key that does not exist.
func BenchmarkHot4KHeadMissing(b *testing.B) {
	n := hotNode(b)
	hotLoop(b, n, http.StatusNotFound, func(i int) *http.Request {
		return signed(n, http.MethodHead, fmt.Sprintf("/bkt/missing%d", i), nil, nil)
	})
}
