// Package e2emonitor proves the operator's view of a node end to end:
// the Prometheus scrape (parsed by the client library's own parser), the
// readiness probe, the access log and the audit log, driven by
// aws-sdk-go-v2 against a real node over HTTPS. The package holds tests
// only.
package e2emonitor

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/httpapi"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func TestMain(m *testing.M) { e2eutil.Main(m) }

const (
	region = "us-east-1"
	token  = "scrape-token-3f1e"
)

// env is one HTTPS node with a metrics token, an access log and an audit
// log in files, and its main log in a buffer.
type env struct {
	t         *testing.T
	node      *testnode.Node
	logs      *e2eutil.LogBuffer
	accessLog string
	auditLog  string
	c         *s3.Client
	ctx       context.Context
	secrets   []string // secrets the test used: none may reach a log
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	logs := &e2eutil.LogBuffer{}
	e := &env{t: t, logs: logs, ctx: context.Background(),
		accessLog: filepath.Join(dir, "access.log"), auditLog: filepath.Join(dir, "audit.log")}
	e.node = testnode.Start(t, testnode.Options{TLS: true, MetricsToken: token, AccessLog: e.accessLog, AuditLog: e.auditLog,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	e.c = e.client(e.node.AccessKey, e.node.SecretKey)
	return e
}

func (e *env) client(ak, sk string) *s3.Client {
	return s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.node.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(ak, sk, ""),
		HTTPClient:   e.node.Client,
		Retryer:      aws.NopRetryer{},
	})
}

// get fetches a path of the node with an optional bearer token.
func (e *env) get(path, bearer string) (int, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.node.URL+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.node.Client.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// scrape reads /metrics with the token and parses it with the
// Prometheus client library's text parser.
func (e *env) scrape() map[string]*dto.MetricFamily {
	e.t.Helper()
	status, body := e.get("/metrics", token)
	if status != http.StatusOK {
		e.t.Fatalf("scrape: %d %s", status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		e.t.Fatalf("parsing the scrape: %v", err)
	}
	return fams
}

// value sums the samples of family name whose labels include want: a
// counter's or gauge's value, a histogram's sample count.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	sum := 0.0
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// lines reads a JSON-lines file.
func lines(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%s: not JSON: %q: %v", path, l, err)
		}
		out = append(out, m)
	}
	return out
}

