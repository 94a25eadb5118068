package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/blob/fs"
	blobs3 "github.com/strongroom-dev/strongroom/internal/blob/s3"
)

// BlobsConfig selects the data tier (--blobs): empty for the data
// directory, file:///DIR for a directory several nodes share, or
// s3://BUCKET[/PREFIX]?endpoint=URL[&region=R][&insecure=true] for any
// S3-compatible server.
type BlobsConfig struct {
	Blobs string `yaml:"blobs"`
	// BlobsAccessKey and BlobsSecretKey sign requests to an S3 tier;
	// default $STRONGROOM_BLOBS_ACCESS_KEY and
	// $STRONGROOM_BLOBS_SECRET_KEY (never a flag: secrets stay out of
	// process listings and configuration files).
	BlobsAccessKey string `yaml:"-"`
	BlobsSecretKey string `yaml:"-"`
}

// Environment variables holding the S3 data tier's credentials.
const (
	EnvBlobsAccessKey = "STRONGROOM_BLOBS_ACCESS_KEY"
	EnvBlobsSecretKey = "STRONGROOM_BLOBS_SECRET_KEY"
)

// staleUploads is the age past which a multipart upload on an S3 tier
// belongs to a writer that died (a blob is written within one request).
const staleUploads = 24 * time.Hour

// openBlobs opens the data tier cfg names; an S3 bucket must exist and
// answer before the node starts, and uploads left by writers that died are
// aborted.
func openBlobs(ctx context.Context, cfg Config, log *slog.Logger) (blob.Store, error) {
	if cfg.Blobs == "" {
		return fs.Open(filepath.Join(cfg.DataDir, blobDir))
	}
	u, err := url.Parse(cfg.Blobs)
	if err != nil {
		return nil, fmt.Errorf("--blobs: %w", err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" || u.Path == "" || u.RawQuery != "" {
			return nil, errors.New("--blobs: a directory is file:///ABSOLUTE/PATH")
		}
		node, err := nodeID(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		return fs.OpenShared(u.Path, node)
	case "s3":
		c, err := S3BlobsConfig(u)
		if err != nil {
			return nil, err
		}
		c.AccessKey, c.SecretKey = cfg.BlobsAccessKey, cfg.BlobsSecretKey
		if c.AccessKey == "" {
			c.AccessKey = os.Getenv(EnvBlobsAccessKey)
		}
		if c.SecretKey == "" {
			c.SecretKey = os.Getenv(EnvBlobsSecretKey)
		}
		if c.AccessKey == "" || c.SecretKey == "" {
			return nil, fmt.Errorf("--blobs s3: set %s and %s", EnvBlobsAccessKey, EnvBlobsSecretKey)
		}
		s, err := blobs3.New(c)
		if err != nil {
			return nil, err
		}
		if err := s.Check(ctx); err != nil {
			return nil, fmt.Errorf("--blobs s3: bucket %s at %s: %w", c.Bucket, c.Endpoint, err)
		}
		n, err := s.SweepUploads(ctx, time.Now().Add(-staleUploads))
		if err != nil {
			return nil, fmt.Errorf("--blobs s3: %w", err)
		}
		if n > 0 {
			log.Info("aborted stale uploads on the data tier", "count", n)
		}
		return s, nil
	}
	return nil, fmt.Errorf("--blobs: unknown scheme %q (want s3:// or file://)", u.Scheme)
}

// S3BlobsConfig reads s3://BUCKET[/PREFIX]?endpoint=URL[&region=R]
// [&insecure=true] (credentials aside). Blobs are padded to
// blob.PadQuantum: the tier learns sizes to within a segment.
func S3BlobsConfig(u *url.URL) (blobs3.Config, error) {
	c := blobs3.Config{Pad: blob.PadQuantum}
	if u.User != nil {
		return c, errors.New("--blobs s3: credentials go in the environment, not the URL")
	}
	c.Bucket = u.Host
	if c.Bucket == "" {
		return c, errors.New("--blobs s3: no bucket (s3://BUCKET?endpoint=URL)")
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		c.Prefix = p + "/"
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "endpoint", "region", "insecure":
		default:
			return c, fmt.Errorf("--blobs s3: unknown parameter %q", k)
		}
	}
	c.Endpoint, c.Region = q.Get("endpoint"), q.Get("region")
	e, err := url.Parse(c.Endpoint)
	if c.Endpoint == "" || err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
		return c, errors.New("--blobs s3: endpoint=http(s)://HOST[:PORT] is required")
	}
	if v := q.Get("insecure"); v != "" {
		if c.Insecure, err = strconv.ParseBool(v); err != nil {
			return c, fmt.Errorf("--blobs s3: insecure=%q: %w", v, err)
		}
	}
	return c, nil
}
