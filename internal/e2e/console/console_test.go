// Package e2econsole drives the operator console in a real browser:
// headless Chromium (Debian's chromium package, see scripts/test.sh) under
// chromedp, against a node over HTTPS whose data the test put there
// through the S3 API with aws-sdk-go-v2. The package holds tests only.
package e2econsole

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/chromedp/chromedp"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func TestMain(m *testing.M) { e2eutil.Main(m) }

// A hung browser fails the test within a minute: starting Chromium may
// take startTimeout, and each step (a page load, a form, a screenshot)
// stepTimeout. Both are generous because the suite runs on busy machines.
const (
	startTimeout = 45 * time.Second
	stepTimeout  = 30 * time.Second
)

// chromium finds Debian's Chromium. Missing, the test fails: the suite
// installs it (scripts/test.sh), and a skipped browser test proves
// nothing.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed (apt-get install chromium; scripts/test.sh does)")
	return ""
}

// startBrowser starts headless Chromium, killed when the test ends.
func startBrowser(t *testing.T) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.IgnoreCertErrors, // the test node's throw-away certificate
		chromedp.WindowSize(1440, 1000),
		chromedp.UserDataDir(t.TempDir()),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The first Do binds the browser's life to its context, so it gets
	// bctx itself and the start is timed apart.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting chromium: %v", err)
		}
	case <-time.After(startTimeout):
		t.Fatalf("chromium did not start within %v", startTimeout)
	}
	return bctx
}

// page is the browser on the console, saving a screenshot of each step.
type page struct {
	t     *testing.T
	ctx   context.Context
	base  string
	dir   string
	start time.Time
}

// run runs one action within stepTimeout.
func run[T any](p *page, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// must runs one action that has to succeed.
func must[T any](p *page, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	v, err := run(p, a)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if _, err := run(p, chromedp.Steps(steps...)); err != nil {
		p.shot("failed-" + what)
		p.t.Fatalf("%s: %v", what, err)
	}
}

// text is the rendered text of the page's main element.
func (p *page) text() string {
	p.t.Helper()
	return must(p, "reading the page", chromedp.Text(chromedp.CSS("main")))
}

// open loads a console path, waits for sel and saves a screenshot.
func (p *page) open(path, sel, name string) string {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(p.base+path), chromedp.WaitVisible(chromedp.CSS(sel)))
	p.shot(name)
	return p.text()
}

func (p *page) shot(name string) {
	p.t.Helper()
	png, err := run(p, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(p.dir, name+".png")
	if err := os.WriteFile(path, png, 0o600); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("%5.1fs screenshot %s", time.Since(p.start).Seconds(), path)
	// STRONGROOM_CONSOLE_SCREENSHOTS keeps copies for a person to look at.
	if keep := os.Getenv("STRONGROOM_CONSOLE_SCREENSHOTS"); keep != "" {
		if err := os.WriteFile(filepath.Join(keep, name+".png"), png, 0o644); err != nil {
			p.t.Errorf("keeping screenshot: %v", err)
		}
	}
}

func contains(t *testing.T, where, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", where, w, text)
		}
	}
}

