package kms

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/durable"
	"github.com/strongroom-dev/strongroom/internal/errs"
)

var bg = context.Background()

func randomKey(t testing.TB) []byte {
	k := make([]byte, RootKeySize)
	rand.Read(k)
	return k
}

func newKeyring(t testing.TB) (*Keyring, string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keyring")
	root := randomKey(t)
	k, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k, path, root
}

// mustClose closes k, which must succeed: a keyring must be closed (its lock
// released) before the same file is opened again.
func mustClose(t testing.TB, k *Keyring) {
	t.Helper()
	if err := k.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func mustCreate(t testing.TB, k *Keyring, name string) KeyInfo {
	t.Helper()
	info, err := k.CreateKey(bg, name)
	if err != nil {
		t.Fatalf("CreateKey(%q): %v", name, err)
	}
	return info
}

func TestNewKeyringHasDefaultKey(t *testing.T) {
	k, path, _ := newKeyring(t)
	keys, err := k.ListKeys(bg)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].ID != DefaultKeyName || !keys[0].Default || !keys[0].Enabled || keys[0].Versions != 1 {
		t.Fatalf("new keyring keys = %+v", keys)
	}
	info, err := k.DescribeKey(bg, "")
	if err != nil || info.ID != DefaultKeyName {
		t.Fatalf(`DescribeKey("") = %+v, %v`, info, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("keyring file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestRoundTrip(t *testing.T) {
	k, _, _ := newKeyring(t)
	mustCreate(t, k, "app/key-1")
	tests := []struct {
		name   string
		keyID  string
		wantID string
		encCtx map[string]string
	}{
		{"default nil ctx", "", DefaultKeyName, nil},
		{"default empty ctx", "", DefaultKeyName, map[string]string{}},
		{"default by name", DefaultKeyName, DefaultKeyName, map[string]string{"bucket": "b", "key": "k"}},
		{"named", "app/key-1", "app/key-1", map[string]string{"aws:s3:arn": "arn:aws:s3:::b/k"}},
		{"alias", "alias/app/key-1", "app/key-1", nil},
		{"key arn", "arn:aws:kms:us-east-1:111122223333:key/app/key-1", "app/key-1", nil},
		{"alias arn", "arn:aws:kms:us-east-1:111122223333:alias/app/key-1", "app/key-1", map[string]string{"": ""}},
		{"unicode ctx", "app/key-1", "app/key-1", map[string]string{"键": "值", "k\x00": "\xff"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dk, err := k.GenerateDataKey(bg, tc.keyID, tc.encCtx)
			if err != nil {
				t.Fatal(err)
			}
			if len(dk.Plaintext) != DataKeySize || dk.KeyID != tc.wantID {
				t.Fatalf("data key: %d bytes, id %q", len(dk.Plaintext), dk.KeyID)
			}
			if bytes.Contains(dk.Ciphertext, dk.Plaintext) {
				t.Fatal("ciphertext contains the plaintext")
			}
			if id, v, err := k.CiphertextKey(dk.Ciphertext); err != nil || id != tc.wantID || v != 1 {
				t.Fatalf("CiphertextKey = %q, %d, %v", id, v, err)
			}
			pt, err := k.Decrypt(bg, dk.Ciphertext, maps.Clone(tc.encCtx))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pt, dk.Plaintext) {
				t.Fatal("decrypted data key differs")
			}
		})
	}
}

func TestDataKeysAreFresh(t *testing.T) {
	k, _, _ := newKeyring(t)
	seen := map[string]bool{}
	for range 100 {
		dk, err := k.GenerateDataKey(bg, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(dk.Plaintext)] || seen[string(dk.Ciphertext)] {
			t.Fatal("repeated data key or ciphertext")
		}
		seen[string(dk.Plaintext)] = true
		seen[string(dk.Ciphertext)] = true
	}
}

func TestWrongContextFails(t *testing.T) {
	k, _, _ := newKeyring(t)
	tests := []struct {
		name      string
		seal, use map[string]string
	}{
		{"missing pair", map[string]string{"bucket": "b", "key": "k"}, map[string]string{"bucket": "b"}},
		{"extra pair", map[string]string{"bucket": "b"}, map[string]string{"bucket": "b", "key": "k"}},
		{"changed value", map[string]string{"key": "k1"}, map[string]string{"key": "k2"}},
		{"changed key", map[string]string{"key": "k"}, map[string]string{"Key": "k"}},
		{"boundary shift", map[string]string{"a": "bc"}, map[string]string{"ab": "c"}},
		{"empty vs some", nil, map[string]string{"a": ""}},
		{"some vs empty", map[string]string{"a": ""}, nil},
		{"empty key vs none", map[string]string{"": ""}, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dk, err := k.GenerateDataKey(bg, "", tc.seal)
			if err != nil {
				t.Fatal(err)
			}
			pt, err := k.Decrypt(bg, dk.Ciphertext, tc.use)
			if !errors.Is(err, ErrDecrypt) || pt != nil {
				t.Fatalf("Decrypt with wrong context = %x, %v; want ErrDecrypt", pt, err)
			}
			if _, err := k.Decrypt(bg, dk.Ciphertext, tc.seal); err != nil {
				t.Fatalf("right context: %v", err)
			}
		})
	}
}

func TestTamperedCiphertextFails(t *testing.T) {
	k, _, _ := newKeyring(t)
	mustCreate(t, k, "k1")
	mustCreate(t, k, "k2") // a same-length name a flipped byte could turn into
	for range 3 {
		if _, err := k.RotateKey(bg, "k1"); err != nil { // versions 1..4 exist
			t.Fatal(err)
		}
	}
	encCtx := map[string]string{"bucket": "b", "key": "k"}
	dk, err := k.GenerateDataKey(bg, "k1", encCtx)
	if err != nil {
		t.Fatal(err)
	}
	ct := dk.Ciphertext
	check := func(what string, bad []byte) {
		t.Helper()
		pt, err := k.Decrypt(bg, bad, encCtx)
		if err == nil || pt != nil {
			t.Fatalf("%s: Decrypt succeeded", what)
		}
		if !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		if strings.Contains(err.Error(), string(dk.Plaintext)) {
			t.Fatalf("%s: error contains key bytes", what)
		}
	}
	for i := range ct {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(ct)
			bad[i] ^= mask
			check(fmt.Sprintf("byte %d ^ %#x", i, mask), bad)
		}
	}
	// Version bytes pointing at other existing versions must fail too.
	vOff := len(wrapMagic) + 1 + 2 + len("k1")
	for v := byte(1); v <= 4; v++ {
		if v == ct[vOff+3] {
			continue
		}
		bad := bytes.Clone(ct)
		bad[vOff+3] = v
		check(fmt.Sprintf("version %d", v), bad)
	}
	// The name of the other existing key.
	bad := bytes.Clone(ct)
	copy(bad[len(wrapMagic)+3:], "k2")
	check("other key", bad)
	for n := range len(ct) {
		check(fmt.Sprintf("truncated to %d", n), ct[:n])
	}
	check("appended byte", append(bytes.Clone(ct), 0))
	check("nil", nil)
	if _, err := k.Decrypt(bg, ct, encCtx); err != nil {
		t.Fatalf("original no longer decrypts: %v", err)
	}
}

