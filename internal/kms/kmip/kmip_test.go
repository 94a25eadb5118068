package kmip

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/kms/kmstest"
)

var bg = context.Background()

func mustCreate(t testing.TB, p *Provider, name string) kms.KeyInfo {
	t.Helper()
	info, err := p.CreateKey(bg, name)
	if err != nil {
		t.Fatalf("CreateKey(%q): %v", name, err)
	}
	return info
}

func mustRoundTrip(t testing.TB, p *Provider, ct, want []byte, encCtx map[string]string) {
	t.Helper()
	pt, err := p.Decrypt(bg, ct, encCtx)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if !bytes.Equal(pt, want) {
		t.Fatal("Decrypt returned other bytes")
	}
}

func TestRoundTrip(t *testing.T) {
	p := open(t)
	encCtx := map[string]string{"aws:s3:arn": "arn:aws:s3:::b/k"}
	dk, err := p.GenerateDataKey(bg, "", encCtx)
	if err != nil {
		t.Fatal(err)
	}
	if dk.KeyID != kms.DefaultKeyName || len(dk.Plaintext) != kms.DataKeySize {
		t.Fatalf("key id %q, %d bytes", dk.KeyID, len(dk.Plaintext))
	}
	if bytes.Contains(dk.Ciphertext, dk.Plaintext) {
		t.Fatal("ciphertext holds the plaintext")
	}
	mustRoundTrip(t, p, dk.Ciphertext, dk.Plaintext, encCtx)
	// nil and empty contexts are the same context.
	dk2, err := p.GenerateDataKey(bg, "alias/"+kms.DefaultKeyName, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustRoundTrip(t, p, dk2.Ciphertext, dk2.Plaintext, map[string]string{})
	info, err := p.DescribeKey(bg, "")
	if err != nil || !info.Default || !info.Enabled || info.Versions != 1 || info.Created.IsZero() {
		t.Fatalf("DescribeKey = %+v, %v", info, err)
	}
}

func TestWrongContextFails(t *testing.T) {
	p := open(t)
	encCtx := map[string]string{"bucket": "b", "key": "k"}
	dk, err := p.GenerateDataKey(bg, "", encCtx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []map[string]string{
		nil,
		{"bucket": "b"},
		{"bucket": "b", "key": "K"},
		{"bucket": "bk", "key": ""},
		{"bucket": "b", "key": "k", "extra": ""},
	} {
		if _, err := p.Decrypt(bg, dk.Ciphertext, c); !errors.Is(err, kms.ErrDecrypt) {
			t.Errorf("context %v: err = %v, want ErrDecrypt", c, err)
		}
	}
}

// layout returns the offsets of a ciphertext's fields.
func layout(ct []byte) (nameAt, versionAt, uidAt, nonceAt int) {
	n := int(binary.BigEndian.Uint16(ct[5:]))
	nameAt, versionAt = 7, 7+n
	u := int(binary.BigEndian.Uint16(ct[versionAt+4:]))
	uidAt = versionAt + 6
	return nameAt, versionAt, uidAt, uidAt + u
}

func TestTamperedCiphertextFails(t *testing.T) {
	p := open(t)
	mustCreate(t, p, "other")
	p.RotateKey(bg, "")
	encCtx := map[string]string{"k": "v"}
	dk, err := p.GenerateDataKey(bg, "", encCtx)
	if err != nil {
		t.Fatal(err)
	}
	other, err := p.GenerateDataKey(bg, "other", encCtx)
	if err != nil {
		t.Fatal(err)
	}
	_, versionAt, uidAt, nonceAt := layout(dk.Ciphertext)
	_, _, otherUIDAt, otherNonceAt := layout(other.Ciphertext)
	tamper := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(dk.Ciphertext)) }
	cases := []struct {
		name string
		ct   []byte
		want error
	}{
		{"empty", nil, kms.ErrDecrypt},
		{"magic", tamper(func(b []byte) []byte { b[0] ^= 1; return b }), kms.ErrDecrypt},
		{"format version", tamper(func(b []byte) []byte { b[4] = 2; return b }), kms.ErrDecrypt},
		{"older key version", tamper(func(b []byte) []byte { binary.BigEndian.PutUint32(b[versionAt:], 1); return b }), kms.ErrDecrypt},
		{"future key version", tamper(func(b []byte) []byte { binary.BigEndian.PutUint32(b[versionAt:], 9); return b }), kms.ErrDecrypt},
		{"zero key version", tamper(func(b []byte) []byte { binary.BigEndian.PutUint32(b[versionAt:], 0); return b }), kms.ErrDecrypt},
		{"unknown identifier", tamper(func(b []byte) []byte { b[uidAt] = 'x'; return b }), kms.ErrDecrypt},
		{"identifier of another key", tamper(func(b []byte) []byte {
			uid := other.Ciphertext[otherUIDAt:otherNonceAt]
			out := append(b[:uidAt-2:uidAt-2], byte(len(uid)>>8), byte(len(uid)))
			out = append(out, uid...)
			return append(out, dk.Ciphertext[nonceAt:]...)
		}), kms.ErrDecrypt},
		{"nonce", tamper(func(b []byte) []byte { b[nonceAt] ^= 1; return b }), kms.ErrDecrypt},
		{"body", tamper(func(b []byte) []byte { b[nonceAt+nonceSize] ^= 1; return b }), kms.ErrDecrypt},
		{"tag", tamper(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), kms.ErrDecrypt},
		{"truncated", dk.Ciphertext[:len(dk.Ciphertext)-1], kms.ErrDecrypt},
		{"header only", dk.Ciphertext[:nonceAt], kms.ErrDecrypt},
		{"appended", append(bytes.Clone(dk.Ciphertext), 0), kms.ErrDecrypt},
		{"unknown key name", tamper(func(b []byte) []byte { b[7] = 'X'; return b }), kms.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt, err := p.Decrypt(bg, c.ct, encCtx)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
		})
	}
	mustRoundTrip(t, p, dk.Ciphertext, dk.Plaintext, encCtx)
}

