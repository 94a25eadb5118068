// Package testnode starts real strongroom nodes on loopback for tests:
// the same assembly as the binary, with a temporary data directory and,
// optionally, TLS with a throw-away certificate.
package testnode

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// Options tune a test node.
type Options struct {
	TLS     bool
	Domains []string
	DataDir string       // reuse a data directory (restart tests); temp if empty
	Logger  *slog.Logger // default: discard
	// Dialects starts one extra listener per named dialect ("oss", "cos",
	// "obs"), whose requests all speak that dialect; see Node.DialectURL.
	Dialects []string
	// InsecureSSEC accepts SSE-C over plain HTTP.
	InsecureSSEC bool
	// Now is the node's clock (objects' times, background jobs); the
	// test drives jobs itself (Node.Jobs.RunPass) when it is set.
	Now func() time.Time
	// BodyReadTimeout and MaxConnsPerClient set the server.Config fields
	// (tests of slow clients shorten the one, and lower the other).
	BodyReadTimeout   time.Duration
	MaxConnsPerClient int
	// KMS selects the key provider (default: the builtin keyring).
	KMS server.KMSConfig
	// OriginAllow, OriginHeaderTimeout and OriginMaxSize set the
	// server.Config fields (back-to-source tests).
	OriginAllow         []string
	OriginHeaderTimeout time.Duration
	OriginMaxSize       int64
	// MetricsToken, AccessLog and AuditLog set the server.Config fields
	// (access log "" is off).
	MetricsToken string
	AccessLog    string
	AuditLog     string
	// WrapKMS wraps the node's key provider (server.Config.WrapKMS).
	WrapKMS func(kms.Provider) kms.Provider
	// Console serves the operator console on a listener of its own
	// (Node.ConsoleURL).
	Console bool
	// Blobs selects the data tier (server.Config.Blobs: s3://… or
	// file:///…); BlobsAccessKey and BlobsSecretKey sign an S3 tier's
	// requests.
	Blobs                          string
	BlobsAccessKey, BlobsSecretKey string
	// KMSCache bounds the cache of unwrapped keys (server.Config.KMSCache).
	KMSCache server.KMSCache
	// Meta is the metadata store (server.Config.Meta): "" embedded, or a
	// postgres:// URL (internal/meta/postgres/pgtest makes one).
	Meta string
}

// Node is a serving test node.
type Node struct {
	*server.Node
	URL       string // base URL, e.g. http://127.0.0.1:PORT
	Addr      string // host:port
	DataDir   string
	AccessKey string // root credentials
	SecretKey string
	// Client trusts the node's certificate (TLS) and is otherwise default.
	Client *http.Client
	// DialectURL maps each Options.Dialects entry to its listener's URL;
	// DialectAddr to its host:port.
	DialectURL  map[string]string
	DialectAddr map[string]string
	// ConsoleURL is the operator console's base URL (Options.Console).
	ConsoleURL string
}

// Start opens and serves a node; it is closed when the test ends.
func Start(t testing.TB, o Options) *Node {
	t.Helper()
	dir := o.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := server.Config{DataDir: dir, Domains: o.Domains, Logger: log, Addr: "127.0.0.1:0", InsecureSSEC: o.InsecureSSEC,
		Now: o.Now, NoBackgroundJobs: o.Now != nil,
		BodyReadTimeout: o.BodyReadTimeout, MaxConnsPerClient: o.MaxConnsPerClient, KMSConfig: o.KMS, WrapKMS: o.WrapKMS,
		OriginAllow: o.OriginAllow, OriginHeaderTimeout: o.OriginHeaderTimeout, OriginMaxSize: o.OriginMaxSize,
		MetricsToken: o.MetricsToken, AccessLog: o.AccessLog, AuditLog: o.AuditLog, KMSCache: o.KMSCache}
	cfg.BlobsConfig = server.BlobsConfig{Blobs: o.Blobs, BlobsAccessKey: o.BlobsAccessKey, BlobsSecretKey: o.BlobsSecretKey}
	cfg.Meta = o.Meta
	client := &http.Client{}
	if o.TLS {
		cfg.TLSCert, cfg.TLSKey = writeCert(t, dir)
		t2 := http.DefaultTransport.(*http.Transport).Clone()
		t2.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		client.Transport = t2
	}
	n, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("opening node: %v", err)
	}
	ln, err := n.Listen()
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	scheme := "http"
	if o.TLS {
		scheme = "https"
	}
	node := &Node{
		Node: n, URL: scheme + "://" + ln.Addr().String(), Addr: ln.Addr().String(), DataDir: dir,
		AccessKey: n.Root.AccessKey, SecretKey: n.Root.SecretKey, Client: client,
		DialectURL: map[string]string{}, DialectAddr: map[string]string{},
	}
	serving := 1 + len(o.Dialects)
	done := make(chan error, serving+1)
	go func() { done <- n.Serve(ln) }()
	for _, d := range o.Dialects {
		dl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		node.DialectURL[d] = scheme + "://" + dl.Addr().String()
		node.DialectAddr[d] = dl.Addr().String()
		go func() { done <- n.ServeDialect(dl, d) }()
	}
	if o.Console {
		cl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		node.ConsoleURL = scheme + "://" + cl.Addr().String()
		serving++
		go func() { done <- n.ServeConsole(cl) }()
	}
	// CLI calls find a running node through the address file Serve
	// writes: wait for this node's (a stale one may be there).
	addrFile := filepath.Join(dir, server.AddrFile)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if b, err := os.ReadFile(addrFile); err == nil && strings.HasSuffix(string(b), ":"+portOf(ln.Addr())) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node wrote no address file %s", addrFile)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Close(ctx); err != nil {
			t.Errorf("closing node: %v", err)
		}
		for range serving {
			<-done
		}
	})
	return node
}

// writeCert creates a self-signed certificate for 127.0.0.1/localhost.
func writeCert(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "strongroom test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost", "*.localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "test-cert.pem"), filepath.Join(dir, "test-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func portOf(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}
