package main

import (
	"flag"

	"github.com/strongroom-dev/strongroom/internal/server"
)

// bindMetaFlags defines the metadata store's flag.
func bindMetaFlags(fs *flag.FlagSet, cfg *server.MetaConfig) {
	fs.StringVar(&cfg.Meta, "meta", cfg.Meta, "metadata store: `postgres://USER@HOST:PORT/DB?sslmode=disable` (password in the URL or $PGPASSWORD) shared by scale-out nodes; default: embedded in the data directory")
}
