package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
)

// client is the one HTTP client every phase uses, yardstick or not:
// keep-alive connections, SigV4 with UNSIGNED-PAYLOAD (no client-side
// hashing), bodies sliced from one pre-generated buffer.
type client struct {
	hc     *http.Client
	data   []byte
	region string
	bufs   sync.Pool // *[]byte, GET read buffers
}

// trust makes c trust the certificates of tc (nil: no change). HTTP/1.1
// either way, as without TLS: the yardstick and the server are measured
// over the same protocol.
func (c *client) trust(tc *tls.Config) {
	if tc != nil {
		c.hc.Transport.(*http.Transport).TLSClientConfig = tc
	}
}

func newClient(conns int, data []byte, region string) *client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     256 * KiB,
		ReadBufferSize:      256 * KiB,
	}
	c := &client{hc: &http.Client{Transport: tr}, data: data, region: region}
	c.bufs.New = func() any { b := make([]byte, MiB); return &b }
	return c
}

// endpoint is a server as the benchmark sees it: a base URL, credentials
// and the bucket the run writes to.
type endpoint struct {
	client    *client
	base      string
	accessKey string
	secretKey string
	bucket    string

	mu      sync.Mutex
	written []*writtenSet
}

// writtenSet records what a PUT phase wrote, for the GETs that follow and
// for cleanup: worker w wrote keys keyFor(mode, size, w, 0..n-1), where
// n = min(counts[w], keep) (keep 0: no cap).
type writtenSet struct {
	mode   string
	size   int
	keep   int
	counts []int
}

func (s *writtenSet) n(w int) int {
	if s.keep > 0 {
		return min(s.counts[w], s.keep)
	}
	return s.counts[w]
}

func (e *endpoint) setWritten(s *writtenSet) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.written = append(e.written, s)
}

func (e *endpoint) getWritten(mode string, size int) *writtenSet {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.written) - 1; i >= 0; i-- {
		if s := e.written[i]; s.mode == mode && s.size == size {
			return s
		}
	}
	return &writtenSet{mode: mode, size: size, counts: []int{0}}
}

func (e *endpoint) url(key string) string {
	if key == "" {
		return e.base + "/" + e.bucket
	}
	return e.base + "/" + e.bucket + "/" + key
}

// do signs and sends a request.
func (e *endpoint) do(ctx context.Context, method, url string, body io.Reader, size int64, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Body = io.NopCloser(body)
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	auth.SignV4(req, e.accessKey, e.secretKey, e.client.region, time.Now(), "")
	return e.client.hc.Do(req)
}

// statusErr reads an error response (bounded) into an error.
func statusErr(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	resp.Body.Close()
	return fmt.Errorf("%s %s: %s: %s", resp.Request.Method, resp.Request.URL.Path, resp.Status, bytes.TrimSpace(b))
}

func (e *endpoint) createBucket(ctx context.Context) error {
	resp, err := e.do(ctx, http.MethodPut, e.url(""), nil, 0, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return statusErr(resp)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

func (e *endpoint) put(ctx context.Context, key string, off, size int, hdr http.Header) error {
	return e.putReader(ctx, key, bytes.NewReader(e.client.data[off:off+size]), int64(size), hdr)
}

func (e *endpoint) putReader(ctx context.Context, key string, r io.Reader, size int64, hdr http.Header) error {
	resp, err := e.do(ctx, http.MethodPut, e.url(key), r, size, hdr)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return statusErr(resp)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// get reads an object, checking its length (and bytes, if want is set).
func (e *endpoint) get(ctx context.Context, key string, size int, hdr http.Header, want []byte) (int64, error) {
	resp, err := e.do(ctx, http.MethodGet, e.url(key), nil, 0, hdr)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, statusErr(resp)
	}
	defer resp.Body.Close()
	bp := e.client.bufs.Get().(*[]byte)
	defer e.client.bufs.Put(bp)
	buf := *bp
	var n int64
	for {
		m, err := resp.Body.Read(buf)
		if m > 0 {
			if want != nil && (n+int64(m) > int64(len(want)) || !bytes.Equal(buf[:m], want[n:n+int64(m)])) {
				return n, fmt.Errorf("GET %s: wrong bytes at offset %d", key, n)
			}
			n += int64(m)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
	}
	if size >= 0 && n != int64(size) {
		return n, fmt.Errorf("GET %s: got %d bytes, want %d", key, n, size)
	}
	return n, nil
}

func (e *endpoint) delete(ctx context.Context, key string) error {
	resp, err := e.do(ctx, http.MethodDelete, e.url(key), nil, 0, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return statusErr(resp)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// cleanup deletes what the run wrote to an external server, and its bucket.
func (e *endpoint) cleanup(ctx context.Context, workers int) {
	e.mu.Lock()
	var keys []string
	for _, s := range e.written {
		for w := range s.counts {
			for idx := range s.n(w) {
				keys = append(keys, keyFor(s.mode, s.size, w, idx))
			}
		}
	}
	e.mu.Unlock()
	keys = append(keys, bigKey)
	ch := make(chan string)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range ch {
				e.delete(ctx, k)
			}
		}()
	}
	for _, k := range keys {
		ch <- k
	}
	close(ch)
	wg.Wait()
	e.delete(ctx, "") // the bucket
}
