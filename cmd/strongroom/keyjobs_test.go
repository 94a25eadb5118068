package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms/kmip/kmiptest"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// keyJobNode starts a node on a fresh data directory with n objects in
// bucket "bkt" under key "photos" (some with a bucket key), and returns
// their contents.
func keyJobNode(t *testing.T, n int) (*testnode.Node, string, map[string][]byte) {
	t.Helper()
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY"} {
		t.Setenv(k, "")
	}
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	initDataDir(t, data)
	mustCLI(t, "key", "create", "photos", "--data", data)
	node := testnode.Start(t, testnode.Options{DataDir: data})
	objs := putKeyJobObjects(t, node, n)
	return node, data, objs
}

func putKeyJobObjects(t *testing.T, node *testnode.Node, n int) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	root := service.Principal{Root: true}
	if _, err := node.Service.CreateBucket(ctx, root, "bkt", "", ""); err != nil {
		t.Fatal(err)
	}
	objs := map[string][]byte{}
	for i := range n {
		key := fmt.Sprintf("k%03d", i)
		data := bytes.Repeat([]byte{byte(i)}, 100+i)
		spec := &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: "photos", BucketKey: i%3 == 0}
		if _, err := node.Service.PutObject(ctx, root, service.PutObjectInput{Bucket: "bkt", Key: key, SSE: spec,
			Body: service.Body{Reader: bytes.NewReader(data), Size: int64(len(data))}}); err != nil {
			t.Fatal(err)
		}
		objs[key] = data
	}
	return objs
}

func readAllObjects(t *testing.T, node *testnode.Node, objs map[string][]byte) error {
	t.Helper()
	for key, want := range objs {
		ob, err := node.Service.GetObject(context.Background(), service.Principal{Root: true}, service.GetObjectInput{Bucket: "bkt", Key: key})
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		got, err := io.ReadAll(ob.Body)
		ob.Body.Close()
		if err != nil || !bytes.Equal(got, want) {
			return fmt.Errorf("%s: %d bytes, %v", key, len(got), err)
		}
	}
	return nil
}

// readDuring reads every object in a loop until stop, which fails t if
// a read failed: objects stay readable while a key job runs.
func readDuring(t *testing.T, node *testnode.Node, objs map[string][]byte) (stop func()) {
	t.Helper()
	var wg sync.WaitGroup
	done := make(chan struct{})
	var readErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := readAllObjects(t, node, objs); err != nil {
				readErr = err
				return
			}
		}
	}()
	return func() {
		t.Helper()
		close(done)
		wg.Wait()
		if readErr != nil {
			t.Fatalf("a read during the job: %v", readErr)
		}
	}
}

// lastStatus decodes the last JSON status line the command printed.
func lastStatus(t *testing.T, out string) service.KeyJobStatus {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var st service.KeyJobStatus
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &st); err != nil {
		t.Fatalf("status line %q: %v", lines[len(lines)-1], err)
	}
	return st
}

// TestKeyRewrapCommand: `key rewrap` starts the job through the admin
// API of the running node, prints JSON status lines (not a terminal)
// until it ends; `key list --usage` then shows no object on the old
// version; objects stay readable while it runs.
func TestKeyRewrapCommand(t *testing.T) {
	node, data, objs := keyJobNode(t, 40)
	mustCLI(t, "key", "rotate", "photos", "--data", data)
	out := mustCLI(t, "key", "list", "--usage", "--data", data)
	if !strings.Contains(out, "photos  builtin   1        40") {
		t.Fatalf("usage before:\n%s", out)
	}
	stop := readDuring(t, node, objs)
	out = mustCLI(t, "key", "rewrap", "photos", "--rate", "400", "--interval", "20ms", "--data", data)
	stop()
	st := lastStatus(t, out)
	if st.Running || st.Total != 40 || st.Done != 40 || st.Counts["rewrapped"] != 40 {
		t.Fatalf("final status: %+v\n%s", st, out)
	}
	if strings.Count(out, "\n") < 2 {
		t.Fatalf("no progress lines while it ran:\n%s", out)
	}
	out = mustCLI(t, "key", "list", "--usage", "--data", data)
	if !strings.Contains(out, "photos  builtin   2        40") || strings.Contains(out, "photos  builtin   1 ") {
		t.Fatalf("usage after:\n%s", out)
	}
	if st := lastStatus(t, mustCLI(t, "key", "rewrap", "photos", "--status", "--data", data)); st.Running || st.Done != 40 {
		t.Fatalf("--status: %+v", st)
	}
	if err := readAllObjects(t, node, objs); err != nil {
		t.Fatal(err)
	}
	// --to another key, then the refusals.
	mustCLI(t, "key", "create", "archive", "--data", data)
	if st := lastStatus(t, mustCLI(t, "key", "rewrap", "photos", "--to", "archive", "--data", data)); st.Counts["rewrapped"] != 40 {
		t.Fatalf("--to: %+v", st)
	}
	for _, args := range [][]string{{"rewrap", "nosuchkey"}, {"rewrap", "strongroom-root"}, {"rewrap", "photos", "--to", "nosuch"}, {"reencrypt", "--bucket", "nosuch"}, {"reencrypt", "--bucket", "bkt", "--algorithm", "DES"}} {
		if _, err := cli(t, append(append([]string{"key"}, args...), "--data", data)...); err == nil {
			t.Errorf("key %v succeeded", args)
		}
	}
	if err := readAllObjects(t, node, objs); err != nil {
		t.Fatal(err)
	}
}