func TestRotation(t *testing.T) {
	p := open(t)
	mustCreate(t, p, "rot")
	var cts [][]byte
	var pts [][]byte
	for v := 1; v <= 5; v++ {
		if v > 1 {
			info, err := p.RotateKey(bg, "arn:aws:kms:us-east-1:000000000000:key/rot")
			if err != nil || info.Versions != v || info.Rotated.Before(info.Created) {
				t.Fatalf("RotateKey = %+v, %v", info, err)
			}
		}
		dk, err := p.GenerateDataKey(bg, "rot", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, versionAt, _, _ := layout(dk.Ciphertext)
		if got := binary.BigEndian.Uint32(dk.Ciphertext[versionAt:]); got != uint32(v) {
			t.Fatalf("wrapped by version %d, want %d", got, v)
		}
		cts, pts = append(cts, dk.Ciphertext), append(pts, dk.Plaintext)
	}
	for i := range cts {
		mustRoundTrip(t, p, cts[i], pts[i], nil)
	}
	// Another provider (another node) finds the newest version.
	q := reopen(t, p)
	info, err := q.DescribeKey(bg, "rot")
	if err != nil || info.Versions != 5 {
		t.Fatalf("other node: %+v, %v", info, err)
	}
	mustRoundTrip(t, q, cts[0], pts[0], nil)
}

// reopen opens a second provider with p's prefix (another node).
func reopen(t testing.TB, p *Provider) *Provider {
	t.Helper()
	q, err := Open(bg, Config{Addr: srv.Addr, CertFile: srv.CertFile, KeyFile: srv.KeyFile, CAFile: srv.CAFile, Prefix: p.prefix, Group: p.group})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func TestDisableEnable(t *testing.T) {
	p := open(t)
	mustCreate(t, p, "d")
	dk := kmstest.DisableRefuses(t, bg, p, "alias/d")
	// Another node sees it too (no cache yet there).
	if _, err := reopen(t, p).Decrypt(bg, dk.Ciphertext, nil); !errors.Is(err, kms.ErrDisabled) {
		t.Errorf("other node: Decrypt on a disabled key: %v", err)
	}
	if _, err := p.DisableKey(bg, "d"); err != nil {
		t.Errorf("disabling twice: %v", err)
	}
	info, err := p.EnableKey(bg, "d")
	if err != nil || !info.Enabled {
		t.Fatalf("EnableKey = %+v, %v", info, err)
	}
	mustRoundTrip(t, p, dk.Ciphertext, dk.Plaintext, nil)
}

// A key an administrator revokes on the KMIP server is refused at once.
func TestRevokedOnServer(t *testing.T) {
	p := open(t)
	mustCreate(t, p, "r")
	dk, err := p.GenerateDataKey(bg, "r", nil)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := p.state(bg, "r")
	if err := p.c.revoke(bg, st.newestUID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.GenerateDataKey(bg, "r", nil); !errors.Is(err, kms.ErrDisabled) {
		t.Errorf("GenerateDataKey with a revoked key: %v", err)
	}
	if _, err := p.Decrypt(bg, dk.Ciphertext, nil); !errors.Is(err, kms.ErrDisabled) {
		t.Errorf("Decrypt with a revoked key: %v", err)
	}
	if info, err := p.DescribeKey(bg, "r"); err != nil || info.Enabled {
		t.Errorf("DescribeKey = %+v, %v", info, err)
	}
}

func TestDestroyKey(t *testing.T) {
	p := open(t)
	mustCreate(t, p, "gone")
	p.RotateKey(bg, "gone")
	dk, err := p.GenerateDataKey(bg, "gone", nil)
	if err != nil {
		t.Fatal(err)
	}
	p.DisableKey(bg, "gone")
	if err := p.DestroyKey(bg, "gone"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []*Provider{p, reopen(t, p)} {
		if _, err := q.Decrypt(bg, dk.Ciphertext, nil); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("Decrypt after destroy: %v", err)
		}
	}
	// The name is free again, and the new key is not the old one.
	mustCreate(t, p, "gone")
	if _, err := p.Decrypt(bg, dk.Ciphertext, nil); !errors.Is(err, kms.ErrDecrypt) {
		t.Errorf("Decrypt under a new key of the same name: %v", err)
	}
}

func TestUnknownAndInvalidKeys(t *testing.T) {
	p := open(t)
	for _, id := range []string{"nope", "alias/nope", "bad id!", "alias/", "arn:aws:s3:::x"} {
		if _, err := p.GenerateDataKey(bg, id, nil); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("GenerateDataKey(%q): %v", id, err)
		}
		if _, err := p.DescribeKey(bg, id); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("DescribeKey(%q): %v", id, err)
		}
		if _, err := p.RotateKey(bg, id); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("RotateKey(%q): %v", id, err)
		}
	}
	if _, err := p.CreateKey(bg, "bad id!"); !errors.Is(err, kms.ErrInvalidKeyID) {
		t.Errorf("CreateKey(invalid): %v", err)
	}
	if _, err := p.CreateKey(bg, kms.DefaultKeyName); !errors.Is(err, kms.ErrKeyExists) {
		t.Errorf("CreateKey(existing): %v", err)
	}
}

