//go:build cgo

package e2epkcs11

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11"
	"github.com/strongroom-dev/strongroom/internal/kms/pkcs11/softhsmtest"
	"github.com/strongroom-dev/strongroom/internal/server"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func TestMain(m *testing.M) { e2eutil.Main(m) }

const (
	KiB = 1 << 10
	MiB = 1 << 20
)

func kmsConfig(tok softhsmtest.Token) server.KMSConfig {
	return server.KMSConfig{KMS: server.KMSPKCS11, PKCS11Module: tok.Module, PKCS11Token: tok.Label, PKCS11PINFile: tok.PINFile}
}

// recorder keeps a copy of every plaintext key that passes through the
// provider, for the canary scans.
type recorder struct {
	kms.Provider
	mu   sync.Mutex
	keys [][]byte
}

func (r *recorder) add(k []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, bytes.Clone(k))
}

func (r *recorder) snapshot() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slicesClone(r.keys)
}

func slicesClone(in [][]byte) [][]byte { return append([][]byte(nil), in...) }

func (r *recorder) GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (kms.DataKey, error) {
	dk, err := r.Provider.GenerateDataKey(ctx, keyID, encCtx)
	if err == nil {
		r.add(dk.Plaintext)
	}
	return dk, err
}

func (r *recorder) Decrypt(ctx context.Context, ct []byte, encCtx map[string]string) ([]byte, error) {
	pt, err := r.Provider.Decrypt(ctx, ct, encCtx)
	if err == nil {
		r.add(pt)
	}
	return pt, err
}

func (r *recorder) Encrypt(ctx context.Context, keyID string, pt []byte, encCtx map[string]string) ([]byte, string, error) {
	r.add(pt)
	return r.Provider.(kms.Encrypter).Encrypt(ctx, keyID, pt, encCtx)
}

func (r *recorder) KeyStateSerial() uint64 {
	if s, ok := r.Provider.(kms.StateSerial); ok {
		return s.KeyStateSerial()
	}
	return 0
}

type env struct {
	t    *testing.T
	tok  softhsmtest.Token
	node *testnode.Node
	logs *e2eutil.LogBuffer
	rec  *recorder
	c    *s3.Client
	ctx  context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	tok := softhsmtest.New(t, "strongroom-e2e")
	e := &env{t: t, tok: tok, logs: &e2eutil.LogBuffer{}, ctx: context.Background()}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.node = testnode.Start(t, testnode.Options{TLS: true, Logger: log, KMS: kmsConfig(tok), WrapKMS: func(p kms.Provider) kms.Provider {
		e.rec = &recorder{Provider: p}
		return e.rec
	}})
	e.c = s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(e.node.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(e.node.AccessKey, e.node.SecretKey, ""),
		HTTPClient:  e.node.Client, Retryer: aws.NopRetryer{},
	})
	return e
}