// TestKeyJobResumesAfterRestart: a node stopped in the middle of a
// throttled rewrap and of a re-encrypt resumes each where it stood when
// it starts again on the same data directory, and both end with every
// object done and readable.
func TestKeyJobResumesAfterRestart(t *testing.T) {
	for _, op := range []string{"rewrap", "reencrypt"} {
		t.Run(op, func(t *testing.T) {
			node, data, objs := keyJobNode(t, 60)
			args := []string{"key", "rewrap", "photos", "--to", "strongroom-default"}
			done := "rewrapped"
			if op == "reencrypt" {
				args = []string{"key", "reencrypt", "--bucket", "bkt", "--algorithm", "SM4"}
				done = "reencrypted"
			}
			mustCLI(t, append(args, "--rate", "100", "--no-wait", "--data", data)...)
			var st service.KeyJobStatus
			deadline := time.Now().Add(10 * time.Second)
			for st.Done < 10 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				st = lastStatus(t, mustCLI(t, "key", op, "--status", "--data", data))
			}
			if st.Done < 10 || st.Done >= 60 {
				t.Fatalf("not stopped mid-way: %+v", st)
			}
			if err := node.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			node = testnode.Start(t, testnode.Options{DataDir: data})
			for i := 0; i < 200; i++ { // the address file is written as serving starts
				if _, err := os.Stat(filepath.Join(data, server.AddrFile)); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			for st = lastStatus(t, mustCLI(t, "key", op, "--status", "--data", data)); st.Running; {
				if time.Now().After(deadline.Add(20 * time.Second)) {
					t.Fatalf("the job did not end after the restart: %+v", st)
				}
				time.Sleep(50 * time.Millisecond)
				st = lastStatus(t, mustCLI(t, "key", op, "--status", "--data", data))
			}
			if st.Total != 60 || st.Done != 60 || st.Counts[done] != 60 || st.Passes != 1 || st.LastError != "" {
				t.Fatalf("after the restart: %+v", st)
			}
			if err := readAllObjects(t, node, objs); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestKeyMigrateToKMIP: `key migrate --to kmip:...` from the builtin
// keyring to a real PyKMIP server: every object key and bucket key moves
// under the server's keys and every object reads during and after.
func TestKeyMigrateToKMIP(t *testing.T) {
	srv, err := kmiptest.New(t.TempDir())
	if err != nil {
		t.Fatalf("starting PyKMIP (never skipped: install python3-pykmip): %v", err)
	}
	t.Cleanup(srv.Stop)
	node, data, objs := keyJobNode(t, 30)
	stop := readDuring(t, node, objs)
	target := "kmip:addr=" + srv.Addr + ",cert=" + srv.CertFile + ",key=" + srv.KeyFile + ",ca=" + srv.CAFile
	st := lastStatus(t, mustCLI(t, "key", "migrate", "--to", target, "--interval", "20ms", "--data", data))
	stop()
	if st.Running || st.Total != 30 || st.Counts["rewrapped"] != 30 || st.LastError != "" {
		t.Fatalf("migration: %+v", st)
	}
	if usage := mustCLI(t, "key", "list", "--usage", "--data", data); strings.Contains(usage, "builtin") || !strings.Contains(usage, "kmip") {
		t.Fatalf("usage after the migration:\n%s", usage)
	}
	if err := readAllObjects(t, node, objs); err != nil {
		t.Fatal(err)
	}
	// Until the restart on the target, a new key would exist in the old
	// provider only: refused with the reason.
	if _, err := cli(t, "key", "create", "mid-migration", "--data", data); err == nil || !strings.Contains(err.Error(), "key migration is in progress") {
		t.Fatalf("key create while the migration awaits the switch: %v", err)
	}
}
