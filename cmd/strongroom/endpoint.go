package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// bindEndpoint defines --endpoint and --insecure, which send an admin
// command to a running server by URL instead of through the data
// directory. A command that already has an --insecure flag of its own
// (remote add: the remote's certificate) keeps it, and the endpoint's
// certificate must then verify.
func bindEndpoint(fs *flag.FlagSet, d *deployment) {
	fs.StringVar(&d.endpoint, "endpoint", "", "`URL` of the running server to ask (default: the server holding --data, at the address it wrote there)")
	if fs.Lookup("insecure") == nil {
		fs.BoolVar(&d.insecure, "insecure", false, "with --endpoint: do not verify the server's TLS certificate")
	}
}

// errAskServer is what opening the data directory returns when --endpoint
// names a server: it matches the errors (bolt.ErrLocked, kms.ErrLocked)
// that already send a command to the server holding the directory.
var errAskServer = fmt.Errorf("--endpoint names the server to ask: %w; %w", bolt.ErrLocked, kms.ErrLocked)

// openLocal opens the data directory with open, unless --endpoint names a
// server: then it returns errAskServer, and the data directory stays
// untouched.
func openLocal[A, B any](d *deployment, open func(dataDir, rootKeyFile string, kc server.KMSConfig) (A, B, error)) (A, B, error) {
	if d.endpoint != "" {
		var a A
		var b B
		return a, b, errAskServer
	}
	return open(d.data, d.rootKeyFile, d.kms)
}

// serverURL is the base URL of the server to ask: --endpoint, else the
// address the server holding the data directory wrote there.
func (d *deployment) serverURL() (string, error) {
	if d.endpoint != "" {
		u, err := url.Parse(d.endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("--endpoint %q: want http(s)://HOST[:PORT]", d.endpoint)
		}
		return strings.TrimRight(d.endpoint, "/"), nil
	}
	addr, err := os.ReadFile(filepath.Join(d.data, server.AddrFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			// Key jobs always ask the server, so the directory need
			// not be in use: say what to do either way.
			return "", fmt.Errorf("this command asks the server serving %s, and none has written its address there (start strongroom serve, or give --endpoint URL): %w", d.data, err)
		}
		return "", fmt.Errorf("reading the server's address: %w", err)
	}
	return strings.TrimSpace(string(addr)), nil
}

// openLocalDir is openLocal for what opens with the data directory alone.
func openLocalDir[A any](d *deployment, open func(dataDir string) (A, error)) (A, error) {
	if d.endpoint != "" {
		var a A
		return a, errAskServer
	}
	return open(d.data)
}
