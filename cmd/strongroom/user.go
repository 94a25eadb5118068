package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"strongroom/internal/httpapi/auth"
	"strongroom/internal/iam"
	"strongroom/internal/meta/bolt"
	"strongroom/internal/server"
)

// parseNamed parses "[NAME] [flags]" or "[flags] NAME" for a sub-command.
func parseNamed(fs *flag.FlagSet, args []string) (string, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	return name, nil
}

func userCmd(args []string, stdout, stderr io.Writer) error {
	const usage = "usage: strongroom user create NAME [--data DIR]"
	if len(args) < 1 || args[0] != "create" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data directory of the server")
	name, err := parseNamed(fs, args[1:])
	if err != nil {
		return err
	}
	if name == "" {
		return errors.New(usage)
	}
	ctx := context.Background()
	c, err := createUserOffline(ctx, *data, name)
	if errors.Is(err, bolt.ErrLocked) {
		// A server holds the data directory: ask it instead.
		var body []byte
		body, err = adminCall(ctx, *data, http.MethodPost, "users", url.Values{"name": {name}})
		if err == nil {
			c = new(iam.Credentials)
			err = json.Unmarshal(body, c)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user: %s\naccess key: %s\nsecret key: %s\n", c.User, c.AccessKey, c.SecretKey)
	return nil
}

func createUserOffline(ctx context.Context, dir, name string) (*iam.Credentials, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	m, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return iam.New(m, "", "").CreateUser(ctx, name)
}

// adminCall calls the admin API of the node serving dir, signed with the
// root credentials (environment, else the data directory's).
func adminCall(ctx context.Context, dir, method, path string, query url.Values) ([]byte, error) {
	addr, err := os.ReadFile(filepath.Join(dir, server.AddrFile))
	if err != nil {
		return nil, fmt.Errorf("the data directory is in use but no server address was found: %w", err)
	}
	root := iam.Credentials{AccessKey: os.Getenv("STRONGROOM_ROOT_ACCESS_KEY"), SecretKey: os.Getenv("STRONGROOM_ROOT_SECRET_KEY")}
	if root.AccessKey == "" {
		if root, err = server.LoadRootCredentials(dir, false); err != nil {
			return nil, fmt.Errorf("root credentials: set STRONGROOM_ROOT_ACCESS_KEY/SECRET_KEY: %w", err)
		}
	}
	u := strings.TrimSpace(string(addr)) + server.AdminPrefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	empty := sha256.Sum256(nil)
	auth.SignV4(req, root.AccessKey, root.SecretKey, "us-east-1", time.Now(), hex.EncodeToString(empty[:]))
	resp, err := adminClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("server refused: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// adminClient talks to the local node. Its address comes from the data
// directory, so it is loopback: a self-signed certificate is accepted there.
func adminClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // loopback call to our own node
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}