// find returns the records whose fields include want.
func find(recs []map[string]any, want map[string]any) []map[string]any {
	var out []map[string]any
next:
	for _, r := range recs {
		for k, v := range want {
			if fmt.Sprint(r[k]) != fmt.Sprint(v) {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

// errRequestID is the request id of a failed SDK call.
func errRequestID(err error) string {
	var re interface{ ServiceRequestID() string }
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// obj is one object the test stores, with the encryption it asks for.
type obj struct {
	key  string
	size int
	mode string // "none", "SSE-S3", "SSE-KMS", "SSE-C"
}

func (e *env) put(bucket string, o obj, ssecKey []byte) string {
	e.t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key), Body: bytes.NewReader(make([]byte, o.size))}
	switch o.mode {
	case "SSE-S3":
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
	case "SSE-KMS":
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
	case "SSE-C":
		sum := md5.Sum(ssecKey)
		in.SSECustomerAlgorithm = aws.String("AES256")
		in.SSECustomerKey = aws.String(base64.StdEncoding.EncodeToString(ssecKey))
		in.SSECustomerKeyMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
	}
	out, err := e.c.PutObject(e.ctx, in)
	if err != nil {
		e.t.Fatalf("put %s (%s): %v", o.key, o.mode, err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	return id
}

// TestScrapeCountsRequestsAndEncryptionCoverage uploads N plain, M SSE-S3,
// K SSE-KMS and L SSE-C objects, deletes and overwrites some, and checks
// the scrape: request counters and histograms per operation, and the
// encryption coverage gauges exactly.
func TestScrapeCountsRequestsAndEncryptionCoverage(t *testing.T) {
	e := newEnv(t)
	ssecKey := make([]byte, 32)
	rand.Read(ssecKey)
	if _, err := e.c.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: aws.String("cov")}); err != nil {
		t.Fatal(err)
	}
	objs := []obj{
		{"p1", 100, "none"}, {"p2", 200, "none"}, {"p3", 300, "none"},
		{"s1", 1000, "SSE-S3"}, {"s2", 2000, "SSE-S3"},
		{"k1", 10000, "SSE-KMS"}, {"k2", 20000, "SSE-KMS"}, {"k3", 30000, "SSE-KMS"},
		{"c1", 5, "SSE-C"}, {"c2", 7, "SSE-C"},
	}
	current := map[string]obj{}
	for _, o := range objs {
		e.put("cov", o, ssecKey)
		current[o.key] = o
	}
	// Delete some, overwrite some (with another mode and size).
	for _, k := range []string{"p1", "c2", "k3"} {
		if _, err := e.c.DeleteObject(e.ctx, &s3.DeleteObjectInput{Bucket: aws.String("cov"), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
		delete(current, k)
	}
	for _, o := range []obj{{"s1", 1500, "SSE-KMS"}, {"p2", 250, "none"}, {"k1", 3, "SSE-C"}} {
		e.put("cov", o, ssecKey)
		current[o.key] = o
	}
	puts := len(objs) + 3

	fams := e.scrape()
	for _, mode := range []string{"none", "SSE-S3", "SSE-KMS", "SSE-C"} {
		var n, size int
		for _, o := range current {
			if o.mode == mode {
				n++
				size += o.size
			}
		}
		if got := value(fams, "strongroom_objects", map[string]string{"mode": mode}); got != float64(n) {
			t.Errorf("strongroom_objects{mode=%q} = %v, want %d", mode, got, n)
		}
		if got := value(fams, "strongroom_object_bytes", map[string]string{"mode": mode}); got != float64(size) {
			t.Errorf("strongroom_object_bytes{mode=%q} = %v, want %d", mode, got, size)
		}
	}
	if got := value(fams, "strongroom_objects", map[string]string{"mode": "SSE-KMS", "algorithm": "AES256"}); got != 2 {
		t.Errorf("strongroom_objects{SSE-KMS, AES256} = %v, want 2", got)
	}

	s3Put := map[string]string{"dialect": "s3", "operation": "PutObject"}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"strongroom_requests_total", map[string]string{"dialect": "s3", "operation": "PutObject", "code": "200"}, float64(puts)},
		{"strongroom_requests_total", map[string]string{"dialect": "s3", "operation": "DeleteObject", "code": "204"}, 3},
		{"strongroom_requests_total", map[string]string{"dialect": "s3", "operation": "CreateBucket", "code": "200"}, 1},
		{"strongroom_request_duration_seconds", s3Put, float64(puts)},
		{"strongroom_request_duration_seconds", map[string]string{"dialect": "s3", "operation": "DeleteObject"}, 3},
	} {
		if got := value(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	var sent int
	for _, o := range objs {
		sent += o.size
	}
	sent += 1500 + 250 + 3
	if got := value(fams, "strongroom_received_bytes_total", s3Put); got < float64(sent) {
		t.Errorf("received bytes of PutObject = %v, want at least the %d payload bytes", got, sent)
	}
	// Managed and KMS objects each cost a data key (no bucket key here).
	if got := value(fams, "strongroom_kms_calls_total", map[string]string{"provider": "builtin", "operation": kms.OpGenerateDataKey}); got < 6 {
		t.Errorf("kms GenerateDataKey calls = %v, want at least 6", got)
	}
	if got := value(fams, "strongroom_kms_call_duration_seconds", map[string]string{"provider": "builtin", "operation": kms.OpGenerateDataKey}); got < 6 {
		t.Errorf("kms GenerateDataKey latency samples = %v, want at least 6", got)
	}
	if fams["strongroom_job_passes_total"] == nil || fams["strongroom_integrity_failures_total"] == nil {
		t.Errorf("job and integrity metrics missing from the scrape")
	}
	for name := range fams {
		if !strings.HasPrefix(name, "strongroom_") {
			t.Errorf("metric %s lacks the strongroom_ prefix", name)
		}
	}
}

func TestMetricsToken(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name, bearer string
		want         int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"wrong token", "scrape-token-3f1f", http.StatusUnauthorized},
		{"prefix of the token", token[:5], http.StatusUnauthorized},
		{"token", token, http.StatusOK},
	} {
		if status, body := e.get("/metrics", c.bearer); status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.want)
		}
	}
	// A signed request for a bucket named "metrics" is still the bucket.
	if _, err := e.c.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: aws.String("metrics")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.ListObjects(e.ctx, &s3.ListObjectsInput{Bucket: aws.String("metrics")}); err != nil {
		t.Errorf("listing bucket metrics: %v", err)
	}
}

func TestReady(t *testing.T) {
	e := newEnv(t)
	ready := func() (int, string) {
		status, body := e.get(httpapi.ReadyPath, "")
		return status, string(body)
	}
	if status, body := ready(); status != http.StatusOK {
		t.Fatalf("ready: %d %s", status, body)
	}
	if _, err := e.node.Keyring.DisableKey(e.ctx, kms.DefaultKeyName); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // past the probe's cache
	if status, body := ready(); status != http.StatusServiceUnavailable || !strings.Contains(body, "default KMS key is disabled") {
		t.Errorf("ready with the default key disabled: %d %s, want 503 naming the key", status, body)
	}
	if _, err := e.node.Keyring.EnableKey(e.ctx, kms.DefaultKeyName); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if status, body := ready(); status != http.StatusOK {
		t.Errorf("ready after enabling the key again: %d %s", status, body)
	}
	e.node.Keyring.Close() // the key provider is gone
	time.Sleep(1100 * time.Millisecond)
	if status, body := ready(); status != http.StatusServiceUnavailable || !strings.Contains(body, "key provider not answering") {
		t.Errorf("ready with the keyring closed: %d %s, want 503", status, body)
	}
	if status, _ := e.get("/_strongroom/health", ""); status != http.StatusOK {
		t.Errorf("health: %d, want 200 (alive, if not ready)", status)
	}
}

// adminCall signs a call to the admin API with the root credentials, as
// the CLI does.
func (e *env) adminCall(method, path string, q url.Values) {
	e.t.Helper()
	u := e.node.URL + server.AdminPrefix + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest(method, u, nil)
	empty := sha256.Sum256(nil)
	auth.SignV4(req, e.node.AccessKey, e.node.SecretKey, region, time.Now(), hex.EncodeToString(empty[:]))
	resp, err := e.node.Client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("admin %s %s: %d %s", method, path, resp.StatusCode, body)
	}
	e.secrets = append(e.secrets, secretsIn(body)...)
}

