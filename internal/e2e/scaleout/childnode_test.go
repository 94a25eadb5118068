package scaleout

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/server"
)

// childEnv carries a childConfig (JSON) to the test binary re-executed as
// a node process: a node the three-node suite can kill with SIGKILL, which
// an in-process testnode cannot be.
const childEnv = "STRONGROOM_SCALEOUT_CHILD_NODE"

type childConfig struct {
	DataDir, Meta, Blobs, BlobsAccessKey, BlobsSecretKey string
	RootAccessKey, RootSecretKey                         string
}

// runChildNode serves one node over TLS (the data directory's self-signed
// certificate) until killed, printing "ADDR host:port" once it listens.
func runChildNode(js string) int {
	var c childConfig
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		fmt.Fprintln(os.Stderr, "child node:", err)
		return 2
	}
	cert, key, _, err := server.SelfSignedCert(c.DataDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child node:", err)
		return 2
	}
	cfg := server.Config{DataDir: c.DataDir, Addr: "127.0.0.1:0", TLSCert: cert, TLSKey: key,
		RootAccessKey: c.RootAccessKey, RootSecretKey: c.RootSecretKey,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	cfg.Meta = c.Meta
	cfg.BlobsConfig = server.BlobsConfig{Blobs: c.Blobs, BlobsAccessKey: c.BlobsAccessKey, BlobsSecretKey: c.BlobsSecretKey}
	n, err := server.Open(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child node: open:", err)
		return 1
	}
	ln, err := n.Listen()
	if err != nil {
		fmt.Fprintln(os.Stderr, "child node: listen:", err)
		return 1
	}
	fmt.Printf("ADDR %s\n", ln.Addr())
	if err := n.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "child node: serve:", err)
		return 1
	}
	return 0
}

// childNode is a node process started by startChild.
type childNode struct {
	cmd  *exec.Cmd
	URL  string
	done chan struct{}
	mu   sync.Mutex
	log  bytes.Buffer
}

func (c *childNode) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.Write(p)
}

func (c *childNode) logText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

// startChild runs the test binary as a node process; it is killed when
// the test ends if still running.
func startChild(t *testing.T, cfg childConfig) *childNode {
	t.Helper()
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := &childNode{done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	c.cmd.Stderr = c
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.cmd.Wait(); close(c.done) }()
	t.Cleanup(c.kill)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				addr <- a
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addr:
		c.URL = "https://" + a
	case <-c.done:
		t.Fatalf("child node exited at start: %s", c.logText())
	case <-time.After(30 * time.Second):
		t.Fatalf("child node did not start: %s", c.logText())
	}
	return c
}

// kill sends SIGKILL and reaps the process.
func (c *childNode) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// insecureClient trusts any certificate (the nodes' are self-signed).
func insecureClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	return &http.Client{Transport: tr}
}
