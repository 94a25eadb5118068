package durable

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestCreateFileNeverOverwrites: of many concurrent creators exactly one
// wins and the file holds its bytes whole; the others get fs.ErrExist; no
// temp file is left behind.
func TestCreateFileNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root-credentials.json")
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = CreateFile(path, []byte(strings.Repeat(string(rune('a'+i)), 4096)), 0o600) })
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("creators %d and %d both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, fs.ErrExist):
			t.Fatalf("creator %d: %v, want fs.ErrExist", i, err)
		}
	}
	if won < 0 {
		t.Fatal("nobody created the file")
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != strings.Repeat(string(rune('a'+won)), 4096) {
		t.Fatalf("file does not hold the winner's bytes whole: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	if err := CreateFile(path, []byte("x"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("create over an existing file: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}

// TestWriteFileReplaces: concurrent replacements each land whole (unique
// temp names: no writer truncates another's temp file), and stale temps
// are swept.
func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keyring")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := WriteFile(path, []byte(strings.Repeat(string(rune('a'+i)), 1<<16)), 0o600); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	b, err := os.ReadFile(path)
	if err != nil || len(b) != 1<<16 || strings.Count(string(b), string(b[:1])) != len(b) {
		t.Fatalf("file is not one writer's bytes whole: %v", err)
	}
	stale := filepath.Join(dir, TempPrefix("keyring")+"123")
	if err := os.WriteFile(stale, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	RemoveStaleTemps(path)
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stale temp file survived: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