func random(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func (e *env) bucket(name string) string {
	e.t.Helper()
	if _, err := e.c.CreateBucket(e.ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		e.t.Fatalf("CreateBucket %s: %v", name, err)
	}
	return name
}

func (e *env) get(bucket, key string) ([]byte, *s3.GetObjectOutput, error) {
	out, err := e.c.GetObject(e.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return b, out, err
}

func (e *env) mustGet(bucket, key string, want []byte) *s3.GetObjectOutput {
	e.t.Helper()
	got, out, err := e.get(bucket, key)
	if err != nil {
		e.t.Fatalf("GetObject %s/%s: %v", bucket, key, err)
	}
	if !bytes.Equal(got, want) {
		e.t.Fatalf("GetObject %s/%s: %d bytes differ from the %d put", bucket, key, len(got), len(want))
	}
	return out
}

func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestSSEThroughHSM: SSE-S3, SSE-KMS (default key, named key, bucket key,
// bucket default), copies and a multipart upload, all with their keys
// wrapped by the token; the builtin keyring wraps nothing.
func TestSSEThroughHSM(t *testing.T) {
	e := newEnv(t)
	for _, k := range []string{"photos", "archive"} {
		if _, err := e.node.Keys.CreateKey(e.ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	plain := e.bucket("plain")
	dflt := e.bucket("kms-default")
	if _, err := e.c.PutBucketEncryption(e.ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(dflt), ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
		Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("photos")}, BucketKeyEnabled: aws.Bool(true)}},
	}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, bucket string
		sse          types.ServerSideEncryption
		keyID        string
		bucketKey    bool
		want         types.ServerSideEncryption
	}{
		{name: "sse-s3", bucket: plain, sse: types.ServerSideEncryptionAes256, want: types.ServerSideEncryptionAes256},
		{name: "sse-kms-default-key", bucket: plain, sse: types.ServerSideEncryptionAwsKms, want: types.ServerSideEncryptionAwsKms},
		{name: "sse-kms-named-key", bucket: plain, sse: types.ServerSideEncryptionAwsKms, keyID: "alias/photos", want: types.ServerSideEncryptionAwsKms},
		{name: "sse-kms-bucket-key", bucket: plain, sse: types.ServerSideEncryptionAwsKms, keyID: "photos", bucketKey: true, want: types.ServerSideEncryptionAwsKms},
		{name: "bucket-default", bucket: dflt, want: types.ServerSideEncryptionAwsKms},
	}
	for _, c := range cases {
		body := random(t, 70*KiB)
		in := &s3.PutObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(c.name), Body: bytes.NewReader(body), ServerSideEncryption: c.sse}
		if c.keyID != "" {
			in.SSEKMSKeyId = aws.String(c.keyID)
		}
		if c.bucketKey {
			in.BucketKeyEnabled = aws.Bool(true)
		}
		if _, err := e.c.PutObject(e.ctx, in); err != nil {
			t.Fatalf("%s: PutObject: %v", c.name, err)
		}
		if out := e.mustGet(c.bucket, c.name, body); out.ServerSideEncryption != c.want {
			t.Errorf("%s: GetObject says %q, want %q", c.name, out.ServerSideEncryption, c.want)
		}
		// Copies: to SSE-KMS under another key, and to SSE-S3.
		for dst, sse := range map[string]types.ServerSideEncryption{"kms": types.ServerSideEncryptionAwsKms, "s3": types.ServerSideEncryptionAes256} {
			cin := &s3.CopyObjectInput{Bucket: aws.String(plain), Key: aws.String(c.name + "-copy-" + dst), CopySource: aws.String(c.bucket + "/" + c.name), ServerSideEncryption: sse}
			if sse == types.ServerSideEncryptionAwsKms {
				cin.SSEKMSKeyId = aws.String("archive")
			}
			if _, err := e.c.CopyObject(e.ctx, cin); err != nil {
				t.Fatalf("%s: CopyObject to %s: %v", c.name, dst, err)
			}
			e.mustGet(plain, c.name+"-copy-"+dst, body)
		}
	}
	// Multipart under a named key.
	mp, err := e.c.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(plain), Key: aws.String("mp"), ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("photos")})
	if err != nil {
		t.Fatal(err)
	}
	parts := [][]byte{random(t, 5*MiB), random(t, 3*KiB)}
	var done []types.CompletedPart
	for i, p := range parts {
		up, err := e.c.UploadPart(e.ctx, &s3.UploadPartInput{Bucket: aws.String(plain), Key: aws.String("mp"), UploadId: mp.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		done = append(done, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	if _, err := e.c.CompleteMultipartUpload(e.ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(plain), Key: aws.String("mp"), UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatal(err)
	}
	out := e.mustGet(plain, "mp", append(bytes.Clone(parts[0]), parts[1]...))
	if aws.ToString(out.SSEKMSKeyId) == "" || !strings.HasSuffix(aws.ToString(out.SSEKMSKeyId), "photos") {
		t.Errorf("multipart object names key %q", aws.ToString(out.SSEKMSKeyId))
	}
	// The token's root sealing key and raw object labels are not key ids.
	for _, id := range []string{"strongroom root key", "strongroom-default#1", "photos#1"} {
		_, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(plain), Key: aws.String("x"), Body: strings.NewReader("x"), ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(id)})
		if status(err) != http.StatusBadRequest {
			t.Errorf("PUT naming key %q: %v, want 400", id, err)
		}
	}
	if calls := e.node.Keyring.Calls(); calls[kms.OpGenerateDataKey]+calls[kms.OpEncrypt]+calls[kms.OpDecrypt] != 0 {
		t.Errorf("the builtin keyring was used: %v", calls)
	}
	if len(e.rec.snapshot()) == 0 {
		t.Fatal("no key went through the PKCS#11 provider")
	}
	e.canary()
}

// canary proves that no key in the clear is in the data directory or the
// logs: not the root key (the data directory holds it only sealed), not
// any data key the token wrapped or unwrapped.
func (e *env) canary() {
	t := e.t
	t.Helper()
	if _, err := os.Stat(filepath.Join(e.node.DataDir, "root.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("root.key in the data directory: %v", err)
	}
	sealed, err := os.ReadFile(filepath.Join(e.node.DataDir, "root.key.sealed"))
	if err != nil {
		t.Fatal(err)
	}
	pin, _ := pkcs11.ReadPIN(e.tok.PINFile)
	p, err := pkcs11.Open(e.ctx, pkcs11.Config{Module: e.tok.Module, Token: e.tok.Label, PIN: pin})
	if err != nil {
		t.Fatal(err)
	}
	root, err := p.OpenRootKey(e.ctx, sealed)
	p.Close()
	if err != nil {
		t.Fatal(err)
	}
	keys := append(e.rec.snapshot(), root)
	var needles [][]byte
	for _, k := range keys {
		needles = append(needles, k, []byte(hex.EncodeToString(k)), []byte(base64.StdEncoding.EncodeToString(k)), []byte(base64.RawURLEncoding.EncodeToString(k)))
	}
	needles = append(needles, []byte(e.tok.PIN))
	filepath.WalkDir(e.node.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("key material in the clear in %s", path)
				return nil
			}
		}
		return nil
	})
	logs := e.logs.Bytes()
	for _, n := range needles {
		if bytes.Contains(logs, n) {
			t.Errorf("key material or PIN in the logs")
			break
		}
	}
}

