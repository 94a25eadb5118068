// Package sharedkeys tests the builtin keyring of a scale-out deployment:
// nodes on one PostgreSQL database share it (kms.OpenSharedKeyring), and
// the database records which root key the deployment uses.
package sharedkeys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgtest"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func TestMain(m *testing.M) {
	e2eutil.CleanEnv()
	os.Exit(pgtest.Main(m))
}

var bg = context.Background()

// deployment is a fresh database and the root key its nodes share.
type deployment struct {
	url  string
	root []byte // root.key file contents
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	p := filepath.Join(t.TempDir(), "root.key")
	key, err := kms.GenerateRootKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	clear(key)
	d := &deployment{url: pgtest.DB(t)}
	if d.root, err = os.ReadFile(p); err != nil {
		t.Fatal(err)
	}
	return d
}

// dir is a data directory holding the deployment's root key.
func (d *deployment) dir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "root.key"), d.root, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// node starts a node of the deployment on data directory dir ("" = new).
func (d *deployment) node(t *testing.T, dir string) *testnode.Node {
	t.Helper()
	if dir == "" {
		dir = d.dir(t)
	}
	return testnode.Start(t, testnode.Options{Meta: d.url, DataDir: dir})
}

// open is server.Open of a node of the deployment on dir, for nodes that
// must refuse to start.
func (d *deployment) open(dir string) error {
	n, err := server.Open(bg, server.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler), MetaConfig: server.MetaConfig{Meta: d.url}})
	if err == nil {
		n.Close(bg)
		return errors.New("the node started")
	}
	return err
}

func client(n *testnode.Node) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(n.URL),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""),
		HTTPClient:       n.Client,
		RetryMaxAttempts: 1,
	})
}

func putKMS(c *s3.Client, bucket, key, kmsKey string) error {
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("body of " + key)}
	if kmsKey != "" {
		in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String(kmsKey)
	}
	_, err := c.PutObject(bg, in)
	return err
}

// get reads an object and checks its body and its KMS key.
func get(c *s3.Client, bucket, key, kmsKey string) error {
	out, err := c.GetObject(bg, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return err
	}
	if string(b) != "body of "+key {
		return fmt.Errorf("read %q", b)
	}
	if out.ServerSideEncryption != types.ServerSideEncryptionAwsKms || !strings.HasSuffix(aws.ToString(out.SSEKMSKeyId), kmsKey) {
		return fmt.Errorf("encryption %q key %q, want aws:kms under %s", out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId), kmsKey)
	}
	return nil
}

func keyOp(t *testing.T, n *testnode.Node, op, name string) {
	t.Helper()
	if _, err := server.KeyOp(bg, n.Keys, n.Meta(), op, name); err != nil {
		t.Fatalf("key %s %s: %v", op, name, err)
	}
}

func isCode(err error, status int, code string) bool {
	var re *awshttp.ResponseError
	var api smithy.APIError
	return errors.As(err, &re) && re.HTTPStatusCode() == status && errors.As(err, &api) && api.ErrorCode() == code
}

// TestKeyCreatedOnOneNodeServesAll: a KMS key created on node A encrypts
// SSE-KMS PUTs on node B (named in the request, and as B's bucket default
// with bucket keys), and the objects read on both nodes; B never creates
// the key.
func TestKeyCreatedOnOneNodeServesAll(t *testing.T) {
	d := newDeployment(t)
	a, b := d.node(t, ""), d.node(t, "")
	ca, cb := client(a), client(b)
	if _, err := cb.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	keyOp(t, a, "create", "team")
	if err := putKMS(cb, "bkt", "named", "team"); err != nil {
		t.Fatalf("SSE-KMS PUT on node B under node A's key: %v", err)
	}
	for name, c := range map[string]*s3.Client{"A": ca, "B": cb} {
		if err := get(c, "bkt", "named", "team"); err != nil {
			t.Errorf("GET on node %s: %v", name, err)
		}
	}

	keyOp(t, a, "create", "default-key")
	_, err := cb.PutBucketEncryption(bg, &s3.PutBucketEncryptionInput{Bucket: aws.String("bkt"),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("default-key")},
			BucketKeyEnabled:                   aws.Bool(true)}}}})
	if err != nil {
		t.Fatalf("bucket default on node B naming node A's new key: %v", err)
	}
	if err := putKMS(cb, "bkt", "by-default", ""); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*s3.Client{"A": ca, "B": cb} {
		if err := get(c, "bkt", "by-default", "default-key"); err != nil {
			t.Errorf("GET of the bucket-key object on node %s: %v", name, err)
		}
	}
	if !b.Keyring.Shared() {
		t.Fatal("node B's keyring is not the shared one")
	}
	if _, err := os.Stat(filepath.Join(b.DataDir, "keyring")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("node B has a keyring file: %v", err)
	}
}

