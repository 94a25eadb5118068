package console

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/iam/policy"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// root is the principal the console acts as: only the root account logs
// in.
var root = service.Principal{User: iam.RootUser, Root: true}

// modeColumns are the coverage columns, in order.
var modeColumns = []struct{ Mode, Label string }{
	{modeManaged, "SSE-S3"},
	{modeKMS, "SSE-KMS"},
	{modeCustomer, "SSE-C"},
	{modePlain, "Plaintext"},
}

// bucketRow is one bucket as the bucket pages show it.
type bucketRow struct {
	Name       string
	Owner      string
	Created    time.Time
	Versioning string
	Default    *sse.Config // nil: no default encryption
	Policy     policySummary
	Count      *bucketCount // nil: created since the count
}

// cell is one bucket's count of one mode.
type cell struct {
	tally
	Unknown bool // not counted: the count stopped before the bucket
	AtLeast bool // the count stopped inside the bucket
}

// Cells are the bucket's coverage cells, in modeColumns order.
func (b bucketRow) Cells() []cell {
	out := make([]cell, len(modeColumns))
	for i, m := range modeColumns {
		switch {
		case b.Count == nil || b.Count.Skipped:
			out[i].Unknown = true
		default:
			out[i] = cell{tally: b.Count.mode(m.Mode), AtLeast: b.Count.Partial}
		}
	}
	return out
}

// Counted: the bucket's versions were counted, at least in part.
func (b bucketRow) Counted() bool { return b.Count != nil && !b.Count.Skipped }

// Total is the bucket's versions holding data.
func (b bucketRow) Total() tally {
	if b.Count == nil {
		return tally{}
	}
	return b.Count.total()
}

// Encrypted is the bucket's versions encrypted by any mode.
func (b bucketRow) Encrypted() int64 {
	if b.Count == nil {
		return 0
	}
	return b.Count.total().Objects - b.Count.mode(modePlain).Objects
}

// coverageRow is one line of the store-wide coverage counters.
type coverageRow struct {
	Label     string
	Algorithm string
	Plain     bool
	tally
}

type bucketsData struct {
	Columns  []struct{ Mode, Label string }
	Buckets  []bucketRow
	Coverage []coverageRow
	Total    tally
	Scanned  int64
	Counted  bool // the store keeps coverage counters
}

func (c *Console) bucketRow(ctx context.Context, b *meta.Bucket, cs *counts) (bucketRow, error) {
	row := bucketRow{Name: b.Name, Owner: b.Owner, Created: b.Created, Versioning: b.Versioning, Count: cs.Buckets[b.Name]}
	def, err := c.cfg.Service.GetBucketEncryption(ctx, root, b.Name)
	switch {
	case err == nil:
		row.Default = def
	case !errors.Is(err, errs.NoEncryptionConfig):
		return row, err
	}
	doc, err := c.cfg.Service.GetBucketPolicy(ctx, root, b.Name)
	switch {
	case err == nil:
		row.Policy = summarizePolicy(doc, false)
	case !errors.Is(err, errs.NoSuchBucketPolicy):
		return row, err
	}
	return row, nil
}

