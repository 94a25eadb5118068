package kms

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadRootKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xfb, 0xef, 0x01, 0x7f}, 8) // has +/ and -_ in base64
	dir := t.TempDir()
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	std := base64.StdEncoding.EncodeToString(key)
	tests := []struct {
		name      string
		env, path string
		want      []byte // nil: error
		wantErr   error
	}{
		{"env std", std, "", key, nil},
		{"env std with spaces", "  " + std + "\n", "", key, nil},
		{"env raw std", base64.RawStdEncoding.EncodeToString(key), "", key, nil},
		{"env url", base64.URLEncoding.EncodeToString(key), "", key, nil},
		{"env raw url", base64.RawURLEncoding.EncodeToString(key), "", key, nil},
		{"file base64", "", file("b64", []byte(std+"\n")), key, nil},
		{"file raw", "", file("raw", key), key, nil},
		{"file raw 32 bytes of whitespace-like data", "", file("raw2", bytes.Repeat([]byte{' '}, 32)), bytes.Repeat([]byte{' '}, 32), nil},
		{"env short", base64.StdEncoding.EncodeToString(key[:31]), "", nil, nil},
		{"env long", base64.StdEncoding.EncodeToString(append(bytes.Clone(key), 1)), "", nil, nil},
		{"env not base64", strings.Repeat("!", 44), "", nil, nil},
		{"env hex", hex.EncodeToString(key), "", nil, nil},
		{"env all zero", base64.StdEncoding.EncodeToString(make([]byte, 32)), "", nil, nil},
		{"file all zero raw", "", file("zero", make([]byte, 32)), nil, nil},
		{"file 31 raw bytes", "", file("short", key[:31]), nil, nil},
		{"file missing", "", filepath.Join(dir, "missing"), nil, fs.ErrNotExist},
		{"both", std, file("both", key), nil, nil},
		{"neither", "", "", nil, ErrNoRootKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadRootKey(tc.env, tc.path)
			if tc.want != nil {
				if err != nil || !bytes.Equal(got, tc.want) {
					t.Fatalf("LoadRootKey = %x, %v; want %x", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadRootKey succeeded: %x", got)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			msg := err.Error()
			if tc.env != "" && strings.Contains(msg, strings.TrimSpace(tc.env)) {
				t.Fatalf("error repeats the secret input: %q", msg)
			}
			if strings.Contains(msg, std) || strings.Contains(msg, string(key)) || strings.Contains(msg, hex.EncodeToString(key)) {
				t.Fatalf("error contains the key: %q", msg)
			}
		})
	}
}

func TestGenerateRootKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	key, err := GenerateRootKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != RootKeySize || bytes.Equal(key, make([]byte, RootKeySize)) {
		t.Fatalf("generated key %d bytes", len(key))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("root key file mode %v, want 0600", fi.Mode().Perm())
	}
	loaded, err := LoadRootKey("", path)
	if err != nil || !bytes.Equal(loaded, key) {
		t.Fatalf("LoadRootKey of generated file: %v", err)
	}
	// Never overwrites.
	before, _ := os.ReadFile(path)
	if _, err := GenerateRootKeyFile(path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second GenerateRootKeyFile: %v, want fs.ErrExist", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("existing root key file was changed")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the key file", len(ents))
	}
	// The generated key opens a keyring.
	k, err := OpenKeyring(filepath.Join(dir, "keyring"), loaded)
	if err != nil {
		t.Fatal(err)
	}
	k.Close()
	if _, err := GenerateRootKeyFile(filepath.Join(dir, "missing", "root.key")); err == nil {
		t.Error("GenerateRootKeyFile in a missing directory succeeded")
	}
}
