package kmip

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/kms/kmip/ttlv"
)

// fakeServer is a mutual-TLS listener that answers every request with
// answer(request) (nil: never answers).
func fakeServer(t *testing.T, answer func(req []byte) []byte) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(srv.ServerCertFile, srv.ServerKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := os.ReadFile(srv.CAFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					hdr := make([]byte, 8)
					if _, err := io.ReadFull(c, hdr); err != nil {
						return
					}
					req := make([]byte, binary.BigEndian.Uint32(hdr[4:]))
					if _, err := io.ReadFull(c, req); err != nil {
						return
					}
					resp := answer(append(hdr, req...))
					if resp == nil {
						time.Sleep(time.Hour)
						return
					}
					c.Write(resp)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func encode(t *testing.T, it ttlv.Item) []byte {
	b, err := ttlv.Encode(it)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A broken or hostile KMIP server can make the provider fail, never hang,
// crash, allocate what it claims, or take its answer for a key.
func TestHostileServer(t *testing.T) {
	nested := ttlv.Struct(tagResponseMessage)
	for range 100 {
		nested = ttlv.Struct(tagResponseMessage, nested)
	}
	batch := func(items ...ttlv.Item) []byte {
		return encode(t, ttlv.Struct(tagResponseMessage, ttlv.Struct(tagResponseHeader), ttlv.Struct(tagBatchItem, items...)))
	}
	cases := []struct {
		name   string
		answer func([]byte) []byte
	}{
		{"huge length", func([]byte) []byte { return []byte{0x42, 0, 0x7B, 1, 0xFF, 0xFF, 0xFF, 0xF0} }},
		{"garbage", func([]byte) []byte { return []byte{0x42, 0, 0x7B, 1, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8} }},
		{"too deep", func([]byte) []byte { return encode(t, nested) }},
		{"not a response", func(req []byte) []byte { return req }},
		{"no batch item", func([]byte) []byte { return encode(t, ttlv.Struct(tagResponseMessage, ttlv.Struct(tagResponseHeader))) }},
		{"success without identifier", func([]byte) []byte {
			return batch(ttlv.Enum(tagResultStatus, 0), ttlv.Struct(tagResponsePayload))
		}},
		{"failure", func([]byte) []byte {
			return batch(ttlv.Enum(tagResultStatus, 1), ttlv.Enum(tagResultReason, reasonGeneralFailure), ttlv.Text(tagResultMessage, "no"))
		}},
		{"silent", func([]byte) []byte { return nil }},
	}
	tlsCfg, err := srv.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, err := Open(bg, Config{Addr: fakeServer(t, c.answer), TLS: tlsCfg, Timeout: time.Second})
			if err == nil {
				t.Fatal("Open succeeded against a hostile server")
			}
			if !errors.Is(err, kms.ErrUnavailable) {
				t.Errorf("err = %v, want ErrUnavailable", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}
