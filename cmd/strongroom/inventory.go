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

	"strongroom/internal/kms"
	"strongroom/internal/meta/bolt"
	"strongroom/internal/server"
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
	data := fs.String("data", "./data", "data directory of the server")
	rootKeyFile := fs.String("root-key-file", "", "root key file (default: $STRONGROOM_ROOT_KEY, else DATA/root.key)")
	var kc server.KMSConfig
	bindKMSFlags(fs, &kc)
	bucket, id, err := parseNamed(fs, args[1:])
	if err != nil {
		return err
	}
	if bucket == "" || id == "" {
		return errors.New(usage)
	}
	ctx := context.Background()
	manifest, err := runInventoryOffline(ctx, *data, *rootKeyFile, kc, bucket, id)
	if errors.Is(err, kms.ErrLocked) || errors.Is(err, bolt.ErrLocked) {
		// A server holds the data directory: ask it instead.
		var body []byte
		body, err = adminCall(ctx, *data, *rootKeyFile, kc, http.MethodPost,
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

func runInventoryOffline(ctx context.Context, dir, rootKeyFile string, kc server.KMSConfig, bucket, id string) (string, error) {
	if err := server.CheckDataDir(dir); err != nil {
		return "", err
	}
	node, err := server.Open(ctx, server.Config{DataDir: dir, RootKeyFile: rootKeyFile, KMSConfig: kc, NoBackgroundJobs: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return "", err
	}
	defer node.Close(ctx)
	return node.Service.RunInventory(ctx, bucket, id)
}
