package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/strongroom-dev/strongroom/internal/durable"
)

// bareServer is the net/http yardstick: the fastest an HTTP server in Go
// can move the same bodies over the same loopback with the same client.
// It runs in a process of its own (ServeYardstick), as the server under
// test does: in the client's process it would share the client's Go
// scheduler, so that a request and its response pass between goroutines
// without the kernel waking another process, an advantage no real server
// has (a strongroom whose handler only wrote the bytes reached 0.71 of the
// in-process yardstick over HTTPS).
// PUT reads the body into a reused buffer and discards it; GET writes the
// requested number of bytes (the size is the second path element of the
// key, see keyFor) from a pre-generated buffer.
type bareServer struct {
	URL  string
	srv  *http.Server
	data []byte
	bufs sync.Pool
}

// startBare starts the yardstick, over TLS when tc is not nil.
func startBare(data []byte, tc *tls.Config) (*bareServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &bareServer{URL: "http://" + ln.Addr().String(), data: data}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
		b.URL = "https://" + ln.Addr().String()
	}
	b.bufs.New = func() any { p := make([]byte, MiB); return &p }
	b.srv = &http.Server{Handler: b, ReadHeaderTimeout: 30 * time.Second}
	go b.srv.Serve(ln)
	return b, nil
}

func (b *bareServer) Close() error { return b.srv.Close() }

// YardstickPrefix is how `strongroom bench yardstick` announces its URL.
const YardstickPrefix = "strongroom yardstick serving "

// ServeYardstick is `strongroom bench yardstick --data-file F [--tls-dir D]`:
// the net/http yardstick as its own process, serving GETs from the bytes
// of F (the run's random buffer), over TLS with the certificate in D when
// given. It announces its URL on stdout and serves until SIGTERM or
// SIGINT.
func ServeYardstick(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench yardstick", flag.ContinueOnError)
	dataFile := fs.String("data-file", "", "the run's random buffer")
	tlsDir := fs.String("tls-dir", "", "data directory holding the run's self-signed certificate (HTTPS)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := os.ReadFile(*dataFile)
	if err != nil {
		return fmt.Errorf("bench yardstick: %w", err)
	}
	var tc *tls.Config
	if *tlsDir != "" {
		t, err := loadRunTLS(*tlsDir)
		if err != nil {
			return err
		}
		tc = t.server()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	b, err := startBare(data, tc)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, YardstickPrefix+b.URL)
	<-ctx.Done()
	return b.Close()
}

// startYardstick writes data to the work directory and starts the
// yardstick process on it (argv empty: this executable).
func startYardstick(ctx context.Context, argv, env []string, work string, data []byte, tlsDir string) (*child, error) {
	file := filepath.Join(work, "yardstick.data")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return nil, err
	}
	args := []string{"bench", "yardstick", "--data-file", file}
	if tlsDir != "" {
		args = append(args, "--tls-dir", tlsDir)
	}
	c := &child{logFile: filepath.Join(work, "yardstick.log")}
	err := c.spawn(ctx, "yardstick", argv, env, args, YardstickPrefix)
	os.Remove(file) // read once the yardstick serves (65 MiB; --keep need not keep it)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (b *bareServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPut:
		bp := b.bufs.Get().(*[]byte)
		var n int64
		for {
			m, err := r.Body.Read(*bp)
			n += int64(m)
			if err != nil {
				break
			}
		}
		b.bufs.Put(bp)
		if r.ContentLength >= 0 && n != r.ContentLength {
			http.Error(w, "short body", http.StatusBadRequest)
			return
		}
		w.Header().Set("ETag", `"00000000000000000000000000000000"`)
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		// /bucket/mode/size/worker-idx
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 4)
		if len(parts) < 4 {
			http.Error(w, "bad key", http.StatusBadRequest)
			return
		}
		size, err := strconv.Atoi(parts[2])
		if err != nil || size < 0 || size > len(b.data) {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		// The bytes a PUT of this key sent (see offsetFor), so GETs verify.
		var wk, idx int
		fmt.Sscanf(parts[3], "w%d-%d", &wk, &idx)
		off := offsetFor(wk, idx, len(b.data)-size)
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Header().Set("ETag", `"00000000000000000000000000000000"`)
		w.WriteHeader(http.StatusOK)
		w.Write(b.data[off : off+size])
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// durableCreate is the filesystem yardstick: workers each loop creating a
// temp file, writing size bytes of data, fsyncing it, renaming it into a
// fan-out directory and fsyncing that directory, for d. With keep > 0 each
// worker cycles through keep names (the rename replaces an older file), so
// big bodies don't fill the disk.
func durableCreate(ctx context.Context, dir string, data []byte, size, workers, keep int, d time.Duration) (Result, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return Result{}, err
	}
	// Fan-out directories, as a blob store has: every rename lands in one
	// of 256 directories, each fsynced after its rename.
	for i := range 256 {
		if err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("%02x", i)), 0o700); err != nil {
			return Result{}, err
		}
	}
	defer os.RemoveAll(dir)
	body := data[:size]
	var seq atomic.Uint64
	r := runPhase(ctx, workers, d, func(ctx context.Context, w, i int) (int64, error) {
		n := seq.Add(1)
		f, err := os.CreateTemp(tmp, "c-*")
		if err != nil {
			return 0, err
		}
		if _, err := f.Write(body); err != nil {
			f.Close()
			return 0, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return 0, err
		}
		if err := f.Close(); err != nil {
			return 0, err
		}
		sub := filepath.Join(dir, fmt.Sprintf("%02x", byte(n*0x9e3779b1>>7)))
		name := fmt.Sprintf("w%d-%d", w, i)
		if keep > 0 {
			sub = filepath.Join(dir, "00")
			name = fmt.Sprintf("w%d-%d", w, i%keep)
		}
		if err := os.Rename(f.Name(), filepath.Join(sub, name)); err != nil {
			return 0, err
		}
		if err := durable.SyncDir(sub); err != nil {
			return 0, err
		}
		return int64(size), nil
	})
	r.Target, r.Op, r.Size = "durable-create", "CREATE", int64(size)
	if keep > 0 {
		r.Target, r.Op = "durable-write", "WRITE"
	}
	if r.Ops == 0 {
		return r, errors.New(r.FirstErr)
	}
	return r, nil
}
