package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
)

const replicationUsage = "usage: strongroom replication status BUCKET [--data DIR | --endpoint URL [--insecure]] [--json]"

// replicationCmd shows a bucket's replication state per rule: from the
// data directory of a stopped node, else from the node serving it.
func replicationCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 || args[0] != "status" {
		return errors.New(replicationUsage)
	}
	fs := flag.NewFlagSet("replication status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dep := bindDeployment(fs)
	o := bindOutput(fs)
	bucket, _, err := parseNamed(fs, args[1:])
	if err != nil {
		return err
	}
	if bucket == "" {
		return errors.New(replicationUsage)
	}
	ctx := context.Background()
	var st []*service.RuleStatus
	m, err := openLocalDir(dep, server.OpenMetaOffline)
	switch {
	case err == nil:
		st, err = service.ReplicationStatus(ctx, m, bucket, time.Now())
		m.Close()
	case errors.Is(err, bolt.ErrLocked):
		// A server holds the data directory: ask it instead.
		var body []byte
		body, err = dep.call(ctx, http.MethodGet, "replication/"+url.PathEscape(bucket), nil)
		if err == nil {
			err = json.Unmarshal(body, &st)
		}
	}
	if err != nil {
		return err
	}
	return o.print(stdout, st, func() *table { return replicationTable(st) })
}

func replicationTable(st []*service.RuleStatus) *table {
	t := newTable("RULE", "DESTINATION", "ENABLED", "BACKLOG", "RETRYING", "LAG", "COMPLETED", "FAILED", "BYTES", "LAST ERROR")
	for _, r := range st {
		lastErr := ""
		if r.LastError != "" {
			lastErr = stamp(r.LastErrorAt) + " " + r.LastError
		}
		// An empty destination (a rule removed while versions were
		// queued for it) shows as "-".
		t.add(r.Rule, r.Destination, r.Enabled, r.Backlog, r.Retrying,
			r.Lag.Truncate(time.Second), r.Completed, r.Failed, r.Bytes, lastErr)
	}
	return t
}
