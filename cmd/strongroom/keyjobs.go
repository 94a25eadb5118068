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
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/service"
)

const keyJobUsage = `usage:
  strongroom key rewrap KEY [--to KEY] [--rate N] [--status] [--no-wait] [--data DIR]
      move every object key (and bucket key) wrapped under an old version of KEY
      (or under KEY at all, with --to) to the newest version of the target key;
      metadata only, object data untouched
  strongroom key reencrypt --bucket B [--prefix P] [--algorithm AES256|SM4] [--rate N] [--status] [--no-wait]
      rewrite object data under fresh object keys (optionally another algorithm)
  strongroom key migrate --to pkcs11:module=PATH,token=LABEL,pin-file=FILE | kmip:addr=H:P,cert=F,key=F,ca=F
      move to another key provider: create the keys there (same names), send new data keys
      there, and rewrap every stored object key and bucket key under them; then restart
      the server with that provider's --kms flags
  strongroom key migrate --finish --from pkcs11:...|kmip:...
      after the migration completed and the server restarted on the target: destroy
      every key of the old provider (default and root sealing key too; no undo)
  strongroom key list --usage   objects per key version (a version with none can be retired)
  strongroom key retire KEY --version N | --below N
      destroy old versions' material once nothing needs them (see key retire -h)
The job runs in the server (which must be running), resumes after a restart, and
shows its progress: a progress line on a terminal, else one JSON status a line`

