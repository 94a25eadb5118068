package server_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms/kmip/kmiptest"
	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11/softhsm"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// BenchmarkHotKMSPut runs the 4 KiB SSE-KMS PUT with bucket keys through
// the handler of a node on each key provider (builtin keyring, a SoftHSM2
// token, a PyKMIP server), so cpu-ns/op shows any cost a provider adds to
// a request that makes no KMS call (the bucket key is cached), and
// allocs/op any work it adds. Run it a few times: the providers then take
// turns.
//
//	for i in 1 2 3; do go test -run '^$' -bench HotKMSPut -benchtime 3000x ./internal/server/; done
func BenchmarkHotKMSPut(b *testing.B) {
	data := make([]byte, 4<<10)
	rand.Read(data)
	hdr := map[string]string{"X-Amz-Server-Side-Encryption": "aws:kms", "X-Amz-Server-Side-Encryption-Bucket-Key-Enabled": "true"}
	for _, prov := range []string{server.KMSBuiltin, server.KMSPKCS11, server.KMSKMIP} {
		b.Run(prov, func(b *testing.B) {
			n := hotKMSNode(b, prov)
			// One PUT first: the bucket key is made and cached.
			if w := serve(b, n, signed(n, http.MethodPut, "/bkt/first", data, hdr)); w.code != http.StatusOK {
				b.Fatalf("first PUT: %d %s", w.code, w.body.String())
			}
			hotLoop(b, n, http.StatusOK, func(i int) *http.Request {
				return signed(n, http.MethodPut, fmt.Sprintf("/bkt/k%08d", i), data, hdr)
			})
		})
	}
}

// hotKMSNode opens a node on prov with a bucket; the token or server it
// needs is made in the benchmark's temporary directory.
func hotKMSNode(b *testing.B, prov string) *server.Node {
	b.Helper()
	dir := b.TempDir()
	cfg := server.Config{DataDir: filepath.Join(dir, "data"), Logger: slog.New(slog.DiscardHandler), Addr: "127.0.0.1:0", NoBackgroundJobs: true}
	switch prov {
	case server.KMSPKCS11:
		os.MkdirAll(filepath.Join(dir, "hsm"), 0o700)
		tok, err := softhsm.NewToken(filepath.Join(dir, "hsm"), "hot")
		if err != nil {
			b.Fatal(err)
		}
		os.Setenv("SOFTHSM2_CONF", tok.Conf)
		cfg.KMSConfig = server.KMSConfig{KMS: prov, PKCS11Module: tok.Module, PKCS11Token: tok.Label, PKCS11PINFile: tok.PINFile}
	case server.KMSKMIP:
		os.MkdirAll(filepath.Join(dir, "kmip"), 0o700)
		srv, err := kmiptest.New(filepath.Join(dir, "kmip"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(srv.Stop)
		cfg.KMSConfig = server.KMSConfig{KMS: prov, KMIPAddr: srv.Addr, KMIPCert: srv.CertFile, KMIPKey: srv.KeyFile, KMIPCA: srv.CAFile}
	}
	n, err := server.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.Close(ctx)
	})
	if w := serve(b, n, signed(n, http.MethodPut, "/bkt", nil, nil)); w.code != http.StatusOK {
		b.Fatalf("create bucket: %d %s", w.code, w.body.String())
	}
	return n
}
