package s3_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strongroom-dev/strongroom/internal/blob"
	blobs3 "github.com/strongroom-dev/strongroom/internal/blob/s3"
	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// TestMain clears AWS_* and proxy variables the SDK would otherwise obey.
func TestMain(m *testing.M) { e2eutil.Main(m) }

const (
	KiB        = 1 << 10
	MiB        = 1 << 20
	tierBucket = "tier"
	partSize   = 5 * MiB // the smallest the store (and S3) allows
)

var ctx = context.Background()

// target is a plain strongroom node acting as the S3 server of the tier.
type target struct {
	node *testnode.Node
	c    *awss3.Client // root client of the target
	reqs *requestLog   // requests the store under test sent
}

func newTarget(t testing.TB) *target { return newTargetTLS(t, false) }

func newTargetTLS(t testing.TB, tls bool) *target {
	t.Helper()
	n := testnode.Start(t, testnode.Options{TLS: tls})
	tg := &target{node: n, c: sdkClient(n.URL, n.AccessKey, n.SecretKey, n.Client), reqs: &requestLog{}}
	if _, err := tg.c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(tierBucket)}); err != nil {
		t.Fatal(err)
	}
	return tg
}

func sdkClient(url, ak, sk string, hc *http.Client) *awss3.Client {
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}
	}
	return awss3.New(awss3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true, HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
	})
}