// keyJobCmd runs the key job subcommands (rewrap, reencrypt); handled is
// false for any other key operation.
func keyJobCmd(args []string, stdout, stderr io.Writer) (handled bool, err error) {
	if len(args) < 1 {
		return false, nil
	}
	op := args[0]
	var job string
	switch op {
	case "rewrap":
		job = service.RewrapJob
	case "reencrypt":
		job = service.ReencryptJob
	case "migrate":
		job = service.MigrateJob
	default:
		return false, nil
	}
	fs := flag.NewFlagSet("key "+op, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dep := bindDeployment(fs)
	to := fs.String("to", "", "rewrap: move to the newest version of this key instead; migrate: the target provider, pkcs11:module=PATH,token=LABEL,pin-file=FILE or kmip:addr=HOST:PORT,cert=FILE,key=FILE,ca=FILE")
	bucket := fs.String("bucket", "", "reencrypt: the bucket")
	prefix := fs.String("prefix", "", "reencrypt: only keys with this prefix")
	alg := fs.String("algorithm", "", "reencrypt: data algorithm AES256 or SM4 (default: each object's own)")
	rate := fs.Float64("rate", 0, "objects per second at most (0: no cap)")
	status := fs.Bool("status", false, "show the job's progress; start nothing")
	noWait := fs.Bool("no-wait", false, "start the job and return")
	every := fs.Duration("interval", 500*time.Millisecond, "how often the progress is shown")
	finish := fs.Bool("finish", false, "migrate: once the migration completed and the server runs on the target, destroy every key of the old provider given by --from (no undo)")
	from := fs.String("from", "", "migrate --finish: the old provider, in --to's syntax")
	name, _, err := parseNamed(fs, args[1:])
	if err != nil {
		return true, err
	}
	ctx := context.Background()
	if op == "migrate" && *finish {
		return true, finishMigration(ctx, dep, *from, stdout)
	}
	var st *service.KeyJobStatus
	if !*status {
		q := url.Values{}
		if *rate > 0 {
			q.Set("rate", strconv.FormatFloat(*rate, 'f', -1, 64))
		}
		switch op {
		case "rewrap":
			if name == "" {
				return true, errors.New(keyJobUsage)
			}
			q.Set("name", name)
			if *to != "" {
				q.Set("to", *to)
			}
		case "reencrypt":
			if *bucket == "" {
				return true, errors.New(keyJobUsage)
			}
			q.Set("bucket", *bucket)
			q.Set("prefix", *prefix)
			q.Set("algorithm", *alg)
		}
		var body []byte
		if op == "migrate" {
			target, perr := parseProviderSpec(*to)
			if perr != nil {
				return true, perr
			}
			raw, _ := json.Marshal(target)
			body, err = dep.callBody(ctx, http.MethodPost, "keys/migrate", q, raw)
		} else {
			body, err = dep.call(ctx, http.MethodPost, "keys/"+op, q)
		}
		if err != nil {
			return true, err
		}
		if st, err = decodeStatus(body); err != nil {
			return true, err
		}
		if *noWait {
			return true, showStatus(stdout, st, false)
		}
	}
	return true, followJob(ctx, dep, job, stdout, *status, *every)
}

func decodeStatus(body []byte) (*service.KeyJobStatus, error) {
	st := new(service.KeyJobStatus)
	if err := json.Unmarshal(body, st); err != nil {
		return nil, fmt.Errorf("reading the job status: %w", err)
	}
	return st, nil
}

// followJob shows the job's progress until it ends (once with once).
func followJob(ctx context.Context, dep *deployment, job string, w io.Writer, once bool, every time.Duration) error {
	tty := isTerminal(w)
	for {
		body, err := dep.call(ctx, http.MethodGet, "keyjobs/"+job, nil)
		if err != nil {
			return err
		}
		st, err := decodeStatus(body)
		if err != nil {
			return err
		}
		if err := showStatus(w, st, tty); err != nil {
			return err
		}
		if once || !st.Running {
			if tty {
				fmt.Fprintln(w)
			}
			if st.LastError != "" && !st.Running {
				return fmt.Errorf("%s: %s", job, st.LastError)
			}
			return nil
		}
		time.Sleep(every)
	}
}

// showStatus prints one progress report: a line redrawn in place on a
// terminal, else a JSON object a line.
func showStatus(w io.Writer, st *service.KeyJobStatus, tty bool) error {
	if !tty {
		return json.NewEncoder(w).Encode(st)
	}
	pct := 100.0
	if st.Total > 0 {
		pct = float64(st.Done) / float64(st.Total) * 100
	}
	const width = 30
	bar := strings.Repeat("#", int(pct/100*width)) + strings.Repeat(".", width-int(pct/100*width))
	state := "done"
	if st.Running {
		state = "running"
	}
	var extra []string
	for _, k := range []string{"rewrapped", "reencrypted", "changed", "gone", "failed"} {
		if n := st.Counts[k]; n > 0 {
			extra = append(extra, fmt.Sprintf("%s=%d", k, n))
		}
	}
	_, err := fmt.Fprintf(w, "\r%s [%s] %d/%d %5.1f%% %s %s", st.Job, bar, st.Done, st.Total, pct, state, strings.Join(extra, " "))
	return err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// printKeyUsage prints how many object versions depend on each key
// version (`key list --usage`): from the running node, else offline.
func printKeyUsage(ctx context.Context, dep *deployment, w io.Writer) error {
	body, err := dep.call(ctx, http.MethodGet, "keys/usage", nil)
	if err != nil {
		return err
	}
	var u []service.KeyUsage
	if err := json.Unmarshal(body, &u); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tPROVIDER\tVERSION\tOBJECTS")
	for _, x := range u {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", x.Key, x.Provider, x.Version, x.Objects)
	}
	return tw.Flush()
}

// parseProviderSpec reads a migration target, "pkcs11:k=v,..." or
// "kmip:k=v,...", whose keys are the serve flags' names without the
// provider prefix (module, token, pin-file, sessions; addr, cert, key, ca).
// The PIN is never in it: pin-file, or $STRONGROOM_PKCS11_PIN where the
// server runs.
func parseProviderSpec(spec string) (server.KMSConfig, error) {
	kind, rest, _ := strings.Cut(spec, ":")
	c := server.KMSConfig{KMS: kind}
	if kind != server.KMSPKCS11 && kind != server.KMSKMIP {
		return c, fmt.Errorf("--to %q: want pkcs11:module=PATH,token=LABEL,pin-file=FILE or kmip:addr=HOST:PORT,cert=FILE,key=FILE,ca=FILE", spec)
	}
	for _, kv := range strings.Split(rest, ",") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k = strings.TrimPrefix(strings.TrimPrefix(k, "pkcs11-"), "kmip-")
		var dst *string
		switch kind + "/" + k {
		case "pkcs11/module":
			dst = &c.PKCS11Module
		case "pkcs11/token":
			dst = &c.PKCS11Token
		case "pkcs11/pin-file":
			dst = &c.PKCS11PINFile
		case "pkcs11/sessions":
			n, err := strconv.Atoi(v)
			if err != nil {
				return c, fmt.Errorf("--to: sessions %q: %w", v, err)
			}
			c.PKCS11Sessions = n
			continue
		case "kmip/addr":
			dst = &c.KMIPAddr
		case "kmip/cert":
			dst = &c.KMIPCert
		case "kmip/key":
			dst = &c.KMIPKey
		case "kmip/ca":
			dst = &c.KMIPCA
		default:
			return c, fmt.Errorf("--to: unknown %s setting %q", kind, k)
		}
		*dst = v
	}
	return c, nil
}