func TestRotation(t *testing.T) {
	k, path, root := newKeyring(t)
	mustCreate(t, k, "rot")
	encCtx := map[string]string{"o": "1"}
	var cts [][]byte
	var pts [][]byte
	for v := 1; v <= 3; v++ {
		dk, err := k.GenerateDataKey(bg, "alias/rot", encCtx)
		if err != nil {
			t.Fatal(err)
		}
		if id, gotV, _ := k.CiphertextKey(dk.Ciphertext); id != "rot" || gotV != v {
			t.Fatalf("data key after %d rotations uses %q v%d, want v%d", v-1, id, gotV, v)
		}
		cts, pts = append(cts, dk.Ciphertext), append(pts, dk.Plaintext)
		info, err := k.RotateKey(bg, "rot")
		if err != nil {
			t.Fatal(err)
		}
		if info.Versions != v+1 || info.Rotated.Before(info.Created) {
			t.Fatalf("after rotation: %+v", info)
		}
	}
	// The other keys are untouched.
	if info, _ := k.DescribeKey(bg, ""); info.Versions != 1 {
		t.Errorf("default key has %d versions", info.Versions)
	}
	check := func(k *Keyring) {
		t.Helper()
		for i, ct := range cts {
			pt, err := k.Decrypt(bg, ct, encCtx)
			if err != nil || !bytes.Equal(pt, pts[i]) {
				t.Fatalf("version %d ciphertext after rotation: %v", i+1, err)
			}
		}
	}
	check(k)
	// Rotation survives a reopen, and old ciphertexts still decrypt.
	mustClose(t, k)
	k2, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	check(k2)
	dk, err := k2.GenerateDataKey(bg, "rot", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, v, _ := k2.CiphertextKey(dk.Ciphertext); v != 4 {
		t.Fatalf("after reopen new data keys use v%d, want v4", v)
	}
}

func TestDisableEnable(t *testing.T) {
	k, path, root := newKeyring(t)
	mustCreate(t, k, "dk")
	encCtx := map[string]string{"x": "y"}
	dk, err := k.GenerateDataKey(bg, "dk", encCtx)
	if err != nil {
		t.Fatal(err)
	}
	info, err := k.DisableKey(bg, "arn:aws:kms:r:1:alias/dk")
	if err != nil || info.Enabled {
		t.Fatalf("DisableKey = %+v, %v", info, err)
	}
	isDisabled := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, ErrDisabled) || !errors.Is(err, errs.KMSDisabled) {
			t.Errorf("%s on disabled key: %v, want ErrDisabled", op, err)
		}
	}
	_, err = k.GenerateDataKey(bg, "dk", encCtx)
	isDisabled("GenerateDataKey", err)
	_, err = k.Decrypt(bg, dk.Ciphertext, encCtx)
	isDisabled("Decrypt", err)
	_, _, err = k.Encrypt(bg, "dk", []byte("x"), nil)
	isDisabled("Encrypt", err)
	_, err = k.RotateKey(bg, "dk")
	isDisabled("RotateKey", err)
	info, err = k.DescribeKey(bg, "dk")
	if err != nil || info.Enabled {
		t.Errorf("DescribeKey on disabled key = %+v, %v; want Enabled false, no error", info, err)
	}
	// Other keys keep working.
	if _, err := k.GenerateDataKey(bg, "", nil); err != nil {
		t.Errorf("default key: %v", err)
	}
	// The file as DisableKey left it, checked below once k is closed.
	disabledFile, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	if info, err := k.EnableKey(bg, "dk"); err != nil || !info.Enabled {
		t.Fatalf("EnableKey = %+v, %v", info, err)
	}
	pt, err := k.Decrypt(bg, dk.Ciphertext, encCtx)
	if err != nil || !bytes.Equal(pt, dk.Plaintext) {
		t.Fatalf("Decrypt after enable: %v", err)
	}
	if _, err := k.GenerateDataKey(bg, "dk", encCtx); err != nil {
		t.Fatalf("GenerateDataKey after enable: %v", err)
	}

	// Disabled state is persisted.
	mustClose(t, k)
	if err := os.WriteFile(path, disabledFile, 0o600); err != nil {
		t.Fatal(err)
	}
	k2, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = k2.Decrypt(bg, dk.Ciphertext, encCtx)
	isDisabled("Decrypt after reopen", err)
	mustClose(t, k2)
}

