package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
)

const replicationUsage = "usage: strongroom replication status BUCKET [--data DIR] [--json]"

// replicationCmd shows a bucket's replication state per rule: from the
// data directory of a stopped node, else from the node serving it.
func replicationCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) < 1 || args[0] != "status" {
		return errors.New(replicationUsage)
	}
	fs := flag.NewFlagSet("replication status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	dep := bindDeployment(fs)
	bucket, _, err := parseNamed(fs, args[1:])
	if err != nil {
		return err
	}
	if bucket == "" {
		return errors.New(replicationUsage)
	}
	ctx := context.Background()
	var st []*service.RuleStatus
	m, err := server.OpenMetaOffline(dep.data)
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
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return printReplicationStatus(stdout, st)
}

func printReplicationStatus(w io.Writer, st []*service.RuleStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tDESTINATION\tENABLED\tBACKLOG\tRETRYING\tLAG\tCOMPLETED\tFAILED\tBYTES\tLAST ERROR")
	for _, r := range st {
		lastErr := "-"
		if r.LastError != "" {
			lastErr = stamp(r.LastErrorAt) + " " + r.LastError
		}
		dest := r.Destination
		if dest == "" {
			dest = "-" // a rule removed while versions were queued for it
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d\t%s\t%d\t%d\t%d\t%s\n", r.Rule, dest, r.Enabled, r.Backlog, r.Retrying,
			r.Lag.Truncate(time.Second), r.Completed, r.Failed, r.Bytes, lastErr)
	}
	return tw.Flush()
}