func (c *Console) bucketsPage(w http.ResponseWriter, r *http.Request, ss *session) {
	ctx := r.Context()
	cs, err := c.counts.get(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	bs, err := c.cfg.Service.ListBuckets(ctx, root)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := bucketsData{Columns: modeColumns, Scanned: int64(cs.Scanned)}
	for _, b := range bs {
		row, err := c.bucketRow(ctx, b, cs)
		if errors.Is(err, errs.NoSuchBucket) {
			continue // deleted since the listing
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.Buckets = append(d.Buckets, row)
	}
	if src, ok := c.cfg.Meta.(meta.ObjectStats); ok {
		stats, err := src.ObjectStats(ctx)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.Counted = true
		d.Coverage, d.Total = coverage(stats)
	}
	c.render(w, http.StatusOK, "buckets", c.counted(ss.view("Buckets", "buckets", d), cs))
}

// coverage orders the store's counters by mode as the columns are.
func coverage(stats []meta.ObjectStat) ([]coverageRow, tally) {
	var rows []coverageRow
	var total tally
	for _, col := range modeColumns {
		for _, s := range stats {
			if s.Mode != col.Mode || s.Objects == 0 {
				continue
			}
			rows = append(rows, coverageRow{Label: col.Label, Algorithm: s.Algorithm, Plain: s.Mode == modePlain,
				tally: tally{Objects: s.Objects, Bytes: s.Bytes}})
			total.Objects += s.Objects
			total.Bytes += s.Bytes
		}
	}
	return rows, total
}

type bucketData struct {
	Columns []struct{ Mode, Label string }
	Bucket  bucketRow
	Keys    []kms.KeyInfo
	// The form's current choice.
	Mode      string
	KeyID     string
	BucketKey bool
}

func (c *Console) bucketPage(w http.ResponseWriter, r *http.Request, ss *session) {
	c.showBucket(w, r, ss, http.StatusOK, "", r.URL.Query().Get("saved") != "")
}

// showBucket renders a bucket's page, with the outcome of a change.
func (c *Console) showBucket(w http.ResponseWriter, r *http.Request, ss *session, status int, failure string, saved bool) {
	ctx := r.Context()
	name := r.PathValue("name")
	b, err := c.cfg.Meta.GetBucket(ctx, name)
	if errors.Is(err, meta.ErrNoSuchBucket) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	cs, err := c.counts.get(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	row, err := c.bucketRow(ctx, b, cs)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	keys, err := c.cfg.Keys.ListKeys(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := bucketData{Columns: modeColumns, Bucket: row, Keys: keys, Mode: string(sse.Managed)}
	if row.Default != nil {
		d.Mode, d.KeyID, d.BucketKey = string(row.Default.Mode), row.Default.KeyID, row.Default.BucketKey
	}
	v := c.counted(ss.view(name, "buckets", d), cs)
	v.Error = failure
	if saved {
		v.Notice = "Default encryption saved. It applies to objects written from now on; existing objects keep theirs."
	}
	c.render(w, status, "bucket", v)
}

// setEncryption sets a bucket's default encryption (SSE-S3, or SSE-KMS
// with a key) through the service call the S3 API's PutBucketEncryption
// makes, and audits it as that operation is audited. Blocked encryption
// types already configured are kept: the form does not offer them, and
// must not quietly lift a block.
func (c *Console) setEncryption(w http.ResponseWriter, r *http.Request, ss *session) {
	ctx := r.Context()
	bucket := r.PathValue("name")
	cfg := &sse.Config{}
	switch r.PostFormValue("mode") {
	case string(sse.Managed):
		cfg.Mode = sse.Managed
	case string(sse.KMS):
		cfg.Mode, cfg.KeyID = sse.KMS, strings.TrimSpace(r.PostFormValue("key"))
		cfg.BucketKey = r.PostFormValue("bucket_key") == "on"
	default:
		c.showBucket(w, r, ss, http.StatusBadRequest, "Choose SSE-S3 or SSE-KMS.", false)
		return
	}
	old, err := c.cfg.Service.GetBucketEncryption(ctx, root, bucket)
	switch {
	case err == nil:
		cfg.BlockedTypes = old.BlockedTypes
	case errors.Is(err, errs.NoSuchBucket):
		http.NotFound(w, r)
		return
	case !errors.Is(err, errs.NoEncryptionConfig):
		c.fail(w, r, err)
		return
	}
	err = c.cfg.Service.PutBucketEncryption(ctx, root, bucket, cfg)
	e := audit.Event{Type: audit.TypeBucketConfig, Action: "PutBucketEncryption", Outcome: audit.OK, Principal: ss.user,
		AccessKey: ss.accessKey, Source: clientAddr(r), Dialect: "console", Bucket: bucket}
	if err != nil {
		e.Outcome, e.Reason = audit.Failed, errCode(err)
	}
	audit.Record(ctx, c.cfg.Audit, e)
	if err != nil {
		c.log.Info("console: setting default encryption failed", "bucket", bucket, "err", err)
		status, msg := http.StatusInternalServerError, "The server could not save the configuration."
		if se := errs.As(err); se != nil {
			status, msg = se.Status, se.Code+": "+se.Message
		}
		c.showBucket(w, r, ss, status, msg, false)
		return
	}
	c.log.Info("console: default encryption set", "bucket", bucket, "mode", cfg.Mode, "key", cfg.KeyID, "principal", ss.user)
	http.Redirect(w, r, "/buckets/"+bucket+"?saved=1", http.StatusSeeOther)
}

func errCode(err error) string {
	if e := errs.As(err); e != nil {
		return e.Code
	}
	return "InternalError"
}

type keyRow struct {
	kms.KeyInfo
	Protects int64
}

type keysData struct {
	Keys    []keyRow
	Scanned int64
}

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request, ss *session) {
	ctx := r.Context()
	keys, err := c.cfg.Keys.ListKeys(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	cs, err := c.counts.get(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := keysData{Scanned: int64(cs.Scanned)}
	for _, k := range keys {
		row := keyRow{KeyInfo: k, Protects: cs.Keys[k.ID]}
		d.Keys = append(d.Keys, row)
	}
	c.render(w, http.StatusOK, "keys", c.counted(ss.view("KMS keys", "keys", d), cs))
}

// policyView is one policy attached to a user.
type policyView struct {
	Name       string // the canned policy's name; "" for a document
	Document   string
	Statements string // a document's summary
}

type userRow struct {
	Name     string
	Root     bool
	Created  time.Time
	Disabled bool
	Keys     []iam.KeyInfo
	Policies []policyView
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, ss *session) {
	users, err := c.cfg.IAM.ListUsers(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rows := []userRow{{Name: iam.RootUser, Root: true, Keys: []iam.KeyInfo{{AccessKey: ss.accessKey}}}}
	for _, u := range users {
		row := userRow{Name: u.Name, Created: u.Created, Disabled: u.Disabled, Keys: u.Keys}
		for _, p := range u.Policies {
			if _, ok := policy.Canned(p); ok {
				row.Policies = append(row.Policies, policyView{Name: p})
				continue
			}
			row.Policies = append(row.Policies, policyView{Document: p, Statements: summarizePolicy([]byte(p), true).String()})
		}
		rows = append(rows, row)
	}
	c.render(w, http.StatusOK, "users", ss.view("Users", "users", rows))
}

func (c *Console) denialsPage(w http.ResponseWriter, r *http.Request, ss *session) {
	var events []audit.Event
	if c.cfg.Denials != nil {
		events = c.cfg.Denials.Recent()
	}
	c.render(w, http.StatusOK, "denials", ss.view("Recent denials", "denials", events))
}

type jobRow struct {
	*meta.Job
	Backlog    int64
	HasBacklog bool
	Running    bool
}

// Counters lists a job's counters of all passes, by name.
func (j jobRow) Counters() []string {
	var out []string
	for k, v := range j.Total {
		out = append(out, k+" "+formatInt(v))
	}
	sort.Strings(out)
	return out
}

func (c *Console) jobsPage(w http.ResponseWriter, r *http.Request, ss *session) {
	ctx := r.Context()
	js, err := c.cfg.Jobs.Status(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var rows []jobRow
	for _, j := range js {
		row := jobRow{Job: j, Running: !j.PassStarted.IsZero()}
		n, ok, err := c.cfg.Jobs.Backlog(ctx, j.Name)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		row.Backlog, row.HasBacklog = n, ok
		rows = append(rows, row)
	}
	c.render(w, http.StatusOK, "jobs", ss.view("Background jobs", "jobs", rows))
}