func TestUnknownKey(t *testing.T) {
	k, _, _ := newKeyring(t)
	other, _, _ := newKeyring(t)
	mustCreate(t, other, "elsewhere")
	foreign, err := other.GenerateDataKey(bg, "elsewhere", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"GenerateDataKey", func() error { _, err := k.GenerateDataKey(bg, "nope", nil); return err }},
		{"GenerateDataKey alias", func() error { _, err := k.GenerateDataKey(bg, "alias/nope", nil); return err }},
		{"GenerateDataKey arn", func() error {
			_, err := k.GenerateDataKey(bg, "arn:aws:kms:us-east-1:1:key/nope", nil)
			return err
		}},
		{"GenerateDataKey malformed id", func() error { _, err := k.GenerateDataKey(bg, "no such key!", nil); return err }},
		{"Encrypt", func() error { _, _, err := k.Encrypt(bg, "nope", []byte("x"), nil); return err }},
		{"DescribeKey", func() error { _, err := k.DescribeKey(bg, "nope"); return err }},
		{"DescribeKey malformed id", func() error { _, err := k.DescribeKey(bg, strings.Repeat("x", 300)); return err }},
		{"Decrypt foreign ciphertext", func() error { _, err := k.Decrypt(bg, foreign.Ciphertext, nil); return err }},
		{"RotateKey", func() error { _, err := k.RotateKey(bg, "nope"); return err }},
		{"DisableKey", func() error { _, err := k.DisableKey(bg, "nope"); return err }},
		{"EnableKey", func() error { _, err := k.EnableKey(bg, "nope"); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, ErrNotFound) || !errors.Is(err, errs.KMSNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			if e := errs.As(err); e == nil || e.Code != "KMS.NotFoundException" || e.Status != 400 {
				t.Fatalf("errs.As = %+v", e)
			}
		})
	}
}

