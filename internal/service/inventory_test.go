package service

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/inventory"
	"github.com/strongroom-dev/strongroom/internal/jobs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// invConfig is an inventory of "bkt" into "dst" with every field.
func invConfig(id string, all bool, enc *inventory.Encryption) *inventory.Config {
	return &inventory.Config{ID: id, Enabled: true, AllVersions: all, Frequency: inventory.Daily,
		Destination: inventory.Destination{Bucket: "dst", BucketARN: "arn:aws:s3:::dst", Format: inventory.CSV, Prefix: "inv", Encryption: enc},
		Fields: []string{inventory.FieldSize, inventory.FieldETag, inventory.FieldIsMultipartUploaded,
			inventory.FieldEncryptionStatus, inventory.FieldEncryptionAlgorithm, inventory.FieldBucketKeyStatus,
			inventory.FieldLastModifiedDate, inventory.FieldObjectLockLegalHoldStatus}}
}

func (f *fixture) readObject(t testing.TB, bucket, key string) ([]byte, *meta.Object) {
	t.Helper()
	ob, err := f.svc.GetObject(context.Background(), f.p, GetObjectInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer ob.Body.Close()
	data, err := io.ReadAll(ob.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data, ob.Object
}

// readReport reads a delivered report: the manifest (its checksum
// checked) and every row of its data files.
func (f *fixture) readReport(t testing.TB, manifestKey string) (inventory.Manifest, [][]string) {
	t.Helper()
	raw, _ := f.readObject(t, "dst", manifestKey)
	sum, _ := f.readObject(t, "dst", strings.TrimSuffix(manifestKey, ".json")+".checksum")
	want := md5.Sum(raw)
	if string(sum) != hex.EncodeToString(want[:]) {
		t.Fatalf("manifest.checksum %q, MD5 of manifest.json %x", sum, want)
	}
	var m inventory.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for _, file := range m.Files {
		gz, _ := f.readObject(t, "dst", file.Key)
		if int64(len(gz)) != file.Size {
			t.Fatalf("%s: %d bytes, manifest says %d", file.Key, len(gz), file.Size)
		}
		if s := md5.Sum(gz); hex.EncodeToString(s[:]) != file.MD5Checksum {
			t.Fatalf("%s: MD5 differs from the manifest's", file.Key)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(zr).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, recs...)
	}
	return m, rows
}

// manifests lists the manifest.json keys in "dst" under prefix, oldest
// first.
func (f *fixture) manifests(t testing.TB, prefix string) []string {
	var keys []string
	err := f.meta.ListObjects(context.Background(), "dst", prefix, "", func(o *meta.Object) error {
		if strings.HasSuffix(o.Key, "/manifest.json") {
			keys = append(keys, o.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestInventoryReportRows: a report of every version lists each version,
// delete markers included, with the encryption mode and data algorithm of
// each, in key order, newest version first.
func TestInventoryReportRows(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.CreateBucket(ctx, f.p, "dst", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.PutBucketVersioning(ctx, f.p, "bkt", meta.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	customer := &sse.Spec{Mode: sse.Customer, Algorithm: sse.AES256, CustomerKey: random(32), CustomerKeyMD5: "md5"}
	puts := []struct {
		key  string
		spec *sse.Spec
	}{
		{"a-plain", nil},
		{"b-managed", &sse.Spec{Mode: sse.Managed}},
		{"c-kms", &sse.Spec{Mode: sse.KMS}},
		{"d-customer", customer},
		{"e-sm4", &sse.Spec{Mode: sse.KMS, Algorithm: sse.SM4}},
		{"f \"quoted\",key", nil},
		{"a-plain", &sse.Spec{Mode: sse.Managed}}, // a second version
	}
	for _, p := range puts {
		f.put(t, p.key, []byte("data of "+p.key), p.spec)
	}
	if err := f.svc.DeleteObject(ctx, f.p, "bkt", "b-managed"); err != nil { // a delete marker
		t.Fatal(err)
	}
	if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", invConfig("all", true, nil)); err != nil {
		t.Fatal(err)
	}
	key, err := f.svc.RunInventory(ctx, "bkt", "all")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "inv/bkt/all/") || !strings.HasSuffix(key, "/manifest.json") {
		t.Fatalf("manifest key %q", key)
	}
	m, rows := f.readReport(t, key)
	if m.SourceBucket != "bkt" || m.DestinationBucket != "arn:aws:s3:::dst" || m.Version != "2016-11-30" || m.FileFormat != "CSV" {
		t.Fatalf("manifest %+v", m)
	}
	if want := "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, ETag, IsMultipartUploaded, EncryptionStatus, EncryptionAlgorithm, BucketKeyStatus, LastModifiedDate, ObjectLockLegalHoldStatus"; m.FileSchema != want {
		t.Fatalf("fileSchema %q", m.FileSchema)
	}
	if _, err := strconv.ParseInt(m.CreationTimestamp, 10, 64); err != nil {
		t.Fatalf("creationTimestamp %q", m.CreationTimestamp)
	}
	// The expected rows, from the bucket's own listing.
	var want [][]string
	err = f.meta.ListObjectVersions(ctx, "bkt", "", "", "", func(o *meta.Object, latest bool) error {
		r := []string{"bkt", url.QueryEscape(o.Key), o.VersionID, strconv.FormatBool(latest), strconv.FormatBool(o.DeleteMarker)}
		if o.DeleteMarker {
			r = append(r, "", "", "", "", "", "", "", "")
		} else {
			status, alg := "NOT-SSE", ""
			if o.Encryption != nil {
				status = map[string]string{"managed": "SSE-S3", "kms": "SSE-KMS", "customer": "SSE-C"}[o.Encryption.Mode]
				alg = o.Encryption.Algorithm
			}
			r = append(r, strconv.FormatInt(o.Size, 10), o.ETag, "false", status, alg, "DISABLED",
				o.LastModified.UTC().Format("2006-01-02T15:04:05.000Z"), "OFF")
		}
		want = append(want, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) || len(want) != 8 {
		t.Fatalf("%d rows, want %d (8)", len(rows), len(want))
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i], want[i])
		}
	}
	// Spot checks that do not depend on the listing above.
	statuses := map[string]string{}
	for _, r := range rows {
		if r[3] == "true" && r[4] == "false" {
			statuses[r[1]] = r[8] + "/" + r[9]
		}
	}
	for k, v := range map[string]string{"a-plain": "SSE-S3/AES256", "c-kms": "SSE-KMS/AES256", "d-customer": "SSE-C/AES256", "e-sm4": "SSE-KMS/SM4", url.QueryEscape(`f "quoted",key`): "NOT-SSE/"} {
		if statuses[k] != v {
			t.Errorf("%s: %q, want %q", k, statuses[k], v)
		}
	}
}

// TestInventoryCurrentOnlySkipsMarkers: a Current report lists current
// versions only; a key whose current version is a delete marker is gone.
func TestInventoryCurrentOnlySkipsMarkers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.svc.CreateBucket(ctx, f.p, "dst", "", "")
	f.svc.PutBucketVersioning(ctx, f.p, "bkt", meta.VersioningEnabled)
	for _, k := range []string{"x/1", "x/2", "y/1"} {
		f.put(t, k, []byte("v1"), nil)
		f.put(t, k, []byte("v2"), nil)
	}
	f.svc.DeleteObject(ctx, f.p, "bkt", "x/2")
	c := invConfig("cur", false, nil)
	c.Filter.Prefix = "x/"
	c.Fields = []string{inventory.FieldSize}
	if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", c); err != nil {
		t.Fatal(err)
	}
	key, err := f.svc.RunInventory(ctx, "bkt", "cur")
	if err != nil {
		t.Fatal(err)
	}
	_, rows := f.readReport(t, key)
	if len(rows) != 1 || strings.Join(rows[0], ",") != "bkt,x%2F1,2" {
		t.Fatalf("rows %q", rows)
	}
}

// TestInventoryReportEncryption: report files are encrypted with the
// inventory's own encryption when it has one, else with the destination
// bucket's default, else not at all (the COS encryption overview).
func TestInventoryReportEncryption(t *testing.T) {
	cases := []struct {
		name     string
		own      *inventory.Encryption
		def      *sse.Config
		wantMode string
		wantKey  string
	}{
		{"none", nil, nil, "", ""},
		{"destination default SSE-KMS", nil, &sse.Config{Mode: sse.KMS}, "kms", kms.DefaultKeyName},
		{"destination default SM4", nil, &sse.Config{Mode: sse.Managed, Algorithm: sse.SM4}, "managed", ""},
		{"own SSE-S3 over default SSE-KMS", &inventory.Encryption{}, &sse.Config{Mode: sse.KMS}, "managed", ""},
		{"own SSE-KMS", &inventory.Encryption{KMS: true, KeyID: kms.DefaultKeyName}, &sse.Config{Mode: sse.Managed}, "kms", kms.DefaultKeyName},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			f.svc.CreateBucket(ctx, f.p, "dst", "", "")
			if tc.def != nil {
				if err := f.svc.PutBucketEncryption(ctx, f.p, "dst", tc.def); err != nil {
					t.Fatal(err)
				}
			}
			f.put(t, "obj", []byte("x"), nil)
			if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", invConfig("e", false, tc.own)); err != nil {
				t.Fatal(err)
			}
			key, err := f.svc.RunInventory(ctx, "bkt", "e")
			if err != nil {
				t.Fatal(err)
			}
			m, _ := f.readReport(t, key)
			keys := []string{key, strings.TrimSuffix(key, ".json") + ".checksum"}
			for _, file := range m.Files {
				keys = append(keys, file.Key)
			}
			for _, k := range keys {
				o, err := f.meta.GetObject(ctx, "dst", k) // the raw meta record
				if err != nil {
					t.Fatal(err)
				}
				mode, keyID := "", ""
				if o.Encryption != nil {
					mode, keyID = o.Encryption.Mode, o.Encryption.KeyID
				}
				if mode != tc.wantMode || keyID != tc.wantKey {
					t.Errorf("%s: mode %q key %q, want %q %q", k, mode, keyID, tc.wantMode, tc.wantKey)
				}
				if tc.def != nil && tc.def.Algorithm == sse.SM4 && o.Encryption.Algorithm != sse.SM4 {
					t.Errorf("%s: algorithm %q, want SM4", k, o.Encryption.Algorithm)
				}
			}
		})
	}
}

// TestInventoryConfigErrors: the service's checks, with S3's codes.
func TestInventoryConfigErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.svc.CreateBucket(ctx, f.p, "dst", "", "")
	if _, err := f.svc.CreateBucket(ctx, Principal{User: "mallory"}, "theirs", "", ""); err != nil {
		t.Fatal(err)
	}
	c := invConfig("a", false, nil)
	c.Destination.Bucket = "missing"
	if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", c); !errors.Is(err, errs.InvalidArgument) {
		t.Errorf("missing destination: %v", err)
	}
	c.Destination.Bucket = "theirs" // alice may not write there
	if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", c); !errors.Is(err, errs.AccessDenied) {
		t.Errorf("foreign destination: %v", err)
	}
	c = invConfig("a", false, &inventory.Encryption{KMS: true, KeyID: "no-such-key"})
	if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", c); !errors.Is(err, errs.KMSNotFound) {
		t.Errorf("unknown KMS key: %v", err)
	}
	if _, err := f.svc.GetBucketInventory(ctx, f.p, "bkt", "nope"); !errors.Is(err, inventory.ErrNoSuchConfiguration) {
		t.Errorf("get unknown: %v", err)
	}
	if err := f.svc.DeleteBucketInventory(ctx, f.p, "bkt", "nope"); !errors.Is(err, inventory.ErrNoSuchConfiguration) {
		t.Errorf("delete unknown: %v", err)
	}
	if _, err := f.svc.GetBucketInventory(ctx, Principal{User: "mallory"}, "bkt", "a"); !errors.Is(err, errs.AccessDenied) {
		t.Errorf("foreign get: %v", err)
	}
	// Filled in one transaction (a PUT each would take half a minute).
	err := f.svc.updateInventory(ctx, "bkt", func(e *inventory.Entry) error {
		for i := range inventory.MaxConfigs {
			if err := e.Put(*invConfig(fmt.Sprintf("c%04d", i), false, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", invConfig("one-more", false, nil)); !errors.Is(err, inventory.ErrTooManyConfigurations) {
		t.Errorf("1001st: %v", err)
	}
	if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", invConfig("c0000", true, nil)); err != nil {
		t.Errorf("replacing at the limit: %v", err)
	}
}

func inventoryEngine(f *fixture, clk *fakeClock, rows int) *jobs.Engine {
	e := jobs.New(jobs.Options{Store: f.meta, Node: "t", Now: clk.Now})
	e.Register(jobs.Spec{Name: InventoryJob, Task: inventoryTask{f.svc, rows}, Every: time.Hour})
	return e
}

// TestInventorySchedule: the job delivers a Daily inventory once per day
// and a Weekly one once in seven, a disabled one never, in files of at
// most `rows` rows.
func TestInventorySchedule(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	f.svc.now = clk.Now
	f.svc.CreateBucket(ctx, f.p, "dst", "", "")
	for i := range 25 {
		f.put(t, fmt.Sprintf("k%02d", i), []byte("x"), nil)
	}
	daily, weekly, off := invConfig("daily", false, nil), invConfig("weekly", false, nil), invConfig("off", false, nil)
	weekly.Frequency, off.Enabled = inventory.Weekly, false
	for _, c := range []*inventory.Config{daily, weekly, off} {
		if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", c); err != nil {
			t.Fatal(err)
		}
	}
	e := inventoryEngine(f, clk, 10)
	manifests := func(id string) int { return len(f.manifests(t, "inv/bkt/"+id+"/")) }
	pass := func() {
		t.Helper()
		if _, err := e.RunPass(ctx, InventoryJob); err != nil {
			t.Fatal(err)
		}
	}
	pass()
	if manifests("daily") != 1 || manifests("weekly") != 1 || manifests("off") != 0 {
		t.Fatalf("first pass: %d %d %d", manifests("daily"), manifests("weekly"), manifests("off"))
	}
	j, _ := e.RunPass(ctx, InventoryJob) // same day: nothing due
	if j.Pass["reports"] != 0 || manifests("daily") != 1 {
		t.Fatalf("same day: %v", j.Pass)
	}
	clk.Add(24 * time.Hour)
	pass()
	if manifests("daily") != 2 || manifests("weekly") != 1 {
		t.Fatalf("next day: %d %d", manifests("daily"), manifests("weekly"))
	}
	clk.Add(6 * 24 * time.Hour)
	pass()
	if manifests("daily") != 3 || manifests("weekly") != 2 {
		t.Fatalf("a week on: %d %d", manifests("daily"), manifests("weekly"))
	}
	// 25 objects in files of at most 10 rows: 3 files.
	all := f.manifests(t, "inv/bkt/daily/")
	m, rows := f.readReport(t, all[len(all)-1])
	if len(m.Files) != 3 || len(rows) != 25 {
		t.Fatalf("%d files, %d rows", len(m.Files), len(rows))
	}
}

// TestInventoryResumes: a pass stopped after its first data file resumes
// from the job cursor after a restart and neither lists nor writes again
// what the first file holds.
func TestInventoryResumes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	f.svc.now = clk.Now
	f.svc.CreateBucket(ctx, f.p, "dst", "", "")
	for i := range 30 {
		f.put(t, fmt.Sprintf("k%02d", i), []byte("x"), nil)
	}
	if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", invConfig("r", false, nil)); err != nil {
		t.Fatal(err)
	}
	// A first engine dies (ctx cancelled) after two steps: the report
	// started and its first file written.
	steps := 0
	cctx, cancel := context.WithCancel(ctx)
	task := stepHook{inventoryTask{f.svc, 10}, func() {
		if steps++; steps == 2 {
			cancel()
		}
	}}
	e1 := jobs.New(jobs.Options{Store: f.meta, Node: "t", Now: clk.Now})
	e1.Register(jobs.Spec{Name: InventoryJob, Task: task, Every: time.Hour})
	if _, err := e1.RunPass(cctx, InventoryJob); !errors.Is(err, context.Canceled) {
		t.Fatalf("first engine: %v", err)
	}
	j, _ := f.meta.GetJob(ctx, InventoryJob)
	var cur inventoryCursor
	if err := json.Unmarshal(j.Cursor, &cur); err != nil || cur.Report == nil || len(cur.Report.Files) != 1 {
		t.Fatalf("cursor %s (%v)", j.Cursor, err)
	}
	j, err := inventoryEngine(f, clk, 10).RunPass(ctx, InventoryJob)
	if err != nil {
		t.Fatal(err)
	}
	if j.Pass["rows"] != 30 || j.Pass["reports"] != 1 {
		t.Fatalf("pass counts %v", j.Pass)
	}
	all := f.manifests(t, "inv/")
	m, rows := f.readReport(t, all[len(all)-1])
	if len(m.Files) != 3 || len(rows) != 30 {
		t.Fatalf("%d files, %d rows", len(m.Files), len(rows))
	}
	for i, r := range rows {
		if r[1] != fmt.Sprintf("k%02d", i) {
			t.Fatalf("row %d is %q", i, r[1])
		}
	}
}

