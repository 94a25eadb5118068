package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// jobsCmd shows and runs the background jobs of the node serving a data
// directory (they run inside that node, so it must be running).
func jobsCmd(args []string, stdout, stderr io.Writer) error {
	const usage = "usage: strongroom jobs list [--data DIR | --endpoint URL [--insecure]] [--json] | strongroom jobs run NAME [same flags]"
	if len(args) < 1 {
		return errors.New(usage)
	}
	op := args[0]
	fs := flag.NewFlagSet("jobs "+op, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dep := bindDeployment(fs)
	o := bindOutput(fs)
	name, _, err := parseNamed(fs, args[1:])
	if err != nil {
		return err
	}
	ctx := context.Background()
	var js []*meta.Job
	switch {
	case op == "list" && name == "":
		body, err := dep.call(ctx, http.MethodGet, "jobs", nil)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(body, &js); err != nil {
			return err
		}
	case op == "run" && name != "":
		// The pass goes on in the server if this call times out.
		body, err := dep.call(ctx, http.MethodPost, "jobs/"+name+"/run", nil)
		if err != nil {
			return err
		}
		j := new(meta.Job)
		if err := json.Unmarshal(body, j); err != nil {
			return err
		}
		js = []*meta.Job{j}
	default:
		return errors.New(usage)
	}
	return o.print(stdout, js, func() *table {
		t := newTable("JOB", "PASSES", "LAST PASS", "NEXT RUN", "RUNNING", "LAST PASS COUNTS", "LAST ERROR")
		for _, j := range js {
			t.add(j.Name, j.Passes, j.LastPass, j.NextRun, !j.PassStarted.IsZero(), countsString(j.Pass), j.LastError)
		}
		return t
	})
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func countsString(c map[string]int64) string {
	if len(c) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(c))
	for k, v := range c {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