func TestAliasAndARNResolution(t *testing.T) {
	k, _, _ := newKeyring(t)
	info := mustCreate(t, k, "alias/team/app")
	if info.ID != "team/app" {
		t.Fatalf("CreateKey(alias/team/app) created %q", info.ID)
	}
	forms := []string{
		"team/app",
		"alias/team/app",
		"arn:aws:kms:us-east-1:111122223333:key/team/app",
		"arn:aws:kms:us-east-1:111122223333:alias/team/app",
		"arn:aws-cn:kms:cn-north-1:111122223333:alias/team/app",
	}
	var cts [][]byte
	for _, f := range forms {
		info, err := k.DescribeKey(bg, f)
		if err != nil || info.ID != "team/app" {
			t.Errorf("DescribeKey(%q) = %+v, %v", f, info, err)
		}
		dk, err := k.GenerateDataKey(bg, f, nil)
		if err != nil || dk.KeyID != "team/app" {
			t.Fatalf("GenerateDataKey(%q) = %q, %v", f, dk.KeyID, err)
		}
		cts = append(cts, dk.Ciphertext)
	}
	for i, ct := range cts {
		if _, err := k.Decrypt(bg, ct, nil); err != nil {
			t.Errorf("ciphertext made via %q: %v", forms[i], err)
		}
	}
	for _, f := range forms {
		if _, err := k.CreateKey(bg, f); !errors.Is(err, ErrKeyExists) {
			t.Errorf("CreateKey(%q) on existing key: %v, want ErrKeyExists", f, err)
		}
	}
	// Rotating through one form is seen through all others.
	if _, err := k.RotateKey(bg, forms[3]); err != nil {
		t.Fatal(err)
	}
	if info, _ := k.DescribeKey(bg, forms[0]); info.Versions != 2 {
		t.Errorf("versions = %d after rotation via ARN", info.Versions)
	}
	// Lookups are case-sensitive.
	if _, err := k.DescribeKey(bg, "Team/App"); !errors.Is(err, ErrNotFound) {
		t.Errorf("case-insensitive lookup: %v", err)
	}
}

func TestCreateKeyInvalidNames(t *testing.T) {
	k, _, _ := newKeyring(t)
	for _, name := range []string{"", "alias/", "has space", "semi;colon", strings.Repeat("x", 257), "alias/alias/x", "arn:aws:kms:r:a:other/x", "ключ"} {
		if _, err := k.CreateKey(bg, name); !errors.Is(err, ErrInvalidKeyID) {
			t.Errorf("CreateKey(%q) = %v, want ErrInvalidKeyID", name, err)
		}
	}
	if keys, _ := k.ListKeys(bg); len(keys) != 1 {
		t.Errorf("invalid creates left %d keys", len(keys))
	}
}

func TestReopenKeepsKeys(t *testing.T) {
	k, path, root := newKeyring(t)
	for _, n := range []string{"b", "a", "c/d"} {
		mustCreate(t, k, n)
	}
	k.RotateKey(bg, "a")
	k.RotateKey(bg, "a")
	k.DisableKey(bg, "b")
	encCtx := map[string]string{"bucket": "x"}
	dkA, _ := k.GenerateDataKey(bg, "a", encCtx)
	dkDef, _ := k.GenerateDataKey(bg, "", encCtx)
	before, _ := k.ListKeys(bg)

	// Keep the secrets the first keyring holds, to compare.
	secrets := allSecrets(k)

	mustClose(t, k)
	k2, err := OpenKeyring(path, bytes.Clone(root))
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	after, err := k2.ListKeys(bg)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("keys before %v after %v", before, after)
	}
	for i := range before {
		b, a := before[i], after[i]
		if a.ID != b.ID || a.Enabled != b.Enabled || a.Versions != b.Versions || a.Default != b.Default ||
			!a.Created.Equal(b.Created) || !a.Rotated.Equal(b.Rotated) {
			t.Errorf("key %d: before %+v after %+v", i, b, a)
		}
	}
	if got := allSecrets(k2); !maps.EqualFunc(got, secrets, bytes.Equal) {
		t.Error("secrets differ after reopen")
	}
	for _, dk := range []DataKey{dkA, dkDef} {
		pt, err := k2.Decrypt(bg, dk.Ciphertext, encCtx)
		if err != nil || !bytes.Equal(pt, dk.Plaintext) {
			t.Errorf("decrypt %s after reopen: %v", dk.KeyID, err)
		}
	}
}

