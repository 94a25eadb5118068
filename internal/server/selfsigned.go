package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/durable"
)

// Self-signed certificate files, under the data directory.
const (
	selfSignedDir  = "tls"
	selfSignedCert = "self-signed.crt"
	selfSignedKey  = "self-signed.key"
	// selfSignedLife is a new certificate's validity; one within
	// selfSignedRenew of its end is replaced at start.
	selfSignedLife  = 397 * 24 * time.Hour
	selfSignedRenew = 30 * 24 * time.Hour
)

// SelfSignedCert returns the certificate and key files of the data
// directory's self-signed certificate for local HTTPS (serve
// --tls-self-signed), making them on first use and again near expiry, and
// the certificate's SHA-256 fingerprint (colon-separated hex, as browsers
// and openssl show it) for clients to pin. The certificate names
// localhost, the machine's host name, 127.0.0.1 and ::1, and extra (host
// names or addresses, e.g. from the listen address).
func SelfSignedCert(dataDir string, extra ...string) (certFile, keyFile, fingerprint string, err error) {
	dir := filepath.Join(dataDir, selfSignedDir)
	certFile, keyFile = filepath.Join(dir, selfSignedCert), filepath.Join(dir, selfSignedKey)
	if der, ok := usableCert(certFile); ok {
		if _, err := os.Stat(keyFile); err == nil {
			return certFile, keyFile, fingerprintOf(der), nil
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", "", "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "strongroom (self-signed)"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(selfSignedLife),
		// Its own CA, so clients can trust exactly it (curl --cacert,
		// aws --ca-bundle).
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, h)
	}
	for _, e := range extra {
		if ip := net.ParseIP(e); ip != nil {
			if !ip.IsUnspecified() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if e != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, strings.ToLower(e))
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", "", err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", "", err
	}
	// The key first: a certificate without its key is never left behind.
	if err := durable.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	if err := durable.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	return certFile, keyFile, fingerprintOf(der), nil
}

// usableCert returns the DER of the certificate in file if it is valid for
// longer than selfSignedRenew.
func usableCert(file string) ([]byte, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, false
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, false
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || time.Until(c.NotAfter) < selfSignedRenew {
		return nil, false
	}
	return blk.Bytes, true
}

func fingerprintOf(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