// store opens a store on the target's bucket; mod adjusts its config.
func (tg *target) store(t testing.TB, mod func(*blobs3.Config)) *blobs3.Store {
	t.Helper()
	cfg := blobs3.Config{
		Bucket: tierBucket, Endpoint: tg.node.URL, AccessKey: tg.node.AccessKey, SecretKey: tg.node.SecretKey,
		PartSize: partSize, HTTPClient: &http.Client{Transport: tg.reqs.wrap(http.DefaultTransport.(*http.Transport).Clone())},
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := blobs3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// objects lists the target bucket's object names.
func (tg *target) objects(t testing.TB) []string {
	t.Helper()
	out, err := tg.c.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(tierBucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// uploads lists the target bucket's multipart uploads in progress.
func (tg *target) uploads(t testing.TB) []string {
	t.Helper()
	out, err := tg.c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(tierBucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// requestLog records the method and query of each request a store sends.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		l.mu.Lock()
		l.reqs = append(l.reqs, r.Method+" "+r.URL.RawQuery)
		l.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

// count returns how many requests with this method were sent since reset.
func (l *requestLog) count(method string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reqs {
		if strings.HasPrefix(r, method+" ") {
			n++
		}
	}
	return n
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.reqs = nil
	l.mu.Unlock()
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func payload(n int, seed uint64) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// write writes data in chunks of chunk bytes, without committing.
func write(t testing.TB, s blob.Store, data []byte, chunk int) blob.Writer {
	t.Helper()
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for rest := data; len(rest) > 0; {
		n := min(chunk, len(rest))
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	return w
}

func put(t testing.TB, s blob.Store, data []byte) string {
	t.Helper()
	id, err := write(t, s, data, 100*KiB+3).Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// readAll reads a blob through ReadAt the way the sealed layer does: a
// header, then segment-sized reads in order.
func readAll(t testing.TB, s blob.Store, id string) []byte {
	t.Helper()
	r, err := s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := make([]byte, r.Size())
	off := 0
	for _, n := range append([]int{32}, slices.Repeat([]int{64*KiB + 16}, len(out)/(64*KiB)+1)...) {
		if off >= len(out) {
			break
		}
		n = min(n, len(out)-off)
		m, err := r.ReadAt(out[off:off+n], int64(off))
		if m != n || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", n, off, m, err)
		}
		off += n
	}
	return out
}

func TestCommitOpenRead(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s := tg.store(t, nil)
	for _, tc := range []struct {
		name      string
		size      int
		multipart bool
	}{
		{"empty", 0, false},
		{"one byte", 1, false},
		{"beyond the first read window", 300*KiB + 5, false},
		{"one part exactly", partSize, false},
		{"multipart", 2*partSize + 123, true},
		{"multipart of whole parts", 2 * partSize, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := payload(tc.size, uint64(tc.size))
			before := tg.objects(t)
			w := write(t, s, data, 64*KiB+16)
			// Nothing visible before Commit; a multipart upload is under
			// way only once the blob outgrew one part.
			if got := tg.objects(t); len(got) != len(before) {
				t.Fatalf("objects before Commit: %v, want %v", got, before)
			}
			if got := len(tg.uploads(t)); got != map[bool]int{false: 0, true: 1}[tc.multipart] {
				t.Fatalf("%d multipart uploads before Commit (multipart %v)", got, tc.multipart)
			}
			id, err := w.Commit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Abort(); err != nil {
				t.Fatalf("Abort after Commit: %v", err)
			}
			if got := tg.uploads(t); len(got) != 0 {
				t.Fatalf("uploads left after Commit: %v", got)
			}
			if !slices.Contains(tg.objects(t), id) {
				t.Fatalf("object %s missing after Commit", id)
			}
			if got := readAll(t, s, id); !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, differ from the %d written", len(got), len(data))
			}
		})
	}
}

func TestRangedReads(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s := tg.store(t, nil)
	data := payload(9*MiB+77, 3)
	id := put(t, s, data)
	r, err := s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != int64(len(data)) {
		t.Fatalf("Size %d, want %d", r.Size(), len(data))
	}
	for _, tc := range []struct{ off, n int }{
		{0, 10}, {5 * MiB, 100}, {5*MiB + 200, 64 * KiB}, {100, 50}, // backwards
		{len(data) - 10, 10}, {8 * MiB, MiB + 77}, {1, 3 * MiB},
	} {
		got := make([]byte, tc.n)
		n, err := r.ReadAt(got, int64(tc.off))
		if n != tc.n || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", tc.n, tc.off, n, err)
		}
		if !bytes.Equal(got, data[tc.off:tc.off+tc.n]) {
			t.Fatalf("ReadAt(%d, %d): wrong bytes", tc.n, tc.off)
		}
	}
	// Past the end: io.EOF with what there is.
	buf := make([]byte, 100)
	if n, err := r.ReadAt(buf, int64(len(data)-40)); n != 40 || err != io.EOF || !bytes.Equal(buf[:40], data[len(data)-40:]) {
		t.Fatalf("ReadAt across the end = %d, %v", n, err)
	}
	if n, err := r.ReadAt(buf, int64(len(data))); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt at the end = %d, %v", n, err)
	}
}

// A sequential read is served by a few growing windows, not a GET per
// segment; a small range in the middle costs the opening GET and one more.
func TestReadWindows(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s := tg.store(t, nil)
	data := payload(16*MiB, 4)
	id := put(t, s, data)

	tg.reqs.reset()
	readAll(t, s, id)
	// 256 KiB, 1, 4, 16 MiB windows.
	if n := tg.reqs.count("GET"); n > 4 {
		t.Fatalf("a sequential 16 MiB read sent %d GETs, want at most 4", n)
	}

	tg.reqs.reset()
	r, err := s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 32)
	seg := make([]byte, 64*KiB+16)
	for _, off := range []int64{0, 10 * MiB, 10*MiB + int64(len(seg))} {
		b := seg
		if off == 0 {
			b = hdr
		}
		if _, err := r.ReadAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	if n := tg.reqs.count("GET"); n != 2 {
		t.Fatalf("header and two adjacent segments in the middle took %d GETs, want 2", n)
	}
}

func TestConcurrentReadAt(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s := tg.store(t, nil)
	data := payload(2*MiB, 5)
	id := put(t, s, data)
	r, err := s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				off := (g*997 + i*65537) % (len(data) - 1000)
				got := make([]byte, 1000)
				if _, err := r.ReadAt(got, int64(off)); err != nil && err != io.EOF {
					t.Error(err)
					return
				}
				if !bytes.Equal(got, data[off:off+1000]) {
					t.Errorf("wrong bytes at %d", off)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestAbort(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s := tg.store(t, nil)
	for _, size := range []int{100 * KiB, 2*partSize + 1} {
		w := write(t, s, payload(size, 6), 1*MiB)
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("second Abort: %v", err)
		}
		if _, err := w.Commit(ctx); err == nil {
			t.Fatal("Commit after Abort succeeded")
		}
		if _, err := w.Write([]byte("x")); err == nil {
			t.Fatal("Write after Abort succeeded")
		}
		if got := tg.uploads(t); len(got) != 0 {
			t.Fatalf("size %d: uploads left after Abort: %v", size, got)
		}
		if got := tg.objects(t); len(got) != 0 {
			t.Fatalf("size %d: objects after Abort: %v", size, got)
		}
	}
}

func TestCanceledCommitLeavesNothing(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s := tg.store(t, nil)
	w := write(t, s, payload(2*partSize+1, 7), MiB)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.Commit(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with a canceled context: %v", err)
	}
	if got := tg.uploads(t); len(got) != 0 {
		t.Fatalf("uploads left: %v", got)
	}
	if got := tg.objects(t); len(got) != 0 {
		t.Fatalf("objects left: %v", got)
	}
}

func TestLink(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	for _, tc := range []struct {
		name     string
		size     int
		copyPart int64 // CopyPartSize: objects above it are copied in parts
	}{
		{"CopyObject", 300 * KiB, 0},
		{"UploadPartCopy", 12 * MiB, 5 * MiB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tg.store(t, func(c *blobs3.Config) { c.CopyPartSize = tc.copyPart })
			data := payload(tc.size, 8)
			id := put(t, s, data)
			tg.reqs.reset()
			id2, err := s.Link(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if id2 == id {
				t.Fatal("Link returned the same ID")
			}
			if n := tg.reqs.count("GET"); n != 0 {
				t.Fatalf("Link read the blob (%d GETs): not a server-side copy", n)
			}
			if tc.copyPart > 0 && tg.reqs.count("PUT") < 3 {
				t.Fatalf("Link of %d bytes with parts of %d: %d PUTs, want one UploadPartCopy per part", tc.size, tc.copyPart, tg.reqs.count("PUT"))
			}
			if err := s.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, s, id2); !bytes.Equal(got, data) {
				t.Fatal("the link's bytes differ")
			}
			if err := s.Delete(ctx, id2); err != nil {
				t.Fatal(err)
			}
			if got := tg.uploads(t); len(got) != 0 {
				t.Fatalf("uploads left: %v", got)
			}
		})
	}
	s := tg.store(t, nil)
	if _, err := s.Link(ctx, strings.Repeat("ab", 16)); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Link of a missing blob: %v, want ErrNotFound", err)
	}
}

func TestDeleteAndNotFound(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s := tg.store(t, nil)
	id := put(t, s, payload(40*KiB, 9))
	if err := s.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	missing := strings.Repeat("0f", 16)
	for _, id := range []string{id, missing, "../x", "ABCDEF", ""} {
		if err := s.Delete(ctx, id); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Delete(%q) = %v, want ErrNotFound", id, err)
		}
		if _, err := s.Open(ctx, id); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestWalk(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s := tg.store(t, func(c *blobs3.Config) { c.Prefix = "blobs/" })
	// Objects that are not this store's blobs are not walked.
	for _, k := range []string{"other", "blobs/not-an-id", "x/" + strings.Repeat("a", 32)} {
		if _, err := tg.c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(tierBucket), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now().Add(-time.Minute)
	var want []string
	for i := range 5 {
		want = append(want, put(t, s, payload(1000+i, uint64(i))))
	}
	pending := write(t, s, payload(2*partSize, 1), MiB) // not committed: not walked
	defer pending.Abort()
	slices.Sort(want)
	var got []string
	if err := s.Walk(ctx, func(id string, mod time.Time) error {
		if mod.Before(start) || mod.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s: modification time %v", id, mod)
		}
		got = append(got, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Walk saw %v, want %v", got, want)
	}
	for _, id := range want {
		if !slices.Contains(tg.objects(t), "blobs/"+id) {
			t.Fatalf("blob %s is not the object blobs/%s", id, id)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := s.Walk(ctx, func(string, time.Time) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("Walk with fn failing = %v after %d calls", err, n)
	}
}

func TestSweepUploads(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s := tg.store(t, nil)
	w := write(t, s, payload(partSize+1, 10), MiB) // a writer that never ends
	_ = w
	if n, err := s.SweepUploads(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("sweep of uploads older than an hour = %d, %v", n, err)
	}
	if n, err := s.SweepUploads(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("sweep of uploads started before now = %d, %v", n, err)
	}
	if got := tg.uploads(t); len(got) != 0 {
		t.Fatalf("uploads left: %v", got)
	}
}

// A tier that refuses connections, or answers 5xx, gives errors wrapping
// blob.ErrUnavailable from every operation.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>x</Message></Error>`)
	}))
	defer failing.Close()
	id := strings.Repeat("12", 16)
	for name, endpoint := range map[string]string{"refused": refused, "500": failing.URL} {
		t.Run(name, func(t *testing.T) {
			s, err := blobs3.New(blobs3.Config{Bucket: "b", Endpoint: endpoint, AccessKey: "a", SecretKey: "s", PartSize: partSize, MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			ops := map[string]func() error{
				"check":  func() error { return s.Check(ctx) },
				"open":   func() error { _, err := s.Open(ctx, id); return err },
				"delete": func() error { return s.Delete(ctx, id) },
				"link":   func() error { _, err := s.Link(ctx, id); return err },
				"walk":   func() error { return s.Walk(ctx, func(string, time.Time) error { return nil }) },
				"commit": func() error { _, err := write(t, s, payload(100, 1), 100).Commit(ctx); return err },
				"multipart": func() error {
					w, _ := s.Create(ctx)
					_, err := w.Write(payload(partSize+1, 1))
					return err
				},
			}
			for op, f := range ops {
				if err := f(); !errors.Is(err, blob.ErrUnavailable) {
					t.Errorf("%s: %v, want ErrUnavailable", op, err)
				}
			}
		})
	}
}

// A response cut short mid-body is the tier's failure, not a short blob.
func TestResponseCutShort(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s0 := tg.store(t, nil)
	id := put(t, s0, payload(MiB, 11))
	var cut sync.Once
	tr := http.DefaultTransport.(*http.Transport).Clone()
	s := tg.store(t, func(c *blobs3.Config) {
		c.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := tr.RoundTrip(r)
			if err == nil && r.Method == http.MethodGet && strings.Contains(r.Header.Get("Range"), "bytes=262144-") {
				cut.Do(func() { resp.Body = &cutBody{ReadCloser: resp.Body, left: 1000} })
			}
			return resp, err
		})}
	})
	r, err := s.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 512*KiB)
	if _, err := r.ReadAt(buf, 0); !errors.Is(err, blob.ErrUnavailable) || errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read through a cut response: %v, want ErrUnavailable (and not ErrUnexpectedEOF: the blob is not short)", err)
	}
}

type cutBody struct {
	io.ReadCloser
	left int
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n, err := c.ReadCloser.Read(p[:min(len(p), c.left)])
	c.left -= n
	return n, err
}

// An https endpoint with a certificate the system does not trust works
// only with insecure=true; without it the store fails at once, and not as
// an outage (retrying will not help).
func TestInsecureTLS(t *testing.T) {
	t.Parallel()
	tg := newTargetTLS(t, true)
	for _, insecure := range []bool{false, true} {
		s, err := blobs3.New(blobs3.Config{Bucket: tierBucket, Endpoint: tg.node.URL, AccessKey: tg.node.AccessKey, SecretKey: tg.node.SecretKey, Insecure: insecure})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Check(ctx)
		if !insecure {
			if err == nil || errors.Is(err, blob.ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("an untrusted certificate without insecure: %v, want a certificate error that is not ErrUnavailable", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		data := payload(100*KiB, 13)
		if got := readAll(t, s, put(t, s, data)); !bytes.Equal(got, data) {
			t.Fatal("wrong bytes over TLS")
		}
	}
	// The same through --blobs.
	n := testnode.Start(t, testnode.Options{
		Blobs:          "s3://" + tierBucket + "?insecure=true&endpoint=" + url.QueryEscape(tg.node.URL),
		BlobsAccessKey: tg.node.AccessKey, BlobsSecretKey: tg.node.SecretKey,
	})
	c := sdkClient(n.URL, n.AccessKey, n.SecretKey, nil)
	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("front")}); err != nil {
		t.Fatal(err)
	}
	data := payload(100*KiB, 14)
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("front"), Key: aws.String("k"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("front"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("GET through a front node on an https tier: %v", err)
	}
}

// TestPadded: a padding store rounds every blob up to the quantum with
// random bytes (the tier learns sizes to within a segment), and the bytes
// written read back unchanged in front of the padding.
func TestPadded(t *testing.T) {
	t.Parallel()
	tg := newTarget(t)
	s := tg.store(t, func(c *blobs3.Config) { c.Pad = blob.PadQuantum })
	for _, n := range []int{0, 1, 58, 64*KiB - 1, 64 * KiB, 64*KiB + 1, 300*KiB + 5, partSize + 7} {
		data := payload(n, uint64(n)+1)
		id := put(t, s, data)
		head, err := tg.c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(tierBucket), Key: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		stored := aws.ToInt64(head.ContentLength)
		if want := int64(n) + blob.Padding(int64(n), blob.PadQuantum); stored != want || stored%blob.PadQuantum != 0 {
			t.Fatalf("%d bytes written: the tier stores %d, want %d (a multiple of %d)", n, stored, want, blob.PadQuantum)
		}
		got := readAll(t, s, id)
		if int64(len(got)) != stored {
			t.Fatalf("%d bytes written: Size %d, want the stored %d", n, len(got), stored)
		}
		if !bytes.Equal(got[:n], data) {
			t.Fatalf("%d bytes written: the first %d bytes read back differ", n, n)
		}
		if pad := got[n:]; len(pad) >= 64 && bytes.Count(pad, []byte{0}) > len(pad)/32 {
			t.Fatalf("%d bytes written: the padding is not random", n)
		}
	}
}
