// Package kmiptest runs a real KMIP server (PyKMIP, Debian's
// python3-pykmip) on loopback for tests, with a throw-away CA, a server
// certificate for 127.0.0.1 and a client certificate, and a temporary
// SQLite database. There is no fallback: when PyKMIP is missing or does
// not start, Start fails (CI must install it; scripts/test.sh does).
package kmiptest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Server is a running (or stopped) PyKMIP server.
type Server struct {
	Addr string // 127.0.0.1:PORT, kept across Stop and Start
	// Client certificate, key and CA files for strongroom's --kmip-cert,
	// --kmip-key and --kmip-ca.
	CertFile, KeyFile, CAFile string
	// The server's own certificate and key (tests that fake a server).
	ServerCertFile, ServerKeyFile string

	dir     string
	logPath string
	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{}
}

// Binary is the PyKMIP server's entry point.
const Binary = "/usr/bin/pykmip-server"

// New prepares certificates and configuration in dir and starts the server.
func New(dir string) (*Server, error) {
	if _, err := os.Stat(Binary); err != nil {
		return nil, fmt.Errorf("kmiptest: %s not found: install python3-pykmip (scripts/test.sh does): %w", Binary, err)
	}
	s := &Server{dir: dir, logPath: filepath.Join(dir, "pykmip.log")}
	if err := s.writeCerts(); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	if err := s.writeConfig(port); err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	return s, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) writeConfig(port int) error {
	policies := filepath.Join(s.dir, "policies")
	if err := os.MkdirAll(policies, 0o700); err != nil {
		return err
	}
	conf := fmt.Sprintf(`[server]
hostname=127.0.0.1
port=%d
certificate_path=%s
key_path=%s
ca_path=%s
auth_suite=TLS1.2
policy_path=%s
enable_tls_client_auth=True
logging_level=INFO
database_path=%s
`, port, s.ServerCertFile, s.ServerKeyFile, s.CAFile, policies, filepath.Join(s.dir, "pykmip.db"))
	return os.WriteFile(filepath.Join(s.dir, "server.conf"), []byte(conf), 0o600)
}

// Start starts a stopped server on the same address and database and
// waits until it completes a TLS handshake.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("kmiptest: already running")
	}
	cmd := exec.Command(Binary, "-f", filepath.Join(s.dir, "server.conf"), "-l", s.logPath)
	cmd.Dir = s.dir
	// Its own group (Stop kills the workers too); killed with its parent,
	// so a bench that dies (SIGPIPE) leaves no server behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("kmiptest: starting %s: %w", Binary, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(60 * time.Second) // a loaded CI machine boots Python slowly
	for {
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("kmiptest: PyKMIP exited at start: %s\n%s", out.String(), s.logTail())
		default:
		}
		if err := s.probe(); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			s.stopLocked()
			return fmt.Errorf("kmiptest: PyKMIP did not answer on %s: %v\n%s", s.Addr, err, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// probe completes a mutual-TLS handshake with the server.
func (s *Server) probe() error {
	cfg, err := s.ClientTLS()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	d := tls.Dialer{Config: cfg}
	c, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	return c.Close()
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Log returns the server's log (tests search it for key bytes).
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// Stop kills the server (its whole process group) and waits for it.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	if s.cmd == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	s.cmd = nil
	// The listening socket is gone once the process is: wait for the port
	// to refuse, so a test sees the outage at once.
	for i := 0; i < 50; i++ {
		c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

// ClientTLS is the client side of the mutual TLS the server expects.
func (s *Server) ClientTLS() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
	if err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// writeCerts makes a CA, a server certificate for 127.0.0.1 and a client
// certificate (ECDSA P-256: PyKMIP's TLS 1.2 suites include ECDHE-ECDSA
// with AES-GCM, which Go offers).
func (s *Server) writeCerts() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "strongroom test KMIP CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	s.CAFile = filepath.Join(s.dir, "ca.pem")
	if err := writePEM(s.CAFile, "CERTIFICATE", caDER); err != nil {
		return err
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, certFile, keyFile string) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
			tmpl.DNSNames = []string{"localhost"}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			return err
		}
		kb, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		if err := writePEM(certFile, "CERTIFICATE", der); err != nil {
			return err
		}
		return writePEM(keyFile, "PRIVATE KEY", kb)
	}
	s.ServerCertFile, s.ServerKeyFile = filepath.Join(s.dir, "server-cert.pem"), filepath.Join(s.dir, "server-key.pem")
	if err := leaf(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, s.ServerCertFile, s.ServerKeyFile); err != nil {
		return err
	}
	s.CertFile, s.KeyFile = filepath.Join(s.dir, "client-cert.pem"), filepath.Join(s.dir, "client-key.pem")
	return leaf(3, "strongroom", x509.ExtKeyUsageClientAuth, s.CertFile, s.KeyFile)
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// KeyMaterial returns the raw bytes of every key the server holds, read
// from its database, so canary tests can prove none of them ever reaches
// strongroom's data directory or logs.
func (s *Server) KeyMaterial() ([][]byte, error) {
	script := `import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for (v,) in db.execute("select value from managed_objects where value is not null"):
    print(bytes(v).hex())`
	out, err := exec.Command("/usr/bin/python3", "-c", script, filepath.Join(s.dir, "pykmip.db")).Output()
	if err != nil {
		return nil, fmt.Errorf("kmiptest: reading the key database: %w", err)
	}
	var keys [][]byte
	for _, line := range bytes.Fields(out) {
		k := make([]byte, len(line)/2)
		if _, err := hex.Decode(k, line); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// PID is the running server's process id (0 when stopped): a benchmark
// accounts the key server's CPU with it.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}