func TestListKeys(t *testing.T) {
	p := open(t)
	mustCreate(t, p, "b-key")
	mustCreate(t, p, "a/key")
	p.RotateKey(bg, "a/key")
	p.DisableKey(bg, "b-key")
	keys, err := p.ListKeys(bg)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(len(keys))
	for _, k := range keys {
		got += fmt.Sprintf(" %s:%d:%v:%v", k.ID, k.Versions, k.Enabled, k.Default)
	}
	if want := "3 a/key:2:true:false b-key:1:false:false strongroom-default:1:true:true"; got != want {
		t.Fatalf("ListKeys = %s, want %s", got, want)
	}
}

func TestEncryptRewrap(t *testing.T) {
	p := open(t)
	mustCreate(t, p, "to")
	secret := bytes.Repeat([]byte{7}, 48)
	ct, id, err := p.Encrypt(bg, "alias/to", secret, map[string]string{"c": "1"})
	if err != nil || id != "to" {
		t.Fatalf("Encrypt = %q, %v", id, err)
	}
	mustRoundTrip(t, p, ct, secret, map[string]string{"c": "1"})
	for _, n := range []int{0, kms.MaxEncryptSize + 1} {
		if _, _, err := p.Encrypt(bg, "to", make([]byte, n), nil); err == nil {
			t.Errorf("Encrypt of %d bytes succeeded", n)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	p := open(t)
	mustCreate(t, p, "c")
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			encCtx := map[string]string{"g": fmt.Sprint(g)}
			for i := range 6 {
				if g == 0 && i == 3 {
					if _, err := p.RotateKey(bg, "c"); err != nil {
						errc <- err
						return
					}
				}
				dk, err := p.GenerateDataKey(bg, "c", encCtx)
				if err != nil {
					errc <- err
					return
				}
				pt, err := p.Decrypt(bg, dk.Ciphertext, encCtx)
				if err != nil || !bytes.Equal(pt, dk.Plaintext) {
					errc <- fmt.Errorf("decrypt: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

// The server stopped: every call that needs it fails with ErrUnavailable
// (not a client error, not a decrypt failure); restarted, the same
// provider works again without being reopened.
func TestServerOutage(t *testing.T) {
	p := open(t)
	dk, err := p.GenerateDataKey(bg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	restarted := false
	defer func() {
		if !restarted {
			srv.Start()
		}
	}()
	if _, err := p.GenerateDataKey(bg, "", nil); !errors.Is(err, kms.ErrUnavailable) {
		t.Errorf("GenerateDataKey while down: %v", err)
	}
	if _, err := p.Decrypt(bg, dk.Ciphertext, nil); !errors.Is(err, kms.ErrUnavailable) {
		t.Errorf("Decrypt while down: %v", err)
	}
	if _, err := p.CreateKey(bg, "x"); !errors.Is(err, kms.ErrUnavailable) {
		t.Errorf("CreateKey while down: %v", err)
	}
	if _, err := Open(bg, Config{Addr: srv.Addr, CertFile: srv.CertFile, KeyFile: srv.KeyFile, CAFile: srv.CAFile}); !errors.Is(err, kms.ErrUnavailable) {
		t.Errorf("Open while down: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	mustRoundTrip(t, p, dk.Ciphertext, dk.Plaintext, nil)
	if _, err := p.GenerateDataKey(bg, "", nil); err != nil {
		t.Errorf("GenerateDataKey after restart: %v", err)
	}
}

func TestClosed(t *testing.T) {
	p := open(t)
	p.Close()
	if _, err := p.GenerateDataKey(bg, "", nil); !errors.Is(err, kms.ErrUnavailable) {
		t.Errorf("after Close: %v", err)
	}
}

func TestMutualTLSRequired(t *testing.T) {
	cfg, err := srv.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = nil
	if _, err := Open(bg, Config{Addr: srv.Addr, TLS: cfg}); !errors.Is(err, kms.ErrUnavailable) {
		t.Errorf("Open without a client certificate: %v", err)
	}
	if _, err := Open(bg, Config{Addr: srv.Addr, CertFile: srv.CertFile, KeyFile: srv.KeyFile, CAFile: srv.CertFile}); err == nil {
		t.Error("Open trusting the wrong CA succeeded")
	}
}

// The root sealing key seals the root key and nothing else: no client can
// have data keys made under it.
func TestRootSealingKeyReserved(t *testing.T) {
	p := open(t)
	root := bytes.Repeat([]byte{9}, kms.RootKeySize)
	sealed, err := p.SealRootKey(bg, root)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reopen(t, p).OpenRootKey(bg, sealed)
	if err != nil || !bytes.Equal(got, root) {
		t.Fatalf("OpenRootKey: %v", err)
	}
	if _, err := p.GenerateDataKey(bg, kms.RootKeyName, map[string]string{"aws:s3:arn": "arn:aws:s3:::b/k"}); !errors.Is(err, kms.ErrNotFound) {
		t.Errorf("GenerateDataKey under the root sealing key: %v", err)
	}
	if _, _, err := p.Encrypt(bg, "alias/"+kms.RootKeyName, root, nil); !errors.Is(err, kms.ErrNotFound) {
		t.Errorf("Encrypt under the root sealing key: %v", err)
	}
	if _, err := p.Decrypt(bg, sealed, nil); !errors.Is(err, kms.ErrDecrypt) {
		t.Errorf("Decrypt of the sealed root key as a data key: %v", err)
	}
}
