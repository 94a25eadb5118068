package kms

import (
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"testing"
	"time"
)

func fileFormat(t *testing.T, path string) uint16 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return binary.BigEndian.Uint16(data[len(fileMagic):])
}

// TestRetireKeyVersion: a retired version is a tombstone: what it wrapped
// answers ErrRetired (the KMS invalid-state error, as for a shredded
// key), the other versions keep working, the keyring file is written in
// format 2 only once it holds a tombstone, and the tombstone survives a
// reopen. The newest version, unknown versions and the root sealing key
// are refused; retiring twice does nothing.
func TestRetireKeyVersion(t *testing.T) {
	k, path, root := newKeyring(t)
	mustCreate(t, k, "photos")
	ctx := map[string]string{"bucket": "b"}
	old, err := k.GenerateDataKey(bg, "photos", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.RotateKey(bg, "photos"); err != nil {
		t.Fatal(err)
	}
	cur, err := k.GenerateDataKey(bg, "photos", ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f := fileFormat(t, path); f != fileVersion1 {
		t.Fatalf("file format before any retire: %d, want 1", f)
	}
	for _, v := range []uint32{0, 2, 3} {
		if err := k.RetireKeyVersion(bg, "photos", v); err == nil {
			t.Errorf("retiring version %d of 2 succeeded", v)
		}
	}
	if err := k.RetireKeyVersion(bg, RootKeyName, 1); err == nil {
		t.Error("retiring a version of the root sealing key succeeded")
	}
	serial := k.KeyStateSerial()
	if err := k.RetireKeyVersion(bg, "alias/photos", 1); err != nil {
		t.Fatal(err)
	}
	if k.KeyStateSerial() == serial {
		t.Error("retiring did not invalidate cached keys")
	}
	if err := k.RetireKeyVersion(bg, "photos", 1); err != nil {
		t.Fatalf("retiring again: %v", err)
	}
	check := func(k *Keyring) {
		t.Helper()
		if _, err := k.Decrypt(bg, old.Ciphertext, ctx); !errors.Is(err, ErrRetired) {
			t.Errorf("unwrap under the retired version: %v, want ErrRetired", err)
		}
		if pt, err := k.Decrypt(bg, cur.Ciphertext, ctx); err != nil || !slices.Equal(pt, cur.Plaintext) {
			t.Errorf("unwrap under the newest version: %v", err)
		}
		info, err := k.DescribeKey(bg, "photos")
		if err != nil || info.Versions < 2 || !slices.Equal(info.Retired, []uint32{1}) {
			t.Errorf("describe: %+v, %v", info, err)
		}
		if _, err := k.RotateKey(bg, "photos"); err != nil {
			t.Errorf("rotate after a retire: %v", err)
		}
	}
	check(k)
	if f := fileFormat(t, path); f != fileVersion2 {
		t.Fatalf("file format with a tombstone: %d, want 2", f)
	}
	mustClose(t, k)
	k2, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatalf("reopening a format-2 keyring: %v", err)
	}
	defer k2.Close()
	check(k2)
}

// TestKeyringFormats: format 1 files (every keyring written before
// tombstones) still open; a tombstone in a format-1 body, a tombstone
// with a secret, or a retired newest version is corrupt.
func TestKeyringFormats(t *testing.T) {
	root := randomKey(t)
	now := time.Now().UTC()
	secret := randomKey(t)
	good := fileVersion{Secret: secret, Created: now}
	tomb := fileVersion{Created: now, Retired: now}
	for _, c := range []struct {
		name     string
		format   uint16
		versions []fileVersion
		ok       bool
	}{
		{"format 1", fileVersion1, []fileVersion{good, good}, true},
		{"format 2 without tombstones", fileVersion2, []fileVersion{good}, true},
		{"format 2 with a tombstone", fileVersion2, []fileVersion{tomb, good}, true},
		{"tombstone in format 1", fileVersion1, []fileVersion{tomb, good}, false},
		{"tombstone with a secret", fileVersion2, []fileVersion{{Secret: secret, Created: now, Retired: now}, good}, false},
		{"newest version retired", fileVersion2, []fileVersion{good, tomb}, false},
	} {
		body := fileBody{Default: DefaultKeyName, Keys: []fileKey{{ID: DefaultKeyName, Created: now, Enabled: true, Versions: c.versions}}}
		st, err := stateFromBody(&body, c.format)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !c.ok {
			if !errors.Is(err, ErrKeyringCorrupt) {
				t.Errorf("%s: %v, want ErrKeyringCorrupt", c.name, err)
			}
			continue
		}
		// Written and read back through the file image.
		img, err := encodeKeyring(root, st)
		if err != nil {
			t.Fatal(err)
		}
		want := uint16(fileVersion1)
		if len(st.keys[DefaultKeyName].retiredVersions()) > 0 {
			want = fileVersion2
		}
		if f := binary.BigEndian.Uint16(img[len(fileMagic):]); f != want {
			t.Errorf("%s: written as format %d, want %d", c.name, f, want)
		}
		if _, err := decodeKeyring(root, img); err != nil {
			t.Errorf("%s: reading it back: %v", c.name, err)
		}
	}
}