type stepHook struct {
	jobs.Task
	after func()
}

func (h stepHook) Step(ctx context.Context, now time.Time, cursor []byte, counts jobs.Counts) (jobs.Step, error) {
	st, err := h.Task.Step(ctx, now, cursor, counts)
	h.after()
	return st, err
}

// countRows counts a report's rows by streaming its files.
func (f *fixture) countRows(t testing.TB, manifestKey string) int {
	raw, _ := f.readObject(t, "dst", manifestKey)
	var m inventory.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range m.Files {
		ob, err := f.svc.GetObject(context.Background(), f.p, GetObjectInput{Bucket: "dst", Key: file.Key})
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(ob.Body)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			n++
		}
		ob.Body.Close()
	}
	return n
}

// inventoryAtScale fills n objects and inventories them, sampling the heap
// while it runs; it returns the rate and the peak heap in use.
func inventoryAtScale(t testing.TB, n int) (perSecond float64, peak uint64) {
	f := newFixture(t)
	ctx := context.Background()
	f.svc.CreateBucket(ctx, f.p, "dst", "", "")
	filled := time.Now()
	fill(t, f, n)
	t.Logf("filled %d object records in %s", n, time.Since(filled).Round(time.Second))
	if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", invConfig("scale", false, &inventory.Encryption{})); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	done := make(chan struct{})
	peaks := make(chan uint64)
	go func() {
		var top uint64
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapInuse)
			select {
			case <-done:
				peaks <- top
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	key, err := f.svc.RunInventory(ctx, "bkt", "scale")
	d := time.Since(start)
	close(done)
	peak = <-peaks
	if err != nil {
		t.Fatal(err)
	}
	if got := f.countRows(t, key); got != n {
		t.Fatalf("report has %d rows, bucket %d objects", got, n)
	}
	return float64(n) / d.Seconds(), peak
}

// TestInventoryBoundedMemory: 20,000 objects are inventoried exactly with
// the heap in use staying far below what holding the listing would take.
func TestInventoryBoundedMemory(t *testing.T) {
	rate, peak := inventoryAtScale(t, 20_000)
	t.Logf("%.0f objects/s, peak heap in use %d MiB", rate, peak>>20)
	if peak > 64<<20 {
		t.Fatalf("peak heap in use %d MiB", peak>>20)
	}
}

// TestInventoryMillion is the 1M-object scale run (opt-in: it fills a
// million records first): STRONGROOM_INVENTORY_SCALE=1.
func TestInventoryMillion(t *testing.T) {
	if os.Getenv("STRONGROOM_INVENTORY_SCALE") == "" {
		t.Skip("set STRONGROOM_INVENTORY_SCALE=1 to inventory 1,000,000 objects")
	}
	rate, peak := inventoryAtScale(t, 1_000_000)
	t.Logf("1,000,000 objects: %.0f objects/s, peak heap in use %d MiB", rate, peak>>20)
	if peak > 64<<20 {
		t.Fatalf("peak heap in use %d MiB", peak>>20)
	}
}

// parquetRow is a Parquet report row as parquet-go reads it back.
type parquetRow struct {
	Bucket              string     `parquet:"bucket"`
	Key                 string     `parquet:"key"`
	VersionID           *string    `parquet:"version_id,optional"`
	IsLatest            *bool      `parquet:"is_latest,optional"`
	IsDeleteMarker      *bool      `parquet:"is_delete_marker,optional"`
	Size                *int64     `parquet:"size,optional"`
	ETag                *string    `parquet:"e_tag,optional"`
	IsMultipartUploaded *bool      `parquet:"is_multipart_uploaded,optional"`
	EncryptionStatus    *string    `parquet:"encryption_status,optional"`
	EncryptionAlgorithm *string    `parquet:"encryption_algorithm,optional"`
	BucketKeyStatus     *string    `parquet:"bucket_key_status,optional"`
	LastModifiedDate    *time.Time `parquet:"last_modified_date,optional,timestamp(millisecond)"`
	LegalHold           *string    `parquet:"object_lock_legal_hold_status,optional"`
}

// TestInventoryParquet: a Parquet report reads back with parquet-go, row
// by row equal to the bucket's versions (keys not URL-encoded, as S3's
// Parquet reports have them), in files of at most `rows` rows.
func TestInventoryParquet(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.svc.CreateBucket(ctx, f.p, "dst", "", "")
	f.svc.PutBucketVersioning(ctx, f.p, "bkt", meta.VersioningEnabled)
	for i := range 7 {
		var spec *sse.Spec
		if i%2 == 1 {
			spec = &sse.Spec{Mode: sse.KMS, Algorithm: sse.SM4}
		}
		f.put(t, fmt.Sprintf("dir/key %d", i%5), []byte(strings.Repeat("x", i)), spec)
	}
	f.svc.DeleteObject(ctx, f.p, "bkt", "dir/key 4")
	c := invConfig("pq", true, nil)
	c.Destination.Format = inventory.Parquet
	if err := f.svc.PutBucketInventory(ctx, f.p, "bkt", c); err != nil {
		t.Fatal(err)
	}
	r := &inventory.Report{Source: "bkt", Config: c, Start: time.Now()}
	rep := newReport("pq", time.Now())
	for {
		_, done, err := f.svc.inventoryStep(ctx, mustBucket(t, f, "bkt"), c, rep, 3)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
	}
	r.Start = rep.Start
	raw, _ := f.readObject(t, "dst", r.ManifestKey())
	var m inventory.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.FileFormat != "Parquet" || !strings.HasPrefix(m.FileSchema, "message s3.inventory {") || !strings.HasSuffix(m.Files[0].Key, ".parquet") {
		t.Fatalf("manifest %s", raw)
	}
	var got []parquetRow
	for _, file := range m.Files {
		data, _ := f.readObject(t, "dst", file.Key)
		rows, err := parquet.Read[parquetRow](bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 3+1 { // a file ends at a key boundary
			t.Fatalf("%s: %d rows", file.Key, len(rows))
		}
		got = append(got, rows...)
	}
	i := 0
	err := f.meta.ListObjectVersions(ctx, "bkt", "", "", "", func(o *meta.Object, latest bool) error {
		if i >= len(got) {
			return fmt.Errorf("%d rows, more versions", len(got))
		}
		g := got[i]
		i++
		if g.Bucket != "bkt" || g.Key != o.Key || deref(g.VersionID) != o.VersionID || *g.IsLatest != latest || *g.IsDeleteMarker != o.DeleteMarker {
			return fmt.Errorf("row %+v, version %s %s", g, o.Key, o.VersionID)
		}
		if o.DeleteMarker {
			if g.Size != nil || g.EncryptionStatus != nil {
				return fmt.Errorf("marker row %+v", g)
			}
			return nil
		}
		status, alg := "NOT-SSE", ""
		if o.Encryption != nil {
			status, alg = "SSE-KMS", "SM4"
		}
		if *g.Size != o.Size || deref(g.ETag) != o.ETag || deref(g.EncryptionStatus) != status || deref(g.EncryptionAlgorithm) != alg ||
			!g.LastModifiedDate.Equal(o.LastModified.Truncate(time.Millisecond)) || *g.IsMultipartUploaded || deref(g.LegalHold) != "OFF" {
			return fmt.Errorf("row %+v, version %+v", g, o)
		}
		return nil
	})
	if err != nil || i != len(got) {
		t.Fatalf("%v (%d of %d rows matched)", err, i, len(got))
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func mustBucket(t *testing.T, f *fixture, name string) *meta.Bucket {
	b, err := f.meta.GetBucket(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
