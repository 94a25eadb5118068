package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// parseNamed parses "[NAME [ARG]] [flags]" or "[flags] NAME [ARG]".
func parseNamed(fs *flag.FlagSet, args []string) (name, arg string, err error) {
	pos, err := parsePositional(fs, args) // keypolicy.go
	if err != nil {
		return "", "", err
	}
	return at(pos, 0), at(pos, 1), nil
}

const userUsage = `usage: strongroom user OP [NAME [ARG]] [--data DIR | --endpoint URL [--insecure]] [--json]
  create NAME                 new user with an access key (printed once)
  list | info NAME            users, their access keys (never secrets) and policies
  disable NAME | enable NAME  turn all of a user's keys off or on
  delete NAME                 delete a user that owns no bucket
  key-add NAME                a second access key
  key-rotate NAME KEY         replace access key KEY with a new pair
  key-disable NAME KEY | key-enable NAME KEY | key-remove NAME KEY
  policy-set NAME POLICIES    attach policies: readonly,readwrite,writeonly or @file.json ("" detaches all)
  root-credentials            the root access key and secret kept (sealed) in the data directory;
                              needs the root key, works while the server runs`

func userCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "root-credentials" {
		return rootCredentialsCmd(args[1:], stdout, stderr)
	}
	if len(args) < 1 || !slices.Contains(server.UserOps, args[0]) {
		return errors.New(userUsage)
	}
	op := args[0]
	fs := flag.NewFlagSet("user "+op, flag.ContinueOnError)
	fs.SetOutput(stderr)
	auditLog := fs.String("audit-log", "", "audit log FILE to record a change made on a stopped server (a running one audits to its own)")
	dep := bindDeployment(fs)
	o := bindOutput(fs)
	name, arg, err := parseNamed(fs, args[1:])
	if err != nil {
		return err
	}
	if name == "" && op != "list" {
		return errors.New(userUsage)
	}
	if strings.HasPrefix(arg, "@") {
		b, err := os.ReadFile(arg[1:])
		if err != nil {
			return err
		}
		arg = string(b)
	}
	ctx := context.Background()
	var out any
	ids, m, err := openLocal(dep, server.OpenIAMOffline)
	switch {
	case err == nil:
		defer m.Close()
		out, err = server.UserOp(ctx, ids, op, name, arg)
		keyArg := ""
		if strings.HasPrefix(op, "key-") {
			keyArg = arg
		}
		if aerr := auditOffline(*auditLog, audit.TypeUser, op, name, keyArg, err); aerr != nil {
			err = errors.Join(err, aerr)
		}
	case errors.Is(err, bolt.ErrLocked):
		// A server holds the data directory: ask it instead.
		var body []byte
		body, err = dep.call(ctx, http.MethodPost, "users/"+op, url.Values{"name": {name}, "arg": {arg}})
		if err == nil {
			out, err = decodeUserResult(op, body)
		}
	}
	if err != nil {
		return err
	}
	return printUserResult(stdout, o, out)
}

// rootCredentialsCmd prints the root credentials a node generated in its
// data directory. It only reads (the secret is sealed under the root key),
// so it works while the node runs.
func rootCredentialsCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user root-credentials", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dep := bindDeployment(fs)
	o := bindOutput(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("usage: strongroom user root-credentials [--data DIR] [--root-key-file FILE]")
	}
	c, err := dep.rootCredentials()
	if err != nil {
		return err
	}
	return printUserResult(stdout, o, &c)
}

// deployment is what every admin command is told of the deployment it
// manages: its data directory, the root key file, and the key provider
// (which may hold the root key).
type deployment struct {
	data, rootKeyFile string
	kms               server.KMSConfig
	// endpoint names the server to ask (--endpoint): then the command
	// does not open the data directory; insecure skips the check of
	// that server's certificate.
	endpoint string
	insecure bool
}

// bindDeployment defines the flags that fill a deployment.
func bindDeployment(fs *flag.FlagSet) *deployment {
	d := &deployment{}
	fs.StringVar(&d.data, "data", "./data", "data directory of the server")
	fs.StringVar(&d.rootKeyFile, "root-key-file", "", "root key file (default: $STRONGROOM_ROOT_KEY, else DATA/root.key)")
	bindKMSFlags(fs, &d.kms)
	bindEndpoint(fs, d)
	return d
}

// rootCredentials opens the data directory's root credentials with its
// root key (sealed by the key provider, if it seals it).
func (d *deployment) rootCredentials() (iam.Credentials, error) {
	key, err := server.RootKeyOffline(context.Background(), d.data, d.rootKeyFile, d.kms)
	if err != nil {
		return iam.Credentials{}, err
	}
	defer clear(key)
	return server.LoadRootCredentials(d.data, key)
}

// call calls the admin API of the node serving the data directory, signed
// with the root credentials (environment, else the data directory's).
func (d *deployment) call(ctx context.Context, method, path string, query url.Values) ([]byte, error) {
	return d.callBody(ctx, method, path, query, nil)
}

// callBody is call with a request body (covered by the signature), for
// what must not travel in the URL.
func (d *deployment) callBody(ctx context.Context, method, path string, query url.Values, body []byte) ([]byte, error) {
	resp, err := d.do(ctx, method, path, query, body, 30*time.Second)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// do sends an admin API call and returns the response of a 200 (the
// caller closes its body); timeout 0 waits as long as the answer takes.
func (d *deployment) do(ctx context.Context, method, path string, query url.Values, body []byte, timeout time.Duration) (*http.Response, error) {
	base, err := d.serverURL()
	if err != nil {
		return nil, err
	}
	root := iam.Credentials{AccessKey: os.Getenv("STRONGROOM_ROOT_ACCESS_KEY"), SecretKey: os.Getenv("STRONGROOM_ROOT_SECRET_KEY")}
	if root.AccessKey == "" {
		if root, err = d.rootCredentials(); err != nil {
			return nil, fmt.Errorf("root credentials: set STRONGROOM_ROOT_ACCESS_KEY/SECRET_KEY: %w", err)
		}
	}
	u := base + server.AdminPrefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	auth.SignV4(req, root.AccessKey, root.SecretKey, "us-east-1", time.Now(), hex.EncodeToString(sum[:]))
	cl := d.adminClient()
	cl.Timeout = timeout
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, fmt.Errorf("server refused: %s: %s", resp.Status, strings.TrimSpace(string(out)))
	}
	return resp, nil
}

// adminClient talks to the node. Without --endpoint its address comes
// from the data directory, so it is loopback: a self-signed certificate
// is accepted there. A named endpoint's certificate is verified unless
// --insecure. Each client makes one request, so its connection closes
// with the response: kept alive, it stayed open in a transport nobody
// would use again, and a caller polling (a test's loop of `key migrate
// --status`) ran into the node's cap of connections per client address.
func (d *deployment) adminClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = true
	if d.endpoint == "" || d.insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // loopback call to our own node, or --insecure
	}
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}