// allSecrets returns every CMK secret of k by "id/version".
func allSecrets(k *Keyring) map[string][]byte {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := map[string][]byte{}
	for id, c := range k.st.keys {
		for i, v := range c.versions {
			out[fmt.Sprintf("%s/%d", id, i+1)] = bytes.Clone(v.secret)
		}
	}
	return out
}

func TestWrongRootKeyFailsCleanly(t *testing.T) {
	k, path, root := newKeyring(t)
	mustCreate(t, k, "x")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, k) // release the lock: the opens below must reach the file
	wrong := bytes.Clone(root)
	wrong[7] ^= 1
	tests := []struct {
		name  string
		file  []byte // nil: leave the file as is
		root  []byte
		want  error // nil: any error
		clean bool  // also check the file is unchanged afterwards
	}{
		{"one bit off", nil, wrong, ErrWrongRootKey, true},
		{"other key", nil, randomKey(t), ErrWrongRootKey, true},
		{"short key", nil, root[:31], nil, true},
		{"long key", nil, append(bytes.Clone(root), 0), nil, true},
		{"nil key", nil, nil, nil, true},
		{"body bit flip", flip(good, len(good)-20), root, ErrKeyringCorrupt, false},
		{"tag bit flip", flip(good, len(good)-1), root, ErrKeyringCorrupt, false},
		{"header version", flip(good, 9), root, nil, false},
		{"bad magic", flip(good, 0), root, ErrKeyringCorrupt, false},
		{"truncated body", good[:len(good)-1], root, ErrKeyringCorrupt, false},
		{"truncated header", good[:20], root, ErrKeyringCorrupt, false},
		{"empty file", []byte{}, root, ErrKeyringCorrupt, false},
		{"check value flip", flip(good, 50), root, ErrWrongRootKey, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.file != nil {
				if err := os.WriteFile(path, tc.file, 0o600); err != nil {
					t.Fatal(err)
				}
				defer os.WriteFile(path, good, 0o600)
			}
			got, err := OpenKeyring(path, tc.root)
			if err == nil || got != nil {
				t.Fatalf("OpenKeyring succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			msg := err.Error()
			for _, secret := range [][]byte{root, tc.root} {
				if len(secret) > 4 && (strings.Contains(msg, string(secret)) || strings.Contains(msg, hex.EncodeToString(secret)) ||
					strings.Contains(msg, base64.StdEncoding.EncodeToString(secret))) {
					t.Fatalf("error contains key material: %q", msg)
				}
			}
			if tc.clean {
				now, _ := os.ReadFile(path)
				if !bytes.Equal(now, good) {
					t.Fatal("failed open changed the keyring file")
				}
			}
		})
	}
	// And the right key still opens it (no failed open kept the lock).
	k2, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, k2)
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

