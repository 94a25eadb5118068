package pgserver

import (
	"net"
	"sync"
	"sync/atomic"
)

// RoundTripProxy forwards TCP connections to PostgreSQL and counts round
// trips: a client write after the server has answered on that connection
// (however the bytes are split into segments) is one more. It counts what
// the wire sees, BEGIN and COMMIT included.
type RoundTripProxy struct {
	ln     net.Listener
	target string
	trips  atomic.Int64
	wg     sync.WaitGroup
}

// NewRoundTripProxy listens on a loopback port and forwards to target
// (host:port).
func NewRoundTripProxy(target string) (*RoundTripProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &RoundTripProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *RoundTripProxy) Addr() string { return p.ln.Addr().String() }

// Trips is the number of round trips so far, over all connections.
func (p *RoundTripProxy) Trips() int64 { return p.trips.Load() }

func (p *RoundTripProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *RoundTripProxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	var answered atomic.Bool
	answered.Store(true) // the first client write is a round trip
	done := make(chan struct{}, 2)
	pump := func(dst, src net.Conn, fromClient bool) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 64<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if fromClient {
					if answered.Swap(false) {
						p.trips.Add(1)
					}
				} else {
					answered.Store(true)
				}
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pump(s, c, true)
	go pump(c, s, false)
	<-done
}

// Close stops accepting connections (open ones end with their peers).
func (p *RoundTripProxy) Close() {
	p.ln.Close()
	p.wg.Wait()
}
