package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/backup"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// content is the deterministic body of generation gen of key: the restored
// bytes are checked against it.
func content(key string, gen int) []byte {
	size := 100 + (gen*7919)%(300<<10) // inline and blob-backed sizes
	seed := sha256.Sum256([]byte(key + "/" + strconv.Itoa(gen)))
	return bytes.Repeat(seed[:], size/32+1)[:size]
}

var backupCustomerKey = bytes.Repeat([]byte{7}, 32)

// backupSpecs are the encryption modes the backup test writes with, by the
// key's first letter.
func backupSpec(t testing.TB, key string) *sse.Spec {
	switch key[0] {
	case 's':
		return &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}
	case 'k':
		return &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256}
	case 'c':
		return customerSpec(t)
	}
	return nil
}

func customerSpec(t testing.TB) *sse.Spec {
	sum := md5.Sum(backupCustomerKey)
	spec, err := sse.CustomerSpec(sse.AES256, base64.StdEncoding.EncodeToString(backupCustomerKey), base64.StdEncoding.EncodeToString(sum[:]))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestBackupUnderLoadAndRestore backs up a running node while writers
// overwrite, create and delete objects in every encryption mode, restores
// the backup into a new directory, starts a node on it with the root key,
// and reads every object back: each restored object has exactly the bytes
// of the generation it records, and every object acknowledged before the
// backup started is there. Then the same offline, and the failure paths.
func TestBackupUnderLoadAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	n := startBackupNode(t, data)
	root := service.Principal{User: "root", Root: true}
	put := func(key string, gen int) error {
		body := content(key, gen)
		_, err := n.Service.PutObject(ctx, root, service.PutObjectInput{
			Bucket: "bkt", Key: key, SSE: backupSpec(t, key),
			Meta: service.ObjectMeta{UserMeta: map[string]string{"gen": strconv.Itoa(gen)}},
			Body: service.Body{Reader: bytes.NewReader(body), Size: int64(len(body))},
		})
		return err
	}
	// Stable keys are never deleted: each acknowledged before the backup
	// must be restored.
	var stable []string
	for i := range 40 {
		key := fmt.Sprintf("%c-stable-%02d", "pskc"[i%4], i)
		if err := put(key, 0); err != nil {
			t.Fatal(err)
		}
		stable = append(stable, key)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			for gen := 1; ; gen++ {
				select {
				case <-stop:
					return
				default:
				}
				key := stable[(gen*4+w)%len(stable)]
				if err := put(key, gen); err != nil {
					t.Error(err)
					return
				}
				churn := fmt.Sprintf("%c-churn-%d-%d", "pskc"[gen%4], w, gen%10)
				if err := put(churn, gen); err != nil {
					t.Error(err)
					return
				}
				if gen%3 == 0 {
					if err := n.Service.DeleteObject(ctx, root, "bkt", churn); err != nil {
						t.Error(err)
						return
					}
				}
				writes.Add(1)
			}
		})
	}
	for writes.Load() < 20 {
		runtime.Gosched()
	}
	online := filepath.Join(dir, "online.backup")
	if _, err := cli(t, "backup", "--data", data, "--out", online); err != nil {
		close(stop)
		wg.Wait()
		t.Fatalf("backup of the running node: %v", err)
	}
	close(stop)
	wg.Wait()
	if writes.Load() < 40 {
		t.Logf("only %d write rounds ran during the test", writes.Load())
	}
	if _, err := os.Stat(online + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a .partial file was left behind: %v", err)
	}
	rootKey := filepath.Join(data, "root.key")

	restoreAndVerify := func(name, archive string) {
		t.Helper()
		into := filepath.Join(dir, name)
		if out, err := cli(t, "restore", "--from", archive, "--data", into); err != nil || !strings.Contains(out, "restored") {
			t.Fatalf("restore %s: %q, %v", name, out, err)
		}
		if err := copyFile(rootKey, filepath.Join(into, "root.key")); err != nil {
			t.Fatal(err)
		}
		r := testnode.Start(t, testnode.Options{DataDir: into, InsecureSSEC: true})
		found := map[string]bool{}
		res, err := r.Service.ListObjects(ctx, root, service.ListInput{Bucket: "bkt", MaxKeys: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Objects {
			found[o.Key] = true
			gen, err := strconv.Atoi(o.UserMeta["gen"])
			if err != nil {
				t.Fatalf("%s: %s has no generation: %v", name, o.Key, o.UserMeta)
			}
			checkRestored(t, r, name, o.Key, gen)
		}
		for _, k := range stable {
			if !found[k] {
				t.Fatalf("%s: %s, acknowledged before the backup, is missing", name, k)
			}
		}
	}
	restoreAndVerify("restored-online", online)

	// Offline: the node stopped, the directory read directly.
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	offline := filepath.Join(dir, "offline.backup")
	mustCLI(t, "backup", "--data", data, "--out", offline)
	restoreAndVerify("restored-offline", offline)

	// Without the root key the restored directory opens nothing.
	bare := filepath.Join(dir, "bare")
	mustCLI(t, "restore", "--from", offline, "--data", bare)
	if _, err := os.ReadFile(filepath.Join(bare, "root.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a restored directory holds a root key")
	}
	b, err := os.ReadFile(offline)
	if err != nil {
		t.Fatal(err)
	}
	root32, _ := os.ReadFile(rootKey)
	if len(root32) > 0 && bytes.Contains(b, root32) {
		t.Fatal("the backup holds the root key")
	}

	// Failure paths: a truncated archive, a non-empty target, no data
	// directory.
	cut := filepath.Join(dir, "cut.backup")
	if err := os.WriteFile(cut, b[:len(b)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	fromCut := filepath.Join(dir, "from-cut")
	if _, err := cli(t, "restore", "--from", cut, "--data", fromCut); !errors.Is(err, backup.ErrTruncated) {
		t.Fatalf("restore of a truncated backup: %v, want ErrTruncated", err)
	}
	// The failed restore left the directory empty: the next one works.
	if _, err := cli(t, "restore", "--from", offline, "--data", fromCut); err != nil {
		t.Fatalf("restore after a failed one into the same directory: %v", err)
	}
	if _, err := cli(t, "restore", "--from", offline, "--data", data); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a non-empty directory: %v", err)
	}
	missing := filepath.Join(dir, "nothing-here")
	if _, err := cli(t, "backup", "--data", missing, "--out", filepath.Join(dir, "x.backup")); err == nil || !strings.Contains(err.Error(), "not a strongroom data directory") {
		t.Fatalf("backup of a missing directory: %v", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("backup created the missing data directory")
	}
}

// checkRestored fails the test unless key in bucket "bkt" of node r reads
// back as generation gen's bytes.
func checkRestored(t *testing.T, r *testnode.Node, name, key string, gen int) {
	t.Helper()
	in := service.GetObjectInput{Bucket: "bkt", Key: key}
	if key[0] == 'c' {
		in.SSE = customerSpec(t)
	}
	ob, err := r.Service.GetObject(context.Background(), service.Principal{User: "root", Root: true}, in)
	if err != nil {
		t.Fatalf("%s: GET %s: %v", name, key, err)
	}
	got, err := io.ReadAll(ob.Body)
	ob.Body.Close()
	if err != nil || !bytes.Equal(got, content(key, gen)) {
		t.Fatalf("%s: %s generation %d: %d bytes read (%v), not the bytes written", name, key, gen, len(got), err)
	}
}

// startBackupNode starts a node on data (its root key generated there,
// no root credentials from the environment) with a bucket "bkt".
func startBackupNode(t *testing.T, data string) *testnode.Node {
	t.Helper()
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY"} {
		t.Setenv(k, "")
	}
	n := testnode.Start(t, testnode.Options{DataDir: data, InsecureSSEC: true})
	if _, err := n.Service.CreateBucket(context.Background(), service.Principal{User: "root", Root: true}, "bkt", "", ""); err != nil {
		t.Fatal(err)
	}
	return n
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
