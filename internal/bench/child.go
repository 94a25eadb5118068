package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a strongroom server the benchmark started as a child process,
// so that its memory can be read from /proc.
type child struct {
	cmd       *exec.Cmd
	pid       int
	url       string
	dataDir   string
	logFile   string
	accessKey string
	secretKey string
	done      chan struct{}
	waitErr   error
}

// ServePrefix is how `strongroom serve` announces its address on stdout.
const ServePrefix = "strongroom serving "

// startChild runs `<argv> serve --addr 127.0.0.1:0 --data dataDir` and
// waits for it to print its address.
func startChild(ctx context.Context, argv, env []string, dataDir string, extra []string) (*child, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	c := &child{
		dataDir:   dataDir,
		logFile:   filepath.Join(filepath.Dir(dataDir), "server.log"),
		accessKey: "bench" + randHex(6),
		secretKey: randHex(20),
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--log-level", "warn"}, extra...)
	env = append([]string{"STRONGROOM_ROOT_ACCESS_KEY=" + c.accessKey, "STRONGROOM_ROOT_SECRET_KEY=" + c.secretKey}, env...)
	if err := c.spawn(ctx, "server", argv, env, args, ServePrefix); err != nil {
		return nil, err
	}
	return c, nil
}

// spawn runs `<argv> args...` (argv empty: this executable) with env added
// to this process's environment, its stderr to c.logFile, and waits for a
// stdout line starting with prefix: what follows it is c.url. what names
// the process in errors.
func (c *child) spawn(ctx context.Context, what string, argv, env, args []string, prefix string) error {
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: finding the strongroom binary: %w", err)
		}
		argv = []string{exe}
	}
	c.done = make(chan struct{})
	c.cmd = exec.Command(argv[0], append(append([]string(nil), argv[1:]...), args...)...)
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf, err := os.Create(c.logFile)
	if err != nil {
		return err
	}
	defer logf.Close()
	c.cmd.Stderr = logf
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("bench: starting the %s (%s): %w", what, argv[0], err)
	}
	c.pid = c.cmd.Process.Pid
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if line := sc.Text(); !sent && strings.HasPrefix(line, prefix) {
				found <- strings.TrimSpace(strings.TrimPrefix(line, prefix))
				sent = true
			}
		}
		io.Copy(io.Discard, out)
		if !sent {
			close(found)
		}
	}()
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.done)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			<-c.done
			return fmt.Errorf("bench: the %s exited before serving (%v): %s", what, c.waitErr, c.logTail())
		}
		c.url = u
		return nil
	case <-time.After(60 * time.Second):
		c.stop()
		return fmt.Errorf("bench: the %s did not announce its address within 60s: %s", what, c.logTail())
	case <-ctx.Done():
		c.stop()
		return ctx.Err()
	}
}

// stop asks the server to shut down, killing it if it takes too long.
func (c *child) stop() error {
	select {
	case <-c.done:
		return c.waitErr
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
	return c.waitErr
}

func (c *child) logTail() string {
	b, _ := os.ReadFile(c.logFile)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// procStatus reads a "kB" field of /proc/PID/status in bytes (0 if unknown).
func procStatus(pid int, field string) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * KiB
			}
		}
	}
	return 0
}

// peakRSS is the process's high-water resident set size (VmHWM).
func peakRSS(pid int) int64 { return procStatus(pid, "VmHWM") }

// currentRSS is the process's resident set size (VmRSS).
func currentRSS(pid int) int64 { return procStatus(pid, "VmRSS") }

// resetPeakRSS resets VmHWM to the current RSS (Linux: write 5 to
// /proc/PID/clear_refs), so a later peakRSS covers only what follows.
func resetPeakRSS(pid int) error {
	if pid <= 0 {
		return errors.New("no server pid")
	}
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}