func TestKeyringFileHoldsNoSecretInClear(t *testing.T) {
	k, path, root := newKeyring(t)
	for i := range 5 {
		mustCreate(t, k, fmt.Sprintf("key-%d", i))
	}
	for range 3 {
		k.RotateKey(bg, "key-1")
		k.RotateKey(bg, "")
	}
	var dataKeys [][]byte
	for range 10 {
		dk, _ := k.GenerateDataKey(bg, "key-1", nil)
		dataKeys = append(dataKeys, dk.Plaintext)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secrets := allSecrets(k)
	if len(secrets) != 5+1+3+3 {
		t.Fatalf("%d secrets, want 12", len(secrets))
	}
	all := [][]byte{root}
	for _, s := range secrets {
		all = append(all, s)
	}
	all = append(all, dataKeys...)
	lower := bytes.ToLower(file)
	for _, s := range all {
		for _, form := range [][]byte{
			s[:16], s[16:], // any half of a secret, raw
			[]byte(hex.EncodeToString(s[:12])),
			[]byte(base64.StdEncoding.EncodeToString(s)[:16]),
			[]byte(base64.URLEncoding.EncodeToString(s)[:16]),
		} {
			if bytes.Contains(file, form) || bytes.Contains(lower, bytes.ToLower(form)) {
				t.Fatalf("keyring file contains a secret (form %q)", form)
			}
		}
	}
	// Key names are inside the encryption too.
	if bytes.Contains(file, []byte("key-1")) || bytes.Contains(file, []byte(DefaultKeyName)) {
		t.Error("keyring file shows key names in clear")
	}
	// No temp files left behind: only the keyring and its lock file.
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{filepath.Base(path), filepath.Base(path) + ".lock"} // ReadDir sorts by name
	if !slices.Equal(names, want) {
		t.Errorf("directory holds %q, want only %q", names, want)
	}
}

func TestStaleTempFilesRemovedOnOpen(t *testing.T) {
	k0, path, root := newKeyring(t)
	mustClose(t, k0)
	stale := filepath.Join(filepath.Dir(path), durable.TempPrefix(filepath.Base(path))+"12345")
	other := filepath.Join(filepath.Dir(path), "unrelated")
	os.WriteFile(stale, []byte("junk"), 0o600)
	os.WriteFile(other, []byte("keep"), 0o600)
	k, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, k)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temp file survived open")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("unrelated file removed")
	}
}

func TestFailedWriteChangesNothing(t *testing.T) {
	k, path, _ := newKeyring(t)
	mustCreate(t, k, "x")
	before := allSecrets(k)
	// Make the directory unusable: the write must fail (even as root).
	dir := filepath.Dir(path)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := k.RotateKey(bg, "x"); err == nil {
		t.Fatal("RotateKey succeeded without a directory")
	}
	if _, err := k.CreateKey(bg, "y"); err == nil {
		t.Fatal("CreateKey succeeded without a directory")
	}
	if _, err := k.DisableKey(bg, "x"); err == nil {
		t.Fatal("DisableKey succeeded without a directory")
	}
	if got := allSecrets(k); !maps.EqualFunc(got, before, bytes.Equal) {
		t.Error("in-memory keys changed by failed writes")
	}
	if info, err := k.DescribeKey(bg, "x"); err != nil || !info.Enabled || info.Versions != 1 {
		t.Errorf("key after failed changes: %+v, %v", info, err)
	}
	if _, err := k.DescribeKey(bg, "y"); !errors.Is(err, ErrNotFound) {
		t.Errorf("failed CreateKey left a key: %v", err)
	}
	// Data keys still work from memory.
	if _, err := k.GenerateDataKey(bg, "x", nil); err != nil {
		t.Error(err)
	}
}

func TestOpenInMissingDirectoryFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "keyring")
	if _, err := OpenKeyring(path, randomKey(t)); err == nil {
		t.Fatal("OpenKeyring in a missing directory succeeded")
	}
}

