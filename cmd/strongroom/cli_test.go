package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

// cli runs the command line in-process and returns stdout.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(args, &out, &errb)
	return out.String(), err
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := cli(t, args...)
	if err != nil {
		t.Fatalf("strongroom %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// initDataDir makes data a deployment, as the first `strongroom serve`
// does (admin commands refuse a directory that is not one).
func initDataDir(t *testing.T, data string) {
	t.Helper()
	n := testnode.Start(t, testnode.Options{DataDir: data})
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestAdminCommandsNeverCreateADataDir: on a missing or empty directory
// every offline admin command says it is not a data directory, fails, and
// leaves nothing behind.
func TestAdminCommandsNeverCreateADataDir(t *testing.T) {
	t.Setenv("STRONGROOM_ROOT_KEY", "")
	empty := t.TempDir()
	missing := filepath.Join(t.TempDir(), "missing")
	for _, dir := range []string{empty, missing} {
		for _, args := range [][]string{
			{"user", "create", "alice"}, {"user", "list"}, {"key", "create", "k"}, {"key", "list"},
			{"backup", "--out", filepath.Join(t.TempDir(), "b")},
		} {
			_, err := cli(t, append(args, "--data", dir)...)
			if !errors.Is(err, server.ErrNoDataDir) {
				t.Errorf("%v on %s: %v, want ErrNoDataDir", args, dir, err)
			}
		}
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("the empty directory now holds %d entries", len(ents))
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the missing directory was created: %v", err)
	}
}

// field extracts "name: value" from the credentials printout.
func field(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, name+": "); ok {
			return v
		}
	}
	return ""
}

// TestUserAndKeyCommands drives the user and key commands on a stopped
// node's data directory, then against a running node (through its admin
// API), and checks each result through the other path.
func TestUserAndKeyCommands(t *testing.T) {
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	initDataDir(t, data)

	// Offline.
	out := mustCLI(t, "user", "create", "alice", "--data", data)
	ak, sk := field(out, "access key"), field(out, "secret key")
	if len(ak) != 20 || len(sk) != 40 {
		t.Fatalf("user create printed %q", out)
	}
	if _, err := cli(t, "user", "create", "alice", "--data", data); err == nil {
		t.Fatal("creating alice twice succeeded")
	}
	if _, err := cli(t, "user", "create", "root", "--data", data); err == nil {
		t.Fatal("a user named root was created")
	}
	mustCLI(t, "key", "create", "photos", "--data", data)
	if out := mustCLI(t, "key", "list", "--data", data); !strings.Contains(out, "photos") || !strings.Contains(out, "strongroom-default") {
		t.Fatalf("key list: %s", out)
	}

	// The node holds the data directory: the same commands go through its
	// admin API.
	n := testnode.Start(t, testnode.Options{DataDir: data})
	ctx := context.Background()
	if p, err := n.IAM.Principal(ctx, ak); err != nil || p.User != "alice" {
		t.Fatalf("offline-created alice on the node: %+v, %v", p, err)
	}
	if secret, err := n.IAM.SecretKey(ctx, ak); err != nil || secret != sk {
		t.Fatal("alice's secret does not survive the offline round trip")
	}
	out = mustCLI(t, "user", "create", "bob", "--data", data)
	bobAK := field(out, "access key")
	if p, err := n.IAM.Principal(ctx, bobAK); err != nil || p.User != "bob" {
		t.Fatalf("online-created bob: %+v, %v (%s)", p, err, out)
	}
	out = mustCLI(t, "user", "key-rotate", "alice", ak, "--data", data)
	newAK := field(out, "access key")
	if _, err := n.IAM.SecretKey(ctx, ak); err == nil {
		t.Fatal("the rotated-out key still authenticates")
	}
	if _, err := n.IAM.SecretKey(ctx, newAK); err != nil {
		t.Fatalf("the new key does not authenticate: %v", err)
	}
	mustCLI(t, "user", "policy-set", "alice", "readonly", "--data", data)
	if _, err := cli(t, "user", "policy-set", "alice", "superuser", "--data", data); err == nil {
		t.Fatal("an unknown canned policy was accepted")
	}
	var info struct {
		Policies []string `json:"policies"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "user", "info", "alice", "--data", data, "--json")), &info); err != nil || len(info.Policies) != 1 || info.Policies[0] != "readonly" {
		t.Fatalf("user info: %+v, %v", info, err)
	}
	mustCLI(t, "user", "disable", "bob", "--data", data)
	if _, err := n.IAM.Principal(ctx, bobAK); err == nil {
		t.Fatal("a disabled user still authenticates")
	}
	mustCLI(t, "key", "rotate", "photos", "--data", data)
	mustCLI(t, "key", "disable", "photos", "--data", data)
	info2, err := n.Keyring.DescribeKey(ctx, "photos")
	if err != nil || info2.Versions != 2 || info2.Enabled {
		t.Fatalf("photos on the node after rotate+disable: %+v, %v", info2, err)
	}
	// Only root may use the admin API.
	req, _ := http.NewRequest("GET", n.URL+server.AdminPrefix+"kms-calls", nil)
	auth.SignV4(req, newAK, field(out, "secret key"), "us-east-1", time.Now(), "")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("admin API as alice: %v %v, want 403", resp, err)
	}
	req, _ = http.NewRequest("GET", n.URL+"/", nil) // same credentials, S3 API
	auth.SignV4(req, newAK, field(out, "secret key"), "us-east-1", time.Now(), "")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("ListBuckets as alice: %v %v, want 200 (her credentials are valid)", resp, err)
	}
	// The KMS call counter is served to root on the admin API.
	n.KMS.Reset()
	if _, err := n.KMS.GenerateDataKey(ctx, "", nil); err != nil {
		t.Fatal(err)
	}
	body, err := (&deployment{data: data}).call(ctx, "GET", "kms-calls", nil)
	var calls map[string]uint64
	if err != nil || json.Unmarshal(body, &calls) != nil || calls["GenerateDataKey"] != 1 {
		t.Fatalf("kms-calls: %s, %v", body, err)
	}
	if out := mustCLI(t, "user", "list", "--data", data); !strings.Contains(out, "alice") || strings.Contains(out, sk) {
		t.Fatalf("user list (must name alice, never a secret): %s", out)
	}
}

// TestLoadConfigPrecedence: flags given on the command line beat the
// environment, which beats the config file, which beats the defaults;
// unknown config keys are an error.
func TestLoadConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "strongroom.yaml")
	os.WriteFile(file, []byte("addr: 127.0.0.1:7000\ndata: /from/file\nregion: file-region\nroot-access-key: FILEKEY\nroot-secret-key: filesecret\ndomains: [a.example, oss=oss.example]\n"), 0o600)
	t.Setenv("STRONGROOM_ROOT_ACCESS_KEY", "ENVKEY")
	t.Setenv("STRONGROOM_ROOT_SECRET_KEY", "envsecret")
	cfg, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--config", file, "--data", "/from/flag"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:7000" || cfg.DataDir != "/from/flag" || cfg.Region != "file-region" {
		t.Errorf("addr %q data %q region %q", cfg.Addr, cfg.DataDir, cfg.Region)
	}
	if cfg.RootAccessKey != "ENVKEY" || cfg.RootSecretKey != "envsecret" {
		t.Errorf("root credentials %q/%q, want the environment's", cfg.RootAccessKey, cfg.RootSecretKey)
	}
	if strings.Join(cfg.Domains, ",") != "a.example,oss=oss.example" {
		t.Errorf("domains %v", cfg.Domains)
	}
	over, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--config", file, "--domain", "b.example", "--domain", "cos=cos.example", "--insecure-sse-c"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(over.Domains, ",") != "b.example,cos=cos.example" || !over.InsecureSSEC || over.Addr != "127.0.0.1:7000" {
		t.Errorf("flags over file: domains %v, insecure-sse-c %v, addr %q", over.Domains, over.InsecureSSEC, over.Addr)
	}
	defaults, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), nil)
	if err != nil || defaults.Addr != ":9000" || defaults.DataDir != "./data" {
		t.Errorf("defaults: %+v, %v", defaults, err)
	}
	os.WriteFile(file, []byte("adress: :1\n"), 0o600)
	if _, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--config", file}); err == nil {
		t.Error("a misspelt config key was accepted")
	}
	if _, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--tls-cert", "c.pem"}); err == nil {
		t.Error("--tls-cert without --tls-key was accepted")
	}
}

// TestOfflineNeedsTheRootKey: a data directory set up under a root key kept
// outside it (STRONGROOM_ROOT_KEY) refuses offline commands run without
// that key, instead of sealing new secrets under a fresh key and leaving a
// stray root.key behind; with the key, they work.
func TestOfflineNeedsTheRootKey(t *testing.T) {
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY"} {
		t.Setenv(k, "")
	}
	root := make([]byte, 32)
	rand.Read(root)
	t.Setenv("STRONGROOM_ROOT_KEY", base64.StdEncoding.EncodeToString(root))
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	initDataDir(t, data)
	mustCLI(t, "user", "create", "alice", "--data", data)

	t.Setenv("STRONGROOM_ROOT_KEY", "")
	for _, args := range [][]string{{"user", "create", "bob"}, {"key", "create", "k"}} {
		if _, err := cli(t, append(args, "--data", data)...); err == nil || !strings.Contains(err.Error(), "root key") {
			t.Fatalf("%v without the root key: %v, want a root key error", args, err)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "root.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("root.key written: %v", err)
	}
	t.Setenv("STRONGROOM_ROOT_KEY", base64.StdEncoding.EncodeToString(root))
	mustCLI(t, "user", "create", "bob", "--data", data)
}

// TestRootCredentialsShownOnce: the start that generates the root
// credentials shows the secret; later starts name only the access key and
// the command that shows the secret again, which works beside the running
// node with the root key and fails without it.
func TestRootCredentialsShownOnce(t *testing.T) {
	for _, k := range []string{"STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY", "STRONGROOM_ROOT_KEY"} {
		t.Setenv(k, "")
	}
	data := filepath.Join(t.TempDir(), "data")
	n := testnode.Start(t, testnode.Options{DataDir: data})
	cfg := server.Config{DataDir: data}
	var first, later, configured bytes.Buffer
	printRootBanner(&first, n.Node, cfg)
	if !n.RootCreated || !strings.Contains(first.String(), n.SecretKey) || !strings.Contains(first.String(), n.AccessKey) {
		t.Fatalf("first start (created %v) printed:\n%s", n.RootCreated, first.String())
	}
	n.RootCreated = false // as on the next start
	printRootBanner(&later, n.Node, cfg)
	if strings.Contains(later.String(), n.SecretKey) || !strings.Contains(later.String(), "strongroom user root-credentials") {
		t.Fatalf("later start printed:\n%s", later.String())
	}
	printRootBanner(&configured, n.Node, server.Config{DataDir: data, RootAccessKey: n.AccessKey, RootSecretKey: n.SecretKey})
	if strings.Contains(configured.String(), n.SecretKey) || strings.Contains(configured.String(), "root secret") {
		t.Fatalf("configured credentials printed:\n%s", configured.String())
	}

	out := mustCLI(t, "user", "root-credentials", "--data", data)
	if field(out, "access key") != n.AccessKey || field(out, "secret key") != n.SecretKey {
		t.Fatalf("user root-credentials printed %q", out)
	}
	other := make([]byte, 32)
	rand.Read(other)
	t.Setenv("STRONGROOM_ROOT_KEY", base64.StdEncoding.EncodeToString(other))
	if out, err := cli(t, "user", "root-credentials", "--data", data); err == nil || strings.Contains(out, n.SecretKey) {
		t.Fatalf("with another root key: %q, %v", out, err)
	}
}

// TestAdminCallsCloseTheirConnections: an admin call leaves no connection
// open behind it, so a caller polling the node (status loops, scripts run
// in one process) never meets the cap of connections per client address.
func TestAdminCallsCloseTheirConnections(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	testnode.Start(t, testnode.Options{DataDir: data, MaxConnsPerClient: 4})
	d := &deployment{data: data}
	for i := range 20 {
		if _, err := d.call(context.Background(), "GET", "kms-calls", nil); err != nil {
			t.Fatalf("admin call %d: %v", i+1, err)
		}
	}
}
