package main

import (
	"flag"

	"github.com/strongroom-dev/strongroom/internal/server"
)

// bindBlobsFlags defines the data tier's flag onto c; the S3 tier's
// credentials come from the environment only.
func bindBlobsFlags(fs *flag.FlagSet, c *server.BlobsConfig) {
	fs.StringVar(&c.Blobs, "blobs", c.Blobs, "data tier `URL`: s3://BUCKET[/PREFIX]?endpoint=URL[&region=R][&insecure=true] (credentials from $"+
		server.EnvBlobsAccessKey+" and $"+server.EnvBlobsSecretKey+") or file:///DIR (a directory the nodes share); default: DATA/blobs")
}