func TestConsoleInBrowser(t *testing.T) {
	ctx := context.Background()
	n := testnode.Start(t, testnode.Options{TLS: true, Console: true})
	client := func(ak, sk string) *s3.Client {
		return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.URL), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""), HTTPClient: n.Client, Retryer: aws.NopRetryer{}})
	}
	c := client(n.AccessKey, n.SecretKey)
	ok := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.Keys.CreateKey(ctx, "ledger"); err != nil {
		t.Fatal(err)
	}
	// reports: 3 SSE-S3 objects, 1 SSE-KMS under ledger, 2 plaintext; a
	// public-read policy. archive: empty, no default encryption.
	for _, b := range []string{"reports", "archive"} {
		ok(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}))
	}
	put := func(key, body string, sse types.ServerSideEncryption, kmsKey string) {
		in := &s3.PutObjectInput{Bucket: aws.String("reports"), Key: aws.String(key), Body: strings.NewReader(body)}
		if sse != "" {
			in.ServerSideEncryption = sse
		}
		if kmsKey != "" {
			in.SSEKMSKeyId = aws.String(kmsKey)
		}
		ok(c.PutObject(ctx, in))
	}
	put("q1.csv", strings.Repeat("a", 1000), types.ServerSideEncryptionAes256, "")
	put("q2.csv", strings.Repeat("b", 2000), types.ServerSideEncryptionAes256, "")
	put("q3.csv", strings.Repeat("c", 3000), types.ServerSideEncryptionAes256, "")
	put("ledger.db", strings.Repeat("d", 4096), types.ServerSideEncryptionAwsKms, "ledger")
	put("readme.txt", "hello", "", "")
	put("notes.txt", "plain notes", "", "")
	ok(c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("reports"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}`)}))
	// A user with the readonly policy, refused a write: a denial to show.
	alice, err := n.IAM.CreateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.IAM.SetPolicies(ctx, "alice", []string{"readonly"}); err != nil {
		t.Fatal(err)
	}
	_, err = client(alice.AccessKey, alice.SecretKey).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("reports"), Key: aws.String("x"), Body: strings.NewReader("x")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("alice's write: %v, want AccessDenied", err)
	}

	start := time.Now()
	p := &page{t: t, ctx: startBrowser(t), base: n.ConsoleURL, dir: t.TempDir(), start: start}
	t.Logf("chromium started in %.1fs", time.Since(start).Seconds())

	// Any page sends a browser without a session to the login form.
	p.open("/buckets", "#access_key", "01-login")
	p.do("sign in",
		chromedp.SendKeys(chromedp.ID("access_key"), n.AccessKey),
		chromedp.SendKeys(chromedp.ID("secret_key"), n.SecretKey),
		chromedp.Click(chromedp.CSS(`section.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("table.buckets")),
	)
	p.shot("02-buckets")
	text := p.text()
	contains(t, "buckets page", text, "Encryption coverage of the store", "reports", "archive", "1 statement (1 allow, 0 deny)", "public")
	row := must(p, "reading "+`table.buckets tbody tr:first-child`, chromedp.Text(chromedp.CSS(`table.buckets tbody tr:first-child`)))
	// Buckets are listed by name: archive first, empty and unencrypted.
	contains(t, "archive's row", row, "archive", "None", "empty")
	row = must(p, "reading "+`table.buckets tbody tr:nth-child(2)`, chromedp.Text(chromedp.CSS(`table.buckets tbody tr:nth-child(2)`)))
	// SSE-S3, SSE-KMS, SSE-C, plaintext columns; 4 of 6 encrypted.
	contains(t, "reports' row", row, "reports", "3\n5.9 KiB", "1\n4.0 KiB", "2\n16 B", "66 %")
	cov := must(p, "reading "+`table.coverage`, chromedp.Text(chromedp.CSS(`table.coverage`)))
	contains(t, "store coverage", cov, "SSE-S3\tAES256\t3\t5.9 KiB", "SSE-KMS\tAES256\t1\t4.0 KiB", "Plaintext\t—\t2\t16 B", "Total\t\t6\t")

	text = p.open("/keys", "table.keys", "03-keys")
	contains(t, "keys page", text, "ledger", "Enabled", "default")
	// The default key protects the 3 SSE-S3 objects, ledger the one
	// SSE-KMS object (the last column).
	rows := must(p, "reading "+`table.keys tbody`, chromedp.Text(chromedp.CSS(`table.keys tbody`)))
	protects := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(rows), "\n") {
		cells := strings.Split(line, "\t")
		protects[strings.Fields(cells[0])[0]] = strings.TrimSpace(cells[len(cells)-1])
	}
	if protects["ledger"] != "1" || protects["strongroom-default"] != "3" {
		t.Errorf("objects protected per key %v: want ledger 1, strongroom-default 3", protects)
	}

	text = p.open("/users", "table.users", "04-users")
	contains(t, "users page", text, "root", n.AccessKey, "alice", alice.AccessKey, "readonly", "Active")

	text = p.open("/denials", "table.denials", "05-denials")
	contains(t, "denials page", text, "alice", "s3:PutObject", "arn:aws:s3:::reports/x")

	text = p.open("/jobs", "table.jobs", "06-jobs")
	contains(t, "jobs page", text, "lifecycle", "inventory", "replication")

	// The one write: SSE-KMS with ledger and a bucket key, on archive.
	p.open("/buckets/archive", "form.encryption", "07-bucket")
	p.do("set default encryption",
		chromedp.Click(chromedp.CSS(`input[name=mode][value=kms]`)),
		chromedp.SetValue(chromedp.ID("key"), "ledger"),
		chromedp.Click(chromedp.CSS(`input[name=bucket_key]`)),
		chromedp.Click(chromedp.CSS(`form.encryption button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".alert.notice")),
	)
	p.shot("08-bucket-saved")
	contains(t, "bucket page after saving", p.text(), "Default encryption saved", "SSE-KMS ledger")
	enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("archive")})
	if err != nil {
		t.Fatal(err)
	}
	rules := enc.ServerSideEncryptionConfiguration.Rules
	if len(rules) != 1 || rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAwsKms ||
		aws.ToString(rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != "ledger" || !aws.ToBool(rules[0].BucketKeyEnabled) {
		t.Fatalf("archive's encryption through the S3 API: %+v", rules)
	}
	// And a new object in archive is encrypted so.
	ok(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("archive"), Key: aws.String("new"), Body: strings.NewReader("new")}))
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("archive"), Key: aws.String("new")})
	if err != nil || head.ServerSideEncryption != types.ServerSideEncryptionAwsKms {
		t.Fatalf("new object in archive: %v %v, want aws:kms", head.ServerSideEncryption, err)
	}

	// Sign out: back on the login form, and the pages are closed.
	p.do("sign out", chromedp.Click(chromedp.CSS(`form.logout button`)), chromedp.WaitVisible(chromedp.ID("access_key")))
	p.open("/keys", "#access_key", "09-signed-out")
}