// TestTokenOutage removes the token under the running node: writes that
// need a new data key and reads whose key is not cached answer 503 and
// store nothing; a bucket key cached before the outage keeps writers going;
// everything works again once the token is back.
func TestTokenOutage(t *testing.T) {
	e := newEnv(t)
	b := e.bucket("outage")
	bk := e.bucket("outage-bk")
	before := random(t, 10*KiB)
	if _, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("before"), Body: bytes.NewReader(before), ServerSideEncryption: types.ServerSideEncryptionAwsKms}); err != nil {
		t.Fatal(err)
	}
	putBK := func(key string) error {
		_, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(bk), Key: aws.String(key), Body: bytes.NewReader(before), ServerSideEncryption: types.ServerSideEncryptionAwsKms, BucketKeyEnabled: aws.Bool(true)})
		return err
	}
	if err := putBK("bk-before"); err != nil {
		t.Fatal(err)
	}

	restore := e.tok.Remove(t)
	for _, sse := range []types.ServerSideEncryption{types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAes256} {
		_, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("during-" + string(sse)), Body: bytes.NewReader(before), ServerSideEncryption: sse})
		if status(err) != http.StatusServiceUnavailable {
			t.Fatalf("PutObject %s with the token removed: %v, want 503", sse, err)
		}
		if _, err := e.c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("during-" + string(sse))}); status(err) != http.StatusNotFound {
			t.Fatalf("a refused PUT left an object: %v", err)
		}
	}
	if _, err := e.c.CreateMultipartUpload(e.ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("mp"), ServerSideEncryption: types.ServerSideEncryptionAwsKms}); status(err) != http.StatusServiceUnavailable {
		t.Fatalf("CreateMultipartUpload with the token removed: %v, want 503", err)
	}
	if _, _, err := e.get(b, "before"); status(err) != http.StatusServiceUnavailable {
		t.Fatalf("GetObject with the token removed: %v, want 503", err)
	}
	// The bucket key cached before the outage still wraps new object keys.
	if err := putBK("bk-during"); err != nil {
		t.Fatalf("PUT under a cached bucket key during the outage: %v", err)
	}

	restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := e.c.PutObject(e.ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("after"), Body: bytes.NewReader(before), ServerSideEncryption: types.ServerSideEncryptionAwsKms})
		if err == nil {
			break
		}
		if status(err) != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("PutObject after the token is back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.mustGet(b, "before", before)
	e.mustGet(b, "after", before)
	e.mustGet(bk, "bk-during", before)
	if !strings.Contains(e.logs.String(), "PKCS#11 token unreachable") || !strings.Contains(e.logs.String(), "reachable again") {
		t.Error("the outage and the recovery are not logged")
	}
	e.canary()
}

// TestDataDirCopyOpensNothing: the data directory of a node whose root key
// the token seals opens neither without the token, nor with another token,
// nor as a builtin-keyring directory; with its token it opens.
func TestDataDirCopyOpensNothing(t *testing.T) {
	tok := softhsmtest.New(t, "strongroom-copy")
	conf := tok.Conf
	ctx := context.Background()
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, Addr: "127.0.0.1:0", KMSConfig: kmsConfig(tok), NoBackgroundJobs: true, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}
	n, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Keys.CreateKey(ctx, "photos"); err != nil {
		t.Fatal(err)
	}
	rootAK := n.Root.AccessKey
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy")
	if err := os.CopyFS(cp, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	open := func(c server.Config) error {
		n, err := server.Open(ctx, c)
		if err == nil {
			n.Close(ctx)
		}
		return err
	}
	builtin := cfg
	builtin.DataDir, builtin.KMSConfig = cp, server.KMSConfig{}
	if err := open(builtin); err == nil || !strings.Contains(err.Error(), "sealed by an external key provider") {
		t.Fatalf("copy opened as a builtin-keyring directory: %v", err)
	}
	t.Setenv(kms.RootKeyEnv, base64.StdEncoding.EncodeToString(random(t, 32)))
	if err := open(builtin); err == nil {
		t.Fatal("copy opened with a made-up root key")
	}
	t.Setenv(kms.RootKeyEnv, "")

	copyCfg := cfg
	copyCfg.DataDir = cp
	restore := tok.Remove(t)
	err = open(copyCfg)
	if err == nil || !strings.Contains(err.Error(), "PKCS#11") || !strings.Contains(err.Error(), tok.Label) {
		t.Fatalf("opening with the token removed: %v, want a clear PKCS#11 error naming the token", err)
	}
	restore()

	other := softhsmtest.New(t, tok.Label) // same label, another token
	copyCfg.KMSConfig = kmsConfig(other)
	if err := open(copyCfg); err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("opening with another token: %v", err)
	}

	t.Setenv("SOFTHSM2_CONF", conf)
	copyCfg.KMSConfig = kmsConfig(tok)
	n, err = server.Open(ctx, copyCfg)
	if err != nil {
		t.Fatalf("the copy with its own token: %v", err)
	}
	defer n.Close(ctx)
	if n.Root.AccessKey != rootAK {
		t.Fatal("root credentials differ")
	}
	if info, err := n.Keys.DescribeKey(ctx, "photos"); err != nil || !info.Enabled {
		t.Fatalf("key photos: %+v %v", info, err)
	}
}

