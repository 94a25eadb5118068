//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/kms/kmstest"
	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11/softhsmtest"
)

func open(t *testing.T, mech string) (*Provider, softhsmtest.Token) {
	t.Helper()
	tok := softhsmtest.New(t, "strongroom-test")
	p, err := Open(context.Background(), Config{Module: tok.Module, Token: tok.Label, PIN: tok.PIN, Mechanism: mech, Sessions: 4, RetryEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p, tok
}

var mechs = []string{MechGCM, MechKWP}

func TestGenerateDecryptContext(t *testing.T) {
	for _, mech := range mechs {
		t.Run(mech, func(t *testing.T) {
			p, _ := open(t, mech)
			ctx := context.Background()
			if _, err := p.CreateKey(ctx, "alias/photos"); err != nil {
				t.Fatal(err)
			}
			encCtx := map[string]string{"bucket": "b", "key": "k"}
			for _, keyID := range []string{"", "photos", "alias/photos", "arn:aws:kms:us-east-1:1:key/photos"} {
				dk, err := p.GenerateDataKey(ctx, keyID, encCtx)
				if err != nil {
					t.Fatalf("GenerateDataKey(%q): %v", keyID, err)
				}
				want := "photos"
				if keyID == "" {
					want = kms.DefaultKeyName
				}
				if dk.KeyID != want || len(dk.Plaintext) != kms.DataKeySize {
					t.Fatalf("GenerateDataKey(%q) = id %q, %d bytes", keyID, dk.KeyID, len(dk.Plaintext))
				}
				if bytes.Contains(dk.Ciphertext, dk.Plaintext) {
					t.Fatal("ciphertext holds the plaintext")
				}
				pt, err := p.Decrypt(ctx, dk.Ciphertext, map[string]string{"key": "k", "bucket": "b"})
				if err != nil || !bytes.Equal(pt, dk.Plaintext) {
					t.Fatalf("Decrypt: %v", err)
				}
				for _, wrong := range []map[string]string{nil, {"bucket": "b", "key": "K"}, {"bucket": "b", "key": "k", "x": ""}} {
					if _, err := p.Decrypt(ctx, dk.Ciphertext, wrong); !errors.Is(err, kms.ErrDecrypt) {
						t.Fatalf("Decrypt with context %v: %v, want ErrDecrypt", wrong, err)
					}
				}
			}
		})
	}
}

func TestTamper(t *testing.T) {
	for _, mech := range mechs {
		t.Run(mech, func(t *testing.T) {
			p, _ := open(t, mech)
			ctx := context.Background()
			dk, err := p.GenerateDataKey(ctx, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			n := len(kms.DefaultKeyName)
			cases := map[string]int{"mechanism": 4, "version": 7 + n + 3, "body start": 7 + n + 4, "body middle": 7 + n + 4 + 20, "last byte": len(dk.Ciphertext) - 1}
			for name, at := range cases {
				ct := bytes.Clone(dk.Ciphertext)
				ct[at] ^= 1
				if _, err := p.Decrypt(ctx, ct, nil); !errors.Is(err, kms.ErrDecrypt) {
					t.Errorf("%s flipped: %v, want ErrDecrypt", name, err)
				}
			}
			for _, ct := range [][]byte{nil, []byte("SRP1"), dk.Ciphertext[:len(dk.Ciphertext)-17], append(bytes.Clone(dk.Ciphertext), 0)} {
				if _, err := p.Decrypt(ctx, ct, nil); !errors.Is(err, kms.ErrDecrypt) {
					t.Errorf("ciphertext of %d bytes: %v, want ErrDecrypt", len(ct), err)
				}
			}
		})
	}
}

func TestUnknownAndDisabledKeys(t *testing.T) {
	p, _ := open(t, "")
	ctx := context.Background()
	for _, id := range []string{"nope", "alias/nope", "bad key id", "arn:nope"} {
		if _, err := p.GenerateDataKey(ctx, id, nil); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("GenerateDataKey(%q): %v, want ErrNotFound", id, err)
		}
		if _, err := p.DescribeKey(ctx, id); !errors.Is(err, kms.ErrNotFound) {
			t.Errorf("DescribeKey(%q): %v, want ErrNotFound", id, err)
		}
	}
	if _, err := p.CreateKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.CreateKey(ctx, "k1"); !errors.Is(err, kms.ErrKeyExists) {
		t.Fatalf("second CreateKey: %v, want ErrKeyExists", err)
	}
	if _, err := p.CreateKey(ctx, "bad name"); !errors.Is(err, kms.ErrInvalidKeyID) {
		t.Fatalf("CreateKey(bad name): %v, want ErrInvalidKeyID", err)
	}
	dk := kmstest.DisableRefuses(t, ctx, p, "k1")
	if info, err := p.DescribeKey(ctx, "k1"); err != nil || info.Enabled {
		t.Fatalf("DescribeKey: %+v %v", info, err)
	}
	// The token itself refuses the key, not just this process's view.
	p.mu.Lock()
	p.index = nil
	p.mu.Unlock()
	err := p.call(ctx, func(c *p11.Ctx, s *session) error {
		h, err := p.handle(c, s, label("k1", 1))
		if err != nil {
			return err
		}
		_, err = gcmSeal(c, s, h, nil, make([]byte, 32), nil)
		return err
	})
	if !isRV(err, p11.CKR_KEY_FUNCTION_NOT_PERMITTED) {
		t.Fatalf("encrypting with a disabled key object: %v, want CKR_KEY_FUNCTION_NOT_PERMITTED", err)
	}
	if _, err := p.EnableKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Decrypt(ctx, dk.Ciphertext, nil); err != nil {
		t.Fatalf("Decrypt after EnableKey: %v", err)
	}
	keys, err := p.ListKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].ID != "k1" || keys[1].ID != kms.DefaultKeyName || !keys[1].Default || !keys[0].Enabled {
		t.Fatalf("ListKeys = %+v, %v", keys, err)
	}
}

func TestRotate(t *testing.T) {
	for _, mech := range mechs {
		t.Run(mech, func(t *testing.T) {
			p, _ := open(t, mech)
			ctx := context.Background()
			if _, err := p.CreateKey(ctx, "r"); err != nil {
				t.Fatal(err)
			}
			old, err := p.GenerateDataKey(ctx, "r", map[string]string{"a": "1"})
			if err != nil {
				t.Fatal(err)
			}
			info, err := p.RotateKey(ctx, "r")
			if err != nil || info.Versions != 2 || !info.Rotated.After(info.Created) && !info.Rotated.Equal(info.Created) {
				t.Fatalf("RotateKey = %+v, %v", info, err)
			}
			cur, err := p.GenerateDataKey(ctx, "r", map[string]string{"a": "1"})
			if err != nil {
				t.Fatal(err)
			}
			h, _ := parse(cur.Ciphertext, validCMK)
			if h.version != 2 {
				t.Fatalf("new data key wrapped by version %d, want 2", h.version)
			}
			for _, dk := range []kms.DataKey{old, cur} {
				if pt, err := p.Decrypt(ctx, dk.Ciphertext, map[string]string{"a": "1"}); err != nil || !bytes.Equal(pt, dk.Plaintext) {
					t.Fatalf("Decrypt after rotation: %v", err)
				}
			}
			// A version the key does not have.
			forged := bytes.Clone(cur.Ciphertext)
			forged[7+1+3] = 9
			if _, err := p.Decrypt(ctx, forged, map[string]string{"a": "1"}); !errors.Is(err, kms.ErrDecrypt) {
				t.Fatalf("Decrypt naming version 9: %v, want ErrDecrypt", err)
			}
		})
	}
}

func TestMasterKeysStayInTheToken(t *testing.T) {
	p, _ := open(t, "")
	ctx := context.Background()
	if _, err := p.SealRootKey(ctx, bytes.Repeat([]byte{7}, 32)); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{label(kms.DefaultKeyName, 1), label(rootName, 1)} {
		err := p.call(ctx, func(c *p11.Ctx, s *session) error {
			h, err := p.handle(c, s, l)
			if err != nil {
				return err
			}
			attrs, err := c.GetAttributeValue(s.h, h, []*p11.Attribute{
				p11.NewAttribute(p11.CKA_SENSITIVE, nil), p11.NewAttribute(p11.CKA_EXTRACTABLE, nil),
				p11.NewAttribute(p11.CKA_TOKEN, nil), p11.NewAttribute(p11.CKA_VALUE_LEN, nil),
			})
			if err != nil {
				return err
			}
			if attrs[0].Value[0] != 1 || attrs[1].Value[0] != 0 || attrs[2].Value[0] != 1 {
				return fmt.Errorf("sensitive %v extractable %v token %v", attrs[0].Value, attrs[1].Value, attrs[2].Value)
			}
			if _, err := c.GetAttributeValue(s.h, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)}); !isRV(err, p11.CKR_ATTRIBUTE_SENSITIVE) {
				return fmt.Errorf("reading CKA_VALUE: %v, want CKR_ATTRIBUTE_SENSITIVE", err)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", l, err)
		}
	}
}

func TestRootKeySealing(t *testing.T) {
	for _, mech := range mechs {
		t.Run(mech, func(t *testing.T) {
			p, _ := open(t, mech)
			ctx := context.Background()
			root := bytes.Repeat([]byte{0xA5}, 32)
			sealed, err := p.SealRootKey(ctx, root)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(sealed, root[:8]) {
				t.Fatal("sealed root key holds the key")
			}
			got, err := p.OpenRootKey(ctx, sealed)
			if err != nil || !bytes.Equal(got, root) {
				t.Fatalf("OpenRootKey: %v", err)
			}
			// Neither form passes for the other.
			if _, err := p.Decrypt(ctx, sealed, rootContext); !errors.Is(err, kms.ErrDecrypt) {
				t.Fatalf("Decrypt of the sealed root key: %v, want ErrDecrypt", err)
			}
			dk, _ := p.GenerateDataKey(ctx, "", rootContext)
			if _, err := p.OpenRootKey(ctx, dk.Ciphertext); !errors.Is(err, kms.ErrDecrypt) {
				t.Fatalf("OpenRootKey of a data key: %v, want ErrDecrypt", err)
			}
			keys, _ := p.ListKeys(ctx)
			if len(keys) != 1 {
				t.Fatalf("ListKeys shows the root sealing key: %+v", keys)
			}
		})
	}
}

func TestConcurrency(t *testing.T) {
	p, _ := open(t, "")
	ctx := context.Background()
	var wg sync.WaitGroup
	errc := make(chan error, 32)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			encCtx := map[string]string{"g": fmt.Sprint(g)}
			for range 20 {
				dk, err := p.GenerateDataKey(ctx, "", encCtx)
				if err != nil {
					errc <- err
					return
				}
				pt, err := p.Decrypt(ctx, dk.Ciphertext, encCtx)
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
		t.Fatal(err)
	}
	if n := p.open.Load(); n > 4 {
		t.Fatalf("%d sessions open, pool size 4", n)
	}
}

func TestTokenRemovedAndBack(t *testing.T) {
	p, tok := open(t, "")
	ctx := context.Background()
	dk, err := p.GenerateDataKey(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	restore := tok.Remove(t)
	for _, op := range []func() error{
		func() error { _, err := p.GenerateDataKey(ctx, "", nil); return err },
		func() error { _, err := p.Decrypt(ctx, dk.Ciphertext, nil); return err },
		func() error { _, err := p.GenerateDataKey(ctx, "", nil); return err },
	} {
		if err := op(); !errors.Is(err, kms.ErrUnavailable) {
			t.Fatalf("with the token removed: %v, want ErrUnavailable", err)
		}
	}
	restore()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pt, err := p.Decrypt(ctx, dk.Ciphertext, nil)
		if err == nil {
			if !bytes.Equal(pt, dk.Plaintext) {
				t.Fatal("wrong plaintext after recovery")
			}
			break
		}
		if !errors.Is(err, kms.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("after the token is back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := p.GenerateDataKey(ctx, "", nil); err != nil {
		t.Fatalf("GenerateDataKey after recovery: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tok := softhsmtest.New(t, "strongroom-test")
	ctx := context.Background()
	for name, cfg := range map[string]Config{
		"wrong PIN":     {Module: tok.Module, Token: tok.Label, PIN: "wrong"},
		"unknown token": {Module: tok.Module, Token: "nope", PIN: tok.PIN},
		"no module":     {Module: filepath.Join(t.TempDir(), "missing.so"), Token: tok.Label, PIN: tok.PIN},
		"bad mechanism": {Module: tok.Module, Token: tok.Label, PIN: tok.PIN, Mechanism: "des"},
	} {
		p, err := Open(ctx, cfg)
		if err == nil {
			p.Close()
			t.Errorf("%s: Open succeeded", name)
			continue
		}
		if bytes.Contains([]byte(err.Error()), []byte(tok.PIN)) {
			t.Errorf("%s: error shows the PIN: %v", name, err)
		}
	}
}

func TestReadPIN(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "pin")
	os.WriteFile(f, []byte("s3cret\r\nignored\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	t.Setenv(PINEnv, "from-env")
	for _, tc := range []struct {
		file, want string
		fail       bool
	}{
		{file: f, want: "s3cret"},
		{file: "", want: "from-env"},
		{file: empty, fail: true},
		{file: filepath.Join(dir, "missing"), fail: true},
	} {
		got, err := ReadPIN(tc.file)
		if (err != nil) != tc.fail || got != tc.want {
			t.Errorf("ReadPIN(%q) = %q, %v", tc.file, got, err)
		}
	}
	t.Setenv(PINEnv, "")
	if _, err := ReadPIN(""); err == nil {
		t.Error("ReadPIN with neither file nor environment succeeded")
	}
}
