package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/server"
)

// inventoryCmd delivers one inventory report now: in this process when no
// server holds the data directory, else through the running server.
func inventoryCmd(args []string, stdout, stderr io.Writer) error {
	const usage = "usage: strongroom inventory run BUCKET ID [--data DIR] [--root-key-file FILE]"
	if len(args) < 1 || args[0] != "run" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("inventory run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dep := bindDeployment(fs)
	bucket, id, err := parseNamed(fs, args[1:])
	if err != nil {
		return err
	}
	if bucket == "" || id == "" {
		return errors.New(usage)
	}
	ctx := context.Background()
	manifest, err := runInventoryOffline(ctx, dep, bucket, id)
	if errors.Is(err, kms.ErrLocked) || errors.Is(err, bolt.ErrLocked) {
		// A server holds the data directory: ask it instead.
		var body []byte
		body, err = dep.call(ctx, http.MethodPost,
			"inventory/"+url.PathEscape(bucket)+"/"+url.PathEscape(id)+"/run", nil)
		if err == nil {
			var out struct{ Manifest string }
			if err = json.Unmarshal(body, &out); err == nil {
				manifest = out.Manifest
			}
		}
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "delivered: %s\n", manifest)
	return err
}

func runInventoryOffline(ctx context.Context, dep *deployment, bucket, id string) (string, error) {
	if dep.endpoint != "" {
		return "", errAskServer
	}
	if err := server.CheckDataDir(dep.data); err != nil {
		return "", err
	}
	node, err := server.Open(ctx, server.Config{DataDir: dep.data, RootKeyFile: dep.rootKeyFile, KMSConfig: dep.kms, NoBackgroundJobs: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return "", err
	}
	defer node.Close(ctx)
	return node.Service.RunInventory(ctx, bucket, id)
}
