package checksum

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestMD5sConcurrent: streams of awkward sizes, written in awkward chunks,
// hashed concurrently through a shared server (so most take md5-simd
// lanes) and through a nil MD5s, all match crypto/md5.
func TestMD5sConcurrent(t *testing.T) {
	shared := NewMD5s()
	defer shared.Close()
	for _, tc := range []struct {
		name string
		m    *MD5s
	}{{"shared", shared}, {"nil", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			sizes := []int{0, 1, 63, 64, 65, 55, 56, 32<<10 - 1, 32 << 10, 1<<20 + 17, 5 << 20}
			chunks := []int{1, 7, 64, 1000, 32 << 10, 1 << 20}
			var wg sync.WaitGroup
			errc := make(chan error, len(sizes)*len(chunks))
			for i, size := range sizes {
				for j, chunk := range chunks {
					if size > 1<<20 && chunk < 1000 {
						continue // slow and adds nothing
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						data := make([]byte, size)
						r := rand.New(rand.NewPCG(uint64(i), uint64(j)))
						for k := range data {
							data[k] = byte(r.Uint32())
						}
						h, release := tc.m.New()
						defer release()
						s := NewSet(h, CRC32)
						for rest := data; len(rest) > 0; {
							n := min(chunk, len(rest))
							s.Write(rest[:n])
							rest = rest[n:]
						}
						want := md5.Sum(data)
						if got := s.MD5(); !bytes.Equal(got, want[:]) {
							errc <- fmt.Errorf("size %d chunk %d: md5 %x, want %x", size, chunk, got, want)
						}
						if again := s.MD5(); !bytes.Equal(again, want[:]) {
							errc <- fmt.Errorf("size %d chunk %d: second MD5() %x", size, chunk, again)
						}
					}()
				}
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Error(err)
			}
			if tc.m != nil && tc.m.inFlight != 0 {
				t.Fatalf("in flight after release: %d", tc.m.inFlight)
			}
		})
	}
}

// TestMD5sRotates: servers are replaced after md5GenHashes hashes and a
// retired one closes when its last hash is released, so md5-simd's
// per-client leak stays bounded; sums stay right across the switch.
func TestMD5sRotates(t *testing.T) {
	m := NewMD5s()
	first, releaseFirst := m.New() // crypto/md5: alone in flight
	if _, ok := first.(interface{ Close() }); ok {
		t.Fatal("a lone stream got an md5-simd hash")
	}
	data := []byte("strongroom md5 lanes")
	want := md5.Sum(data)
	gens := map[*md5Gen]bool{}
	var held func()
	var heldGen *md5Gen
	for i := range 3*md5GenHashes + 5 {
		h, release := m.New()
		gens[m.gen] = true
		h.Write(data)
		if got := h.Sum(nil); !bytes.Equal(got, want[:]) {
			t.Fatalf("hash %d: %x", i, got)
		}
		if i == 3 {
			held, heldGen = release, m.gen // keeps the first server live
			continue
		}
		release()
	}
	if len(gens) != 4 {
		t.Fatalf("%d servers for %d hashes, want 4", len(gens), 3*md5GenHashes+5)
	}
	for g := range gens {
		if g.handedOut > md5GenHashes {
			t.Fatalf("a server handed out %d hashes", g.handedOut)
		}
		wantLive := 0
		if g == heldGen {
			wantLive = 1
		}
		if g != m.gen && g.live != wantLive {
			t.Fatalf("retired server with %d live hashes, want %d", g.live, wantLive)
		}
	}
	held()
	if heldGen.live != 0 {
		t.Fatal("held hash not released")
	}
	releaseFirst()
	m.Close()
	if m.inFlight != 0 || m.gen != nil {
		t.Fatalf("after Close: %d in flight, current server %v", m.inFlight, m.gen)
	}
	if h, release := m.New(); h == nil {
		t.Fatal("New after Close")
	} else {
		release()
	}
}

// BenchmarkMD5s: 4 concurrent 16 MiB streams, crypto/md5 against the shared
// server (one stream of the four stays on crypto/md5, as in a server).
func BenchmarkMD5s(b *testing.B) {
	buf := make([]byte, 1<<20)
	for _, tc := range []struct {
		name string
		m    func() *MD5s
	}{{"crypto-md5", func() *MD5s { return nil }}, {"shared", NewMD5s}} {
		b.Run(tc.name, func(b *testing.B) {
			m := tc.m()
			defer m.Close()
			const streams = 4
			b.SetBytes(streams * 16 * int64(len(buf)))
			for b.Loop() {
				var wg sync.WaitGroup
				for range streams {
					wg.Go(func() {
						h, release := m.New()
						defer release()
						for range 16 {
							h.Write(buf)
						}
						h.Sum(nil)
					})
				}
				wg.Wait()
			}
		})
	}
}
