package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/remote"
	"github.com/strongroom-dev/strongroom/internal/server"
)

const remoteUsage = `usage: strongroom remote OP [ARGS] [--data DIR | --endpoint URL] [--root-key-file FILE] [--json]
  add NAME URL --access-key AK --secret-key SK [--insecure]
                   register another strongroom deployment as a replication
                   destination; its secret is kept sealed under the root key
  list             the registered remotes (never their secrets)
  remove NAME      unregister a remote`

// remoteCmd manages the remote deployments replication rules name, in the
// data directory or, while a server holds it, through that server.
func remoteCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 {
		return errors.New(remoteUsage)
	}
	op := args[0]
	fs := flag.NewFlagSet("remote "+op, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var in server.RemoteRequest
	if op == "add" {
		fs.StringVar(&in.AccessKey, "access-key", "", "access key on the remote")
		fs.StringVar(&in.SecretKey, "secret-key", "", "secret key on the remote")
		fs.BoolVar(&in.Insecure, "insecure", false, "do not verify the remote's TLS certificate")
	}
	dep := bindDeployment(fs) // after add's --insecure, which is the remote's
	o := bindOutput(fs)
	name, arg, err := parseNamed(fs, args[1:])
	if err != nil {
		return err
	}
	in.Name, in.URL = name, arg
	switch {
	case op == "add" && (name == "" || arg == "" || in.AccessKey == "" || in.SecretKey == ""),
		op == "remove" && (name == "" || arg != ""),
		op == "list" && name != "",
		op != "add" && op != "remove" && op != "list":
		return errors.New(remoteUsage)
	}
	ctx := context.Background()
	var out []remote.Info
	reg, m, err := openLocal(dep, server.OpenRemotesOffline)
	switch {
	case err == nil:
		defer m.Close()
		out, err = server.RemoteOp(ctx, reg, m, op, in)
	case errors.Is(err, bolt.ErrLocked):
		// A server holds the data directory: ask it instead.
		var body, reqBody []byte
		method, path := http.MethodGet, "remotes"
		if op != "list" {
			method, path = http.MethodPost, "remotes/"+op
			if reqBody, err = json.Marshal(in); err != nil {
				return err
			}
		}
		if body, err = dep.callBody(ctx, method, path, nil, reqBody); err == nil {
			err = json.Unmarshal(body, &out)
		}
	}
	if err != nil {
		return err
	}
	return o.print(stdout, out, func() *table {
		t := newTable("NAME", "URL", "ACCESS KEY", "INSECURE")
		for _, r := range out {
			t.add(r.Name, r.URL, r.AccessKey, r.Insecure)
		}
		return t
	})
}