// TestDisableReachesOtherNodes: a key disabled on node A is refused on
// node B within the refresh bound (kms.DefaultSharedRefresh), for objects
// under the key and for bucket keys B has cached.
func TestDisableReachesOtherNodes(t *testing.T) {
	d := newDeployment(t)
	a, b := d.node(t, ""), d.node(t, "")
	cb := client(b)
	keyOp(t, a, "create", "k")
	for _, bucket := range []string{"plain", "bucket-keys"} {
		if _, err := cb.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := cb.PutBucketEncryption(bg, &s3.PutBucketEncryptionInput{Bucket: aws.String("bucket-keys"),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("k")},
			BucketKeyEnabled:                   aws.Bool(true)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := putKMS(cb, "plain", "o", "k"); err != nil {
		t.Fatal(err)
	}
	if err := putKMS(cb, "bucket-keys", "o", ""); err != nil {
		t.Fatal(err)
	}
	for _, bucket := range []string{"plain", "bucket-keys"} {
		if err := get(cb, bucket, "o", "k"); err != nil { // B caches the bucket key
			t.Fatal(err)
		}
	}

	keyOp(t, a, "disable", "k")
	start := time.Now()
	bound := kms.DefaultSharedRefresh + time.Second // plus a round trip and the machine's load
	refused := func(err error) bool { return isCode(err, 400, "KMS.DisabledException") }
	var took time.Duration
	for _, bucket := range []string{"plain", "bucket-keys"} {
		for !refused(get(cb, bucket, "o", "k")) {
			if time.Since(start) > bound {
				t.Fatalf("GET in %s on node B still served %v after the disable on node A", bucket, time.Since(start))
			}
			time.Sleep(20 * time.Millisecond)
		}
		took = max(took, time.Since(start))
	}
	t.Logf("the disable on node A reached node B in %v (bound %v)", took, kms.DefaultSharedRefresh)
	if err := putKMS(cb, "plain", "p", "k"); !refused(err) {
		t.Fatalf("PUT on node B under the disabled key: %v, want 400 KMS.DisabledException", err)
	}
	if err := putKMS(cb, "bucket-keys", "p", ""); !refused(err) {
		t.Fatalf("PUT on node B with the disabled key as bucket default: %v, want 400 KMS.DisabledException", err)
	}

	keyOp(t, a, "enable", "k")
	if err := get(cb, "plain", "o", "k"); err != nil { // the re-read at the miss... or within the bound
		time.Sleep(kms.DefaultSharedRefresh)
		if err := get(cb, "plain", "o", "k"); err != nil {
			t.Fatalf("GET on node B after the enable on node A: %v", err)
		}
	}
}

// TestConcurrentCreatesLoseNone: nodes creating and rotating keys at the
// same time: every change is in the shared keyring.
func TestConcurrentCreatesLoseNone(t *testing.T) {
	d := newDeployment(t)
	nodes := []*testnode.Node{d.node(t, ""), d.node(t, "")}
	const per = 8
	var wg sync.WaitGroup
	for i, n := range nodes {
		for j := range per {
			wg.Go(func() {
				for _, op := range []string{"create", "rotate"} {
					if _, err := server.KeyOp(bg, n.Keys, n.Meta(), op, fmt.Sprintf("n%d-k%d", i, j)); err != nil {
						t.Errorf("%s on node %d: %v", op, i, err)
					}
				}
			})
		}
	}
	wg.Wait()
	for i, n := range nodes {
		keys, err := n.Keys.ListKeys(bg)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2*per+1 {
			t.Fatalf("node %d lists %d keys, want %d", i, len(keys), 2*per+1)
		}
		for _, k := range keys {
			if k.ID != kms.DefaultKeyName && k.Versions != 2 {
				t.Fatalf("node %d: key %s has %d versions, want 2", i, k.ID, k.Versions)
			}
		}
	}
}

// TestLocalKeyringImported: the first node started on the database with
// the keyring file of an embedded deployment brings its keys in (the
// file is renamed), another node uses them; a node whose own keyring
// file holds other keys refuses to start.
func TestLocalKeyringImported(t *testing.T) {
	d := newDeployment(t)
	dirA := d.dir(t)
	root, err := kms.LoadRootKey("", filepath.Join(dirA, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	local, err := kms.OpenKeyring(filepath.Join(dirA, "keyring"), root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.CreateKey(bg, "old"); err != nil {
		t.Fatal(err)
	}
	encCtx := map[string]string{"aws:s3:arn": "arn:aws:s3:::x/y"}
	dk, err := local.GenerateDataKey(bg, "old", encCtx)
	if err != nil {
		t.Fatal(err)
	}
	local.Close()

	a := d.node(t, dirA)
	if _, err := os.Stat(filepath.Join(dirA, "keyring"+kms.ImportedSuffix)); err != nil {
		t.Fatalf("the imported keyring file was not renamed: %v", err)
	}
	b := d.node(t, "")
	if pt, err := b.Keyring.Decrypt(bg, dk.Ciphertext, encCtx); err != nil || string(pt) != string(dk.Plaintext) {
		t.Fatalf("a data key of the imported keyring on the other node: %v", err)
	}
	if _, err := client(b).CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	if err := putKMS(client(b), "bkt", "o", "old"); err != nil {
		t.Fatal(err)
	}
	if err := get(client(a), "bkt", "o", "old"); err != nil {
		t.Fatal(err)
	}

	// A data directory with a keyring of its own (its own default key).
	dirC := d.dir(t)
	other, err := kms.OpenKeyring(filepath.Join(dirC, "keyring"), root)
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	err = d.open(dirC)
	if !errors.Is(err, kms.ErrKeyringConflict) {
		t.Fatalf("a node with another keyring file: %v, want ErrKeyringConflict", err)
	}
	t.Logf("refused: %v", err)
}

// TestOtherRootKeyRefusesToStart: a node given another root key than the
// deployment's (here: a new data directory that generated its own) does
// not start, and says why.
func TestOtherRootKeyRefusesToStart(t *testing.T) {
	d := newDeployment(t)
	d.node(t, "")
	err := d.open(t.TempDir())
	if !errors.Is(err, kms.ErrRootKeyMismatch) || !strings.Contains(err.Error(), "this node's root key differs from the deployment's") {
		t.Fatalf("a node with another root key: %v", err)
	}
	t.Logf("refused: %v", err)
}
