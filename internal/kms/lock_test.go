package kms

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/durable"
)

// dirState is the names and contents of every file in dir.
func dirState(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestOpenWhileOpenFailsWithErrLocked(t *testing.T) {
	k, path, root := newKeyring(t)
	mustCreate(t, k, "x")
	dk, err := k.GenerateDataKey(bg, "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(path)
	// A temp file as an in-flight write of the owner would leave it: a
	// refused open must not clean it up (nor touch anything else).
	stale := filepath.Join(dir, durable.TempPrefix(filepath.Base(path))+"inflight")
	if err := os.WriteFile(stale, []byte("owner's write"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong := bytes.Clone(root)
	wrong[0] ^= 1
	tests := []struct {
		name string
		root []byte
	}{
		{"same key", root},
		{"same key copy", bytes.Clone(root)},
		{"same key again", root}, // a refused open does not release the owner's lock
		{"one bit off", wrong},
		{"other key", randomKey(t)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := dirState(t, dir)
			got, err := OpenKeyring(path, tc.root)
			if !errors.Is(err, ErrLocked) || got != nil {
				if got != nil {
					got.Close()
				}
				t.Fatalf("OpenKeyring on an open keyring = %v, %v; want ErrLocked", got, err)
			}
			if after := dirState(t, dir); !maps.Equal(after, before) {
				t.Fatalf("refused open changed the directory: before %q after %q", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
			}
			// The owner is unaffected and can still change the file.
			if pt, err := k.Decrypt(bg, dk.Ciphertext, nil); err != nil || !bytes.Equal(pt, dk.Plaintext) {
				t.Fatalf("owner Decrypt after refused open: %v", err)
			}
			if _, err := k.RotateKey(bg, "x"); err != nil {
				t.Fatalf("owner RotateKey after refused open: %v", err)
			}
		})
	}
	info, err := k.DescribeKey(bg, "x")
	if err != nil {
		t.Fatal(err)
	}
	// After Close the keyring opens, with everything the owner wrote.
	mustClose(t, k)
	k2, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatalf("OpenKeyring after Close: %v", err)
	}
	defer k2.Close()
	if info2, err := k2.DescribeKey(bg, "x"); err != nil || info2.Versions != info.Versions {
		t.Fatalf("after reopen: %+v, %v; want %d versions", info2, err, info.Versions)
	}
	if pt, err := k2.Decrypt(bg, dk.Ciphertext, nil); err != nil || !bytes.Equal(pt, dk.Plaintext) {
		t.Fatalf("Decrypt after reopen: %v", err)
	}
}

func TestCloseReleasesLock(t *testing.T) {
	k, path, root := newKeyring(t)
	for i := range 3 {
		mustClose(t, k)
		var err error
		if k, err = OpenKeyring(path, root); err != nil {
			t.Fatalf("open %d after Close: %v", i+1, err)
		}
	}
	// A second Close of an old handle must not release the new owner's lock.
	old := k
	mustClose(t, old)
	k, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	mustClose(t, old)
	if got, err := OpenKeyring(path, root); !errors.Is(err, ErrLocked) {
		if got != nil {
			got.Close()
		}
		t.Fatalf("open after a stale handle's second Close = %v; want ErrLocked", err)
	}
}

func TestFailedOpenReleasesLock(t *testing.T) {
	k, path, root := newKeyring(t)
	mustCreate(t, k, "x")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, k)
	wrong := bytes.Clone(root)
	wrong[5] ^= 0x80
	tests := []struct {
		name  string
		file  []byte // nil: leave the good file
		dir   bool   // replace the keyring file by a directory (unreadable)
		root  []byte
		want  error // nil: any error
		clean bool  // the failed open must leave the file unchanged
	}{
		{"wrong root key", nil, false, wrong, ErrWrongRootKey, true},
		{"other root key", nil, false, randomKey(t), ErrWrongRootKey, true},
		{"short root key", nil, false, root[:16], nil, true},
		{"corrupt file", flip(good, len(good)-1), false, root, ErrKeyringCorrupt, false},
		{"empty file", []byte{}, false, root, ErrKeyringCorrupt, false},
		{"unreadable file", nil, true, root, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			switch {
			case tc.dir:
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			case tc.file != nil:
				if err := os.WriteFile(path, tc.file, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := OpenKeyring(path, tc.root)
			if err == nil || got != nil {
				if got != nil {
					got.Close()
				}
				t.Fatal("OpenKeyring succeeded")
			}
			if errors.Is(err, ErrLocked) {
				t.Fatalf("err = %v: lock still held by an earlier open", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.clean {
				if now, _ := os.ReadFile(path); !bytes.Equal(now, good) {
					t.Fatal("failed open changed the keyring file")
				}
			}
			// Put the good file back: the right key must now open it, so the
			// failed open released the lock.
			if err := os.RemoveAll(path); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, good, 0o600); err != nil {
				t.Fatal(err)
			}
			k2, err := OpenKeyring(path, root)
			if err != nil {
				t.Fatalf("open with the right key after a failed open: %v", err)
			}
			defer k2.Close()
			if _, err := k2.DescribeKey(bg, "x"); err != nil {
				t.Fatal(err)
			}
			mustClose(t, k2)
		})
	}
}

func TestConcurrentOpensOneWins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring")
	root := randomKey(t)
	const n = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []*Keyring
		losers  []error
	)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			k, err := OpenKeyring(path, root)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				winners = append(winners, k)
			} else {
				losers = append(losers, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, k := range winners {
		defer k.Close()
	}
	// Nobody closes during the race: exactly one open wins (and creates the
	// file), every other is refused with ErrLocked.
	if len(winners) != 1 {
		t.Fatalf("%d of %d concurrent opens succeeded, want 1 (others: %v)", len(winners), n, losers)
	}
	for _, err := range losers {
		if !errors.Is(err, ErrLocked) {
			t.Errorf("losing open: %v, want ErrLocked", err)
		}
	}
	mustClose(t, winners[0])
	k, err := OpenKeyring(path, root)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if _, err := k.DescribeKey(bg, DefaultKeyName); err != nil {
		t.Fatal(err)
	}
}

const lockHelperEnv = "STRONGROOM_KMS_LOCK_HELPER"

// TestLockHelperProcess is not a test: run by TestLockAcrossProcesses, it
// opens the keyring named in the environment, says "open" and holds it until
// its stdin closes, then exits without closing the keyring.
func TestLockHelperProcess(t *testing.T) {
	path := os.Getenv(lockHelperEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	root, err := hex.DecodeString(os.Getenv(lockHelperEnv + "_ROOT"))
	if err != nil {
		os.Exit(2)
	}
	if _, err := OpenKeyring(path, root); err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(3)
	}
	os.Stdout.WriteString("open\n")
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0) // the process exit, not Close, releases the lock
}

func TestLockAcrossProcesses(t *testing.T) {
	tests := []struct {
		name string
		kill bool // SIGKILL the owner instead of letting it exit
	}{
		{"owner exits", false},
		{"owner killed", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keyring")
			root := randomKey(t)
			cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
			cmd.Env = append(os.Environ(), lockHelperEnv+"="+path, lockHelperEnv+"_ROOT="+hex.EncodeToString(root))
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				stdin.Close()
				cmd.Process.Kill()
				cmd.Wait()
			}()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if line != "open\n" {
				t.Fatalf("helper process: %q, %v", line, err)
			}
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := OpenKeyring(path, root); !errors.Is(err, ErrLocked) {
				if got != nil {
					got.Close()
				}
				t.Fatalf("open while another process holds the keyring = %v; want ErrLocked", err)
			}
			if now, _ := os.ReadFile(path); !bytes.Equal(now, before) {
				t.Fatal("refused open changed the keyring file")
			}
			if tc.kill {
				cmd.Process.Kill()
			} else {
				stdin.Close()
			}
			err = cmd.Wait()
			if !tc.kill && err != nil {
				t.Fatalf("helper process: %v", err)
			}
			k, err := OpenKeyring(path, root)
			if err != nil {
				t.Fatalf("open after the owner process ended: %v", err)
			}
			mustClose(t, k)
		})
	}
}
