package bench

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/strongroom-dev/strongroom/internal/server"
)

// runTLS is a --tls run's certificate: the one `serve --tls-self-signed`
// uses in the child's data directory, made before the child starts so
// the yardstick can serve it too and the client can trust it.
type runTLS struct {
	cert  tls.Certificate
	roots *x509.CertPool
}

func loadRunTLS(dataDir string) (*runTLS, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	certFile, keyFile, _, err := server.SelfSignedCert(dataDir)
	if err != nil {
		return nil, fmt.Errorf("bench: --tls: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("bench: --tls: %w", err)
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("bench: --tls: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("bench: --tls: no certificate in %s", certFile)
	}
	return &runTLS{cert: cert, roots: roots}, nil
}

// server is the yardstick's TLS configuration (nil for a plain run).
func (t *runTLS) server() *tls.Config {
	if t == nil {
		return nil
	}
	return &tls.Config{Certificates: []tls.Certificate{t.cert}, MinVersion: tls.VersionTLS12}
}

// client is the client's (nil for a plain run).
func (t *runTLS) client() *tls.Config {
	if t == nil {
		return nil
	}
	return &tls.Config{RootCAs: t.roots, MinVersion: tls.VersionTLS12}
}