// serve opens and serves a node until stop.
func serve(t *testing.T, cfg server.Config) (n *server.Node, c *s3.Client, stop func()) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.NoBackgroundJobs, cfg.Now = true, time.Now
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("opening node: %v", err)
	}
	ln, err := n.Listen()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Serve(ln) }()
	c = s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + ln.Addr().String()), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(n.Root.AccessKey, n.Root.SecretKey, ""),
		Retryer:     aws.NopRetryer{},
	})
	return n, c, func() {
		if err := n.Close(context.Background()); err != nil {
			t.Errorf("closing node: %v", err)
		}
		<-done
	}
}

// TestMoveToHSM: a data directory of the builtin keyring moves its root key
// into the token (given once, then sealed); what the keyring wrapped before
// still reads, new objects are wrapped by the token, and root.key left in
// the data directory is refused.
func TestMoveToHSM(t *testing.T) {
	for _, k := range []string{kms.RootKeyEnv, "STRONGROOM_ROOT_ACCESS_KEY", "STRONGROOM_ROOT_SECRET_KEY"} {
		t.Setenv(k, "")
	}
	ctx := context.Background()
	dir := t.TempDir()
	_, c, stop := serve(t, server.Config{DataDir: dir})
	old := random(t, 20*KiB)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("moved")}); err != nil {
		t.Fatal(err)
	}
	for _, sse := range []types.ServerSideEncryption{types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAes256} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("moved"), Key: aws.String("old-" + string(sse)), Body: bytes.NewReader(old), ServerSideEncryption: sse}); err != nil {
			t.Fatal(err)
		}
	}
	stop()

	tok := softhsmtest.New(t, "strongroom-move")
	cfg := server.Config{DataDir: dir, KMSConfig: kmsConfig(tok)}
	if _, err := server.Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "in clear") {
		t.Fatalf("opening with root.key in the data directory: %v", err)
	}
	aside := filepath.Join(t.TempDir(), "root.key")
	if err := os.Rename(filepath.Join(dir, "root.key"), aside); err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(t.TempDir(), "wrong.key")
	os.WriteFile(wrong, []byte(base64.StdEncoding.EncodeToString(random(t, 32))), 0o600)
	cfg.RootKeyFile = wrong
	if _, err := server.Open(ctx, cfg); err == nil || !strings.Contains(err.Error(), "not sealing it") {
		t.Fatalf("sealing a root key that does not open the keyring: %v", err)
	}
	cfg.RootKeyFile = aside
	_, _, stop = serve(t, cfg) // seals the root key
	stop()
	cfg.RootKeyFile = ""
	n, c, stop := serve(t, cfg) // opens it from the token
	defer stop()
	for _, sse := range []types.ServerSideEncryption{types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAes256} {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("moved"), Key: aws.String("old-" + string(sse))})
		if err != nil {
			t.Fatalf("reading an object the keyring wrapped: %v", err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, old) {
			t.Fatal("old object differs")
		}
	}
	n.Keyring.ResetCalls()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("moved"), Key: aws.String("new"), Body: bytes.NewReader(old), ServerSideEncryption: types.ServerSideEncryptionAwsKms}); err != nil {
		t.Fatal(err)
	}
	if calls := n.Keyring.Calls(); calls[kms.OpGenerateDataKey] != 0 {
		t.Fatalf("the keyring wrapped a new object: %v", calls)
	}
	if _, err := os.Stat(filepath.Join(dir, "root.key.sealed")); err != nil {
		t.Fatal(err)
	}
}