// secretsIn picks secret keys out of an admin answer (user create, key
// rotation), so the test can look for them in the logs.
func secretsIn(body []byte) []string {
	var c struct{ SecretKey string }
	if json.Unmarshal(body, &c) == nil && c.SecretKey != "" {
		return []string{c.SecretKey}
	}
	return nil
}

// TestLogs drives denials, failed signatures, configuration changes and
// admin actions, then checks the access log, the audit log and the main
// log line by line, and that no secret reached any of them.
func TestLogs(t *testing.T) {
	e := newEnv(t)
	ssecKey := make([]byte, 32)
	rand.Read(ssecKey)
	e.secrets = append(e.secrets, e.node.SecretKey, string(ssecKey),
		base64.StdEncoding.EncodeToString(ssecKey), hex.EncodeToString(ssecKey))

	// Admin actions through the admin API (as the CLI does on a running node).
	e.adminCall(http.MethodPost, "users/create", url.Values{"name": {"alice"}})
	alice, err := e.node.IAM.GetUser(e.ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	aliceKey := alice.Keys[0].AccessKey
	e.adminCall(http.MethodPost, "users/policy-set", url.Values{"name": {"alice"}, "arg": {"readonly"}})
	e.adminCall(http.MethodPost, "users/create", url.Values{"name": {"bob"}})
	e.adminCall(http.MethodPost, "users/disable", url.Values{"name": {"bob"}})
	for _, op := range []string{"create", "rotate", "disable", "enable"} {
		e.adminCall(http.MethodPost, "keys/"+op, url.Values{"name": {"app-key"}})
	}
	aliceSecret := e.secrets[len(e.secrets)-2] // alice's, before bob's

	// A PUT whose access log line we check against the client's request id.
	if _, err := e.c.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: aws.String("logs")}); err != nil {
		t.Fatal(err)
	}
	putID := e.put("logs", obj{"dir/doc.txt", 4321, "SSE-C"}, ssecKey)

	// Bucket configuration changes.
	b := aws.String("logs")
	steps := []struct {
		op string
		do func() error
	}{
		{"PutBucketEncryption", func() error {
			_, err := e.c.PutBucketEncryption(e.ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
				Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms}}}}})
			return err
		}},
		{"PutBucketPolicy", func() error {
			_, err := e.c.PutBucketPolicy(e.ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::logs/locked/*"}]}`)})
			return err
		}},
		{"PutBucketAcl", func() error {
			_, err := e.c.PutBucketAcl(e.ctx, &s3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPrivate})
			return err
		}},
		{"PutBucketVersioning", func() error {
			_, err := e.c.PutBucketVersioning(e.ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			return err
		}},
		{"PutBucketCors", func() error {
			_, err := e.c.PutBucketCors(e.ctx, &s3.PutBucketCorsInput{Bucket: b, CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*"}}}}})
			return err
		}},
		{"PutBucketLifecycle", func() error {
			_, err := e.c.PutBucketLifecycleConfiguration(e.ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b, LifecycleConfiguration: &types.BucketLifecycleConfiguration{
				Rules: []types.LifecycleRule{{ID: aws.String("r"), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")}, Expiration: &types.LifecycleExpiration{Days: aws.Int32(1)}}}}})
			return err
		}},
		{"DeleteBucketCors", func() error {
			_, err := e.c.DeleteBucketCors(e.ctx, &s3.DeleteBucketCorsInput{Bucket: b})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.op, err)
		}
	}

	// A denial: alice (readonly) may not write into root's bucket.
	ac := e.client(aliceKey, aliceSecret)
	_, err = ac.PutObject(e.ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("x"), Body: strings.NewReader("x")})
	deniedID := errRequestID(err)
	if errCode(err) != "AccessDenied" || deniedID == "" {
		t.Fatalf("alice's PUT: %v (request id %q), want AccessDenied", err, deniedID)
	}
	// A failed signature: alice's key with a wrong secret.
	_, err = e.client(aliceKey, "wrong-secret-wrong-secret").ListObjectsV2(e.ctx, &s3.ListObjectsV2Input{Bucket: b})
	badSigID := errRequestID(err)
	if errCode(err) != "SignatureDoesNotMatch" {
		t.Fatalf("bad signature: %v, want SignatureDoesNotMatch", err)
	}
	// An SSE-C read with the wrong key: refused by the encryption, not by
	// a policy, and audited all the same.
	other := bytes.Repeat([]byte{7}, 32)
	sum := md5.Sum(other)
	_, err = e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("dir/doc.txt"), SSECustomerAlgorithm: aws.String("AES256"),
		SSECustomerKey: aws.String(base64.StdEncoding.EncodeToString(other)), SSECustomerKeyMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:]))})
	wrongKeyID := errRequestID(err)
	if errCode(err) != "AccessDenied" {
		t.Fatalf("SSE-C GET with another key: %v, want AccessDenied", err)
	}

	// --- the access log
	access := lines(t, e.accessLog)
	if got := find(access, map[string]any{"id": putID}); len(got) != 1 {
		t.Fatalf("access log lines with the PUT's request id %s: %v", putID, got)
	} else {
		l := got[0]
		for k, v := range map[string]any{"msg": "access", "level": "INFO", "dialect": "s3", "principal": "root", "access_key": e.node.AccessKey,
			"op": "PutObject", "method": "PUT", "bucket": "logs", "key": "dir/doc.txt", "status": 200, "in": 4321, "out": 0} {
			if fmt.Sprint(l[k]) != fmt.Sprint(v) {
				t.Errorf("access log %s = %v, want %v (line %v)", k, l[k], v, l)
			}
		}
		if ms, ok := l["ms"].(float64); !ok || ms <= 0 {
			t.Errorf("access log duration ms = %v", l["ms"])
		}
	}
	if got := find(access, map[string]any{"id": deniedID, "status": 403, "code": "AccessDenied", "principal": "alice", "op": "PutObject"}); len(got) != 1 {
		t.Errorf("access log line of the denial: %v", find(access, map[string]any{"id": deniedID}))
	}
	if got := find(access, map[string]any{"id": badSigID, "status": 403, "code": "SignatureDoesNotMatch", "access_key": aliceKey, "principal": ""}); len(got) != 1 {
		t.Errorf("access log line of the failed signature: %v", find(access, map[string]any{"id": badSigID}))
	}

	// --- the audit log
	recs := lines(t, e.auditLog)
	expect := func(what string, want map[string]any) {
		t.Helper()
		if got := find(recs, want); len(got) == 0 {
			t.Errorf("audit: no %s record matching %v", what, want)
		}
	}
	for _, op := range []string{"create", "rotate", "disable", "enable"} {
		expect("key "+op, map[string]any{"type": "key", "action": op, "target": "app-key", "outcome": "ok", "principal": "root"})
	}
	expect("user create", map[string]any{"type": "user", "action": "create", "target": "alice", "outcome": "ok"})
	expect("user policy", map[string]any{"type": "user", "action": "policy-set", "target": "alice", "outcome": "ok"})
	expect("user disable", map[string]any{"type": "user", "action": "disable", "target": "bob", "outcome": "ok"})
	expect("bucket create", map[string]any{"type": "bucket-config", "action": "CreateBucket", "bucket": "logs", "principal": "root"})
	for _, s := range steps {
		expect(s.op, map[string]any{"type": "bucket-config", "action": s.op, "bucket": "logs", "principal": "root", "outcome": "ok"})
	}
	expect("policy denial", map[string]any{"type": "access-denied", "request_id": deniedID, "principal": "alice", "action": "s3:PutObject",
		"resource": "arn:aws:s3:::logs/x", "outcome": "denied"})
	expect("failed signature", map[string]any{"type": "auth-failure", "request_id": badSigID, "access_key": aliceKey, "reason": "SignatureDoesNotMatch"})
	expect("SSE-C key mismatch", map[string]any{"type": "access-denied", "request_id": wrongKeyID, "action": "GetObject", "bucket": "logs"})
	if n := len(find(recs, map[string]any{"request_id": deniedID})); n != 1 {
		t.Errorf("the denial is audited %d times, want once", n)
	}

	// --- the main log: every "access denied" line names its request; the
	// failed signature names the access key tried.
	main := e.logs.String()
	for _, l := range strings.Split(main, "\n") {
		if strings.Contains(l, `msg="access denied"`) && !strings.Contains(l, " id=") {
			t.Errorf("access denied line without request id: %s", l)
		}
	}
	if !strings.Contains(main, "id="+deniedID) {
		t.Errorf("no log line names the denied request %s:\n%s", deniedID, main)
	}
	if !strings.Contains(main, `msg="authentication failed" id=`+badSigID) || !strings.Contains(main, "access_key="+aliceKey) {
		t.Errorf("no INFO line for the failed signature with the access key tried:\n%s", main)
	}

	// --- no secret anywhere
	for _, f := range []string{e.accessLog, e.auditLog} {
		data, _ := os.ReadFile(f)
		for _, s := range e.secrets {
			if s != "" && bytes.Contains(data, []byte(s)) {
				t.Errorf("%s holds a secret (%d bytes)", filepath.Base(f), len(s))
			}
		}
	}
	for _, s := range e.secrets {
		if s != "" && strings.Contains(main, s) {
			t.Errorf("the main log holds a secret (%d bytes)", len(s))
		}
	}
}

// TestClientDisconnectIsNotAnError: a client that leaves in the middle of
// a download is no fault of the node: logged at INFO, not ERROR.
func TestClientDisconnectIsNotAnError(t *testing.T) {
	e := newEnv(t)
	if _, err := e.c.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	e.put("gone", obj{"big", 32 << 20, "none"}, nil)
	req, _ := http.NewRequest(http.MethodGet, e.node.URL+"/gone/big", nil)
	auth.SignV4(req, e.node.AccessKey, e.node.SecretKey, region, time.Now(), "")
	conn, err := tls.Dial("tcp", e.node.Addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	io.ReadFull(conn, make([]byte, 64<<10)) // the head and a little of the body
	conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(e.logs.String(), "object read failed") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "object read failed (client went away)") {
		t.Fatalf("no INFO line for the broken download:\n%s", logs)
	}
	if strings.Contains(logs, "level=ERROR") {
		t.Errorf("a client leaving was logged as an ERROR:\n%s", logs)
	}
}
