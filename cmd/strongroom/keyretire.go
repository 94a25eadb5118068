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
	"strconv"

	"github.com/strongroom-dev/strongroom/internal/server"
)

const keyRetireUsage = `usage: strongroom key retire KEY --version N | --below N [--data DIR | --endpoint URL]
  destroy the material of old versions of KEY (after a rewrap moved everything off them):
  refused while an object version (locked or not, through its object key or bucket key)
  or a multipart upload in progress still needs one; the newest version cannot be retired.
  The server must be running. Each retired version is an audit line`

// keyRetireCmd runs `strongroom key retire`.
func keyRetireCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("key retire", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dep := bindDeployment(fs)
	version := fs.Uint("version", 0, "the version to retire")
	below := fs.Uint("below", 0, "retire every version below this one")
	name, _, err := parseNamed(fs, args[1:])
	if err != nil {
		return err
	}
	if name == "" || (*version == 0) == (*below == 0) {
		return errors.New(keyRetireUsage)
	}
	q := url.Values{"name": {name}}
	if *version != 0 {
		q.Set("version", strconv.FormatUint(uint64(*version), 10))
	} else {
		q.Set("below", strconv.FormatUint(uint64(*below), 10))
	}
	body, err := dep.call(context.Background(), http.MethodPost, "keys/retire", q)
	if err != nil {
		return err
	}
	var res server.KeyRetireResult
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if len(res.Retired) == 0 {
		_, err = fmt.Fprintf(stdout, "%s: no version to retire\n", res.Key)
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s: retired version(s) %v\n", res.Key, res.Retired)
	return err
}
