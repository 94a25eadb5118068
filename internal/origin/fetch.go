package origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrRefused wraps a dial to an address the guard refuses (loopback,
// link-local, private, metadata service, unspecified, multicast) that the
// operator did not allow.
var ErrRefused = errors.New("origin address refused")

// ErrTooLarge: the origin's object exceeds the size bound.
var ErrTooLarge = errors.New("origin object too large")

// StatusError is an origin answer that is not a success.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return fmt.Sprintf("origin answered HTTP %d", e.Code) }

// RedirectError is an origin 3xx a rule does not follow: the client is
// sent there instead.
type RedirectError struct {
	Code     int
	Location string
}

func (e *RedirectError) Error() string { return fmt.Sprintf("origin redirected (%d)", e.Code) }

// refusedPrefixes are ranges no origin may be in unless allowed, besides
// what netip's predicates cover (loopback, link-local, private,
// unspecified, multicast).
var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT, often internal
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, broadcast
	netip.MustParsePrefix("fd00:ec2::/32"),  // AWS metadata (also in fc00::/7)
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: embeds any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2002::/16"),      // 6to4: embeds any IPv4 address
	netip.MustParsePrefix("2001::/32"),      // Teredo: embeds an IPv4 address
	netip.MustParsePrefix("::/128"),
}

// Guard decides which addresses an origin request may connect to.
type Guard struct {
	allow []netip.Prefix
	hosts []string // lower-case host names allowed whatever they resolve to
}

// NewGuard builds a guard from the operator's allowances: CIDR prefixes,
// single addresses, or host names (`--origin-allow`).
func NewGuard(allow []string) (*Guard, error) {
	g := &Guard{}
	for _, a := range allow {
		a = strings.TrimSpace(a)
		if p, err := netip.ParsePrefix(a); err == nil {
			g.allow = append(g.allow, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(a); err == nil {
			g.allow = append(g.allow, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		if a == "" || strings.ContainsAny(a, "/: ") {
			return nil, fmt.Errorf("--origin-allow %q: not a CIDR, address or host name", a)
		}
		g.hosts = append(g.hosts, strings.ToLower(strings.TrimSuffix(a, ".")))
	}
	return g, nil
}

// Refused reports whether ip is in a refused range, the allowances
// aside.
func Refused(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsPrivate() || ip.IsUnspecified() {
		return true
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// check returns ErrRefused when ip may not be dialled for host.
func (g *Guard) check(host string, ip netip.Addr) error {
	ip = ip.Unmap()
	if !Refused(ip) {
		return nil
	}
	for _, p := range g.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, a := range g.hosts {
		if a == h {
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrRefused, ip)
}

// Options configure a Fetcher.
type Options struct {
	// Allow lists what the guard lets through (`--origin-allow`).
	Allow []string
	// HeaderTimeout bounds the wait for the origin's response headers
	// (connect included); default 10 s.
	HeaderTimeout time.Duration
	// Timeout bounds a whole fetch, body included; default 30 min.
	Timeout time.Duration
	// MaxSize bounds an object pulled from an origin; default 5 GiB.
	MaxSize int64
}

// Fetcher makes origin requests through the guard.
type Fetcher struct {
	guard   *Guard
	client  *http.Client
	timeout time.Duration
	maxSize int64
}

// NewFetcher returns a Fetcher.
func NewFetcher(o Options) (*Fetcher, error) {
	g, err := NewGuard(o.Allow)
	if err != nil {
		return nil, err
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.MaxSize <= 0 {
		o.MaxSize = 5 << 30
	}
	f := &Fetcher{guard: g, timeout: o.Timeout, maxSize: o.MaxSize}
	tr := &http.Transport{
		Proxy:                 nil, // an environment proxy would dial on the origin's behalf, past the guard
		DialContext:           f.dial(o.HeaderTimeout),
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   o.HeaderTimeout,
		ResponseHeaderTimeout: o.HeaderTimeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		// The stored object is the origin's bytes as sent: no transparent
		// gunzip.
		DisableCompression: true,
	}
	f.client = &http.Client{Transport: tr}
	return f, nil
}

// dial connects through the guard: the check runs on the resolved
// address at connect time (net.Dialer.Control), so neither a DNS answer
// that changes between check and use nor a redirect gets past it.
func (f *Fetcher) dial(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		d := net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrRefused, err)
			}
			return f.guard.check(host, ap.Addr())
		}}
		return d.DialContext(ctx, network, addr)
	}
}

// MaxSize is the size bound of a pulled object.
func (f *Fetcher) MaxSize() int64 { return f.maxSize }

// Response is an origin's successful answer. Close releases it (and the
// fetch's timeout).
type Response struct {
	Header        http.Header
	ContentLength int64 // -1: unknown
	Body          io.ReadCloser
}

// maxRedirects is OSS's bound on followed origin redirects.
const maxRedirects = 10

// Get fetches u with the rule's headers. A 2xx answer is returned; any
// other is a *StatusError, or a *RedirectError for a 3xx the rule does not
// follow. The body is bounded by MaxSize and the whole fetch by Timeout,
// both from ctx's values detached from the client's request.
func (f *Fetcher) Get(ctx context.Context, r *Rule, u *url.URL, h http.Header) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header = h
	client := *f.client
	client.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if !r.FollowRedirect {
			return http.ErrUseLastResponse
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("origin: more than %d redirects", maxRedirects)
		}
		if next.URL.Scheme != "http" && next.URL.Scheme != "https" {
			return fmt.Errorf("origin: redirect to scheme %q", next.URL.Scheme)
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "" && !r.FollowRedirect:
		resp.Body.Close()
		cancel()
		return nil, &RedirectError{Code: resp.StatusCode, Location: resp.Header.Get("Location")}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		cancel()
		return nil, &StatusError{Code: resp.StatusCode}
	case resp.ContentLength > f.maxSize:
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, resp.ContentLength)
	}
	body := &boundedBody{r: resp.Body, left: f.maxSize, cancel: cancel}
	return &Response{Header: resp.Header, ContentLength: resp.ContentLength, Body: body}, nil
}

// boundedBody fails a body longer than the size bound.
type boundedBody struct {
	r      io.ReadCloser
	left   int64
	cancel context.CancelFunc
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more than allowed tells a body at the bound from one past it.
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error {
	err := b.r.Close()
	b.cancel()
	return err
}