func TestChangeRootKey(t *testing.T) {
	k, path, oldRoot := newKeyring(t)
	mustCreate(t, k, "x")
	dk, _ := k.GenerateDataKey(bg, "x", nil)
	newRoot := randomKey(t)
	if err := k.ChangeRootKey(bg, newRoot[:5]); err == nil {
		t.Fatal("short root key accepted")
	}
	if err := k.ChangeRootKey(bg, newRoot); err != nil {
		t.Fatal(err)
	}
	// The file as ChangeRootKey left it, before any later change.
	changed, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Later changes through the same handle are written under the new root
	// key.
	mustCreate(t, k, "y")
	mustClose(t, k) // the opens below need the lock
	later, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		file  []byte
		wantY bool
	}{
		{"after ChangeRootKey", changed, false},
		{"after a later change", later, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, tc.file, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := OpenKeyring(path, oldRoot); !errors.Is(err, ErrWrongRootKey) {
				t.Fatalf("old root key after change: %v", err)
			}
			k2, err := OpenKeyring(path, newRoot)
			if err != nil {
				t.Fatal(err)
			}
			defer k2.Close()
			if pt, err := k2.Decrypt(bg, dk.Ciphertext, nil); err != nil || !bytes.Equal(pt, dk.Plaintext) {
				t.Fatalf("decrypt after root key change: %v", err)
			}
			_, err = k2.DescribeKey(bg, "y")
			if tc.wantY && err != nil {
				t.Fatal(err)
			}
			if !tc.wantY && !errors.Is(err, ErrNotFound) {
				t.Fatalf("key y before it was created: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestEncryptRewrap(t *testing.T) {
	k, _, _ := newKeyring(t)
	mustCreate(t, k, "new")
	encCtx := map[string]string{"bucket": "b"}
	dk, _ := k.GenerateDataKey(bg, "", encCtx)
	// Re-wrap the same data key under another CMK: Decrypt then Encrypt.
	pt, err := k.Decrypt(bg, dk.Ciphertext, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	ct, id, err := k.Encrypt(bg, "alias/new", pt, encCtx)
	if err != nil || id != "new" {
		t.Fatalf("Encrypt = %q, %v", id, err)
	}
	got, err := k.Decrypt(bg, ct, encCtx)
	if err != nil || !bytes.Equal(got, dk.Plaintext) {
		t.Fatalf("re-wrapped key: %v", err)
	}
	for _, n := range []int{0, MaxEncryptSize + 1} {
		if _, _, err := k.Encrypt(bg, "", make([]byte, n), nil); err == nil {
			t.Errorf("Encrypt of %d bytes succeeded", n)
		}
	}
	big := bytes.Repeat([]byte{7}, MaxEncryptSize)
	ct, _, err = k.Encrypt(bg, "", big, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k.Decrypt(bg, ct, nil); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("max size round trip: %v", err)
	}
}

func TestCanceledContext(t *testing.T) {
	k, _, _ := newKeyring(t)
	dk, _ := k.GenerateDataKey(bg, "", nil)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	calls := []func() error{
		func() error { _, err := k.GenerateDataKey(ctx, "", nil); return err },
		func() error { _, err := k.Decrypt(ctx, dk.Ciphertext, nil); return err },
		func() error { _, err := k.DescribeKey(ctx, ""); return err },
		func() error { _, _, err := k.Encrypt(ctx, "", []byte("x"), nil); return err },
		func() error { _, err := k.CreateKey(ctx, "x"); return err },
		func() error { _, err := k.RotateKey(ctx, ""); return err },
		func() error { _, err := k.ListKeys(ctx); return err },
		func() error { return k.ChangeRootKey(ctx, randomKey(t)) },
	}
	for i, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("call %d: %v, want context.Canceled", i, err)
		}
	}
}

func TestClose(t *testing.T) {
	k, _, _ := newKeyring(t)
	dk, _ := k.GenerateDataKey(bg, "", nil)
	k.mu.RLock()
	secret := k.st.keys[DefaultKeyName].versions[0].secret
	k.mu.RUnlock()
	root := k.root
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(secret, make([]byte, secretSize)) || !bytes.Equal(root, make([]byte, RootKeySize)) {
		t.Error("Close did not zero key material")
	}
	for i, err := range []error{
		func() error { _, err := k.GenerateDataKey(bg, "", nil); return err }(),
		func() error { _, err := k.Decrypt(bg, dk.Ciphertext, nil); return err }(),
		func() error { _, err := k.DescribeKey(bg, ""); return err }(),
		func() error { _, err := k.CreateKey(bg, "x"); return err }(),
		func() error { _, err := k.ListKeys(bg); return err }(),
		k.ChangeRootKey(bg, randomKey(t)),
	} {
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, errs.KMSUnavailable) {
			t.Errorf("call %d after Close: %v, want ErrUnavailable", i, err)
		}
	}
	if err := k.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	k, path, root := newKeyring(t)
	mustCreate(t, k, "busy")
	const workers, perWorker = 8, 150
	var wg sync.WaitGroup
	errc := make(chan error, workers+1)
	stop := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keyID := []string{"", "busy", "alias/busy"}[w%3]
			for i := range perWorker {
				encCtx := map[string]string{"w": fmt.Sprint(w), "i": fmt.Sprint(i)}
				dk, err := k.GenerateDataKey(bg, keyID, encCtx)
				if err != nil {
					errc <- err
					return
				}
				pt, err := k.Decrypt(bg, dk.Ciphertext, encCtx)
				if err != nil || !bytes.Equal(pt, dk.Plaintext) {
					errc <- fmt.Errorf("worker %d op %d: decrypt: %v", w, i, err)
					return
				}
				if _, err := k.DescribeKey(bg, keyID); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	// Meanwhile: rotations and key churn on the same keyring.
	var mgmt sync.WaitGroup
	mgmt.Add(1)
	go func() {
		defer mgmt.Done()
		for i := 0; i < 200; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var err error
			switch i % 4 {
			case 0:
				_, err = k.RotateKey(bg, "busy")
			case 1:
				_, err = k.CreateKey(bg, fmt.Sprintf("churn-%d", i))
			case 2:
				_, err = k.DisableKey(bg, fmt.Sprintf("churn-%d", i-1))
			case 3:
				_, err = k.ListKeys(bg)
			}
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	mgmt.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	want := uint64(workers * perWorker)
	calls := k.Calls()
	if calls[OpGenerateDataKey] != want || calls[OpDecrypt] != want || calls[OpDescribeKey] != want {
		t.Errorf("Calls() = %v, want %d each", calls, want)
	}
	// Everything the churn wrote is on disk.
	info, _ := k.DescribeKey(bg, "busy")
	mustClose(t, k)
	k2, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Close()
	if info2, _ := k2.DescribeKey(bg, "busy"); info2.Versions != info.Versions {
		t.Errorf("versions in memory %d, on disk %d", info.Versions, info2.Versions)
	}
}

func TestCallCounts(t *testing.T) {
	k, _, _ := newKeyring(t)
	c := NewCounting(k)
	var p Provider = c
	dk, _ := p.GenerateDataKey(bg, "", nil)
	p.GenerateDataKey(bg, "missing", nil) // failures count too
	p.Decrypt(bg, dk.Ciphertext, nil)
	p.Decrypt(bg, dk.Ciphertext, map[string]string{"wrong": ""})
	p.Decrypt(bg, []byte("junk"), nil)
	p.DescribeKey(bg, "")
	c.Encrypt(bg, "", []byte("x"), nil)
	k.CreateKey(bg, "mgmt") // management calls are not counted
	k.RotateKey(bg, "mgmt")
	k.ListKeys(bg)

	want := map[string]uint64{OpGenerateDataKey: 2, OpDecrypt: 3, OpDescribeKey: 1, OpEncrypt: 1}
	if got := c.Calls(); !maps.Equal(got, want) {
		t.Errorf("Counting.Calls() = %v, want %v", got, want)
	}
	if got := k.Calls(); !maps.Equal(got, want) {
		t.Errorf("Keyring.Calls() = %v, want %v", got, want)
	}
	// Calls on the keyring directly show only in its own counter.
	k.DescribeKey(bg, "")
	if got := k.Calls()[OpDescribeKey]; got != 2 {
		t.Errorf("keyring DescribeKey count %d, want 2", got)
	}
	if got := c.Calls()[OpDescribeKey]; got != 1 {
		t.Errorf("wrapper DescribeKey count %d, want 1", got)
	}
	k.ResetCalls()
	if got := k.Calls(); got[OpDecrypt] != 0 || got[OpGenerateDataKey] != 0 {
		t.Errorf("after ResetCalls: %v", got)
	}
}

// TestKeyStateSerial: a disable that took effect raises the serial, seen
// through the counting wrapper too; enabling, rotating and a failed
// disable do not (caches would be dropped for nothing).
func TestKeyStateSerial(t *testing.T) {
	ctx := context.Background()
	k, _, _ := newKeyring(t)
	c := NewCounting(k)
	if _, err := k.CreateKey(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	s0 := c.KeyStateSerial()
	steps := []struct {
		name string
		op   func() error
		grew bool
	}{
		{"rotate", func() error { _, err := k.RotateKey(ctx, "a"); return err }, false},
		{"disable", func() error { _, err := k.DisableKey(ctx, "a"); return err }, true},
		{"enable", func() error { _, err := k.EnableKey(ctx, "a"); return err }, false},
		{"disable unknown", func() error { k.DisableKey(ctx, "nope"); return nil }, false},
		{"disable default", func() error { _, err := k.DisableKey(ctx, ""); return err }, true},
	}
	for _, st := range steps {
		if err := st.op(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		s1 := c.KeyStateSerial()
		if grew := s1 > s0; grew != st.grew {
			t.Fatalf("%s: serial %d -> %d", st.name, s0, s1)
		}
		s0 = s1
	}
	if got := NewCounting(struct{ Provider }{k}).KeyStateSerial(); got != 0 {
		t.Fatalf("a provider without StateSerial reports %d, want 0", got)
	}
}
