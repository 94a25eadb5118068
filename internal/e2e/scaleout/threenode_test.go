package scaleout

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgtest"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

const (
	tierBucket = "tier"
	tierPrefix = "data/"
	bucket3    = "three"
	kmsKey     = "team"
	blobSize   = 300 << 10 // above the inline limit: the body goes to the tier
)

// deployment is one scale-out deployment: a PostgreSQL database, a data
// tier (a plain strongroom node behind a proxy the test can take down)
// and three nodes sharing both and the root key.
type deployment struct {
	pg       *pgtest.Server
	meta     string
	tierNode *testnode.Node
	tier     *s3.Client // the tier node's root client
	tierDown atomic.Bool
	blobsURL string
	rootKey  []byte // node 0's root key file
	nodes    []*testnode.Node
	clients  []*s3.Client
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	ctx := context.Background()
	d := &deployment{pg: pgtest.Shared(t)}
	var err error
	if d.meta, err = d.pg.NewDB(ctx, t.Name()); err != nil {
		t.Fatal(err)
	}
	d.tierNode = testnode.Start(t, testnode.Options{})
	d.tier = pgClient(d.tierNode)
	if _, err := d.tier.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(tierBucket)}); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(d.tierNode.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u) // keeps Host: the signature holds
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.tierDown.Load() { // down: every connection is cut
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	d.blobsURL = "s3://" + tierBucket + "/" + strings.TrimSuffix(tierPrefix, "/") + "?endpoint=" + url.QueryEscape(proxy.URL)

	// The nodes share the root key: node 0 makes it, the others get a
	// copy. The keyring is in the database (a key made on node 0 serves
	// every node).
	for i := range 3 {
		dir := t.TempDir()
		if i > 0 {
			d.shareKeys(t, dir)
		}
		n := testnode.Start(t, d.options(dir))
		if i == 0 {
			if d.rootKey, err = os.ReadFile(filepath.Join(dir, "root.key")); err != nil {
				t.Fatal(err)
			}
			if _, err := n.Keyring.CreateKey(ctx, kmsKey); err != nil {
				t.Fatal(err)
			}
		}
		d.nodes = append(d.nodes, n)
		d.clients = append(d.clients, pgClient(n))
	}
	if _, err := d.clients[0].CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket3)}); err != nil {
		t.Fatal(err)
	}
	return d
}

// shareKeys gives the data directory of a new node the deployment's
// root key.
func (d *deployment) shareKeys(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "root.key"), d.rootKey, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (d *deployment) options(dir string) testnode.Options {
	return testnode.Options{TLS: true, DataDir: dir, Meta: d.meta, Blobs: d.blobsURL,
		BlobsAccessKey: d.tierNode.AccessKey, BlobsSecretKey: d.tierNode.SecretKey}
}

// tierKeys lists the tier's committed blob objects.
func (d *deployment) tierKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(d.tier, &s3.ListObjectsV2Input{Bucket: aws.String(tierBucket), Prefix: aws.String(tierPrefix)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// tierUploads lists the tier's unfinished multipart uploads.
func (d *deployment) tierUploads(t *testing.T) []string {
	t.Helper()
	out, err := d.tier.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(tierBucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// sseMode is one way of encrypting an object: the PUT's and the GET's
// parameters.
type sseMode struct {
	name string
	put  func(*s3.PutObjectInput)
	get  func(*s3.GetObjectInput)
}

func sseModes() []sseMode {
	k := make([]byte, 32)
	rand.Read(k)
	sum := md5.Sum(k)
	key, keyMD5 := base64.StdEncoding.EncodeToString(k), base64.StdEncoding.EncodeToString(sum[:])
	return []sseMode{
		{"plain", func(*s3.PutObjectInput) {}, func(*s3.GetObjectInput) {}},
		{"SSE-S3", func(in *s3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAes256 }, func(*s3.GetObjectInput) {}},
		{"SSE-C", func(in *s3.PutObjectInput) {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(key), aws.String(keyMD5)
		}, func(in *s3.GetObjectInput) {
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(key), aws.String(keyMD5)
		}},
		{"SSE-KMS", func(in *s3.PutObjectInput) {
			in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String(kmsKey)
		}, func(*s3.GetObjectInput) {}},
	}
}

func getBytes(ctx context.Context, c *s3.Client, in *s3.GetObjectInput) ([]byte, error) {
	out, err := c.GetObject(ctx, in)
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// wantStatus checks that err is an S3 error with the status and code, and
// returns its response headers.
func wantStatus(t *testing.T, what string, err error, status int, code string) http.Header {
	t.Helper()
	var re *awshttp.ResponseError
	var api smithy.APIError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status || !errors.As(err, &api) || api.ErrorCode() != code {
		t.Errorf("%s: %v, want %d %s", what, err, status, code)
		return http.Header{}
	}
	return re.Response.Header
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestThreeNodes: three nodes on one PostgreSQL database and one S3 data
// tier (a plain strongroom node), driven with aws-sdk-go-v2 over TLS. The
// deployment is built once and the cases run in order on it; the ones
// that take a component down come last.
func TestThreeNodes(t *testing.T) {
	ctx := context.Background()
	d := newDeployment(t)
	// written is every object acknowledged so far: key → bytes, with the
	// SSE mode to read it back.
	type obj struct {
		data []byte
		mode sseMode
	}
	written := map[string]obj{}
	var writtenMu sync.Mutex
	record := func(key string, o obj) {
		writtenMu.Lock()
		defer writtenMu.Unlock()
		written[key] = o
	}
	readAll := func(t *testing.T, c *s3.Client, what string) {
		t.Helper()
		writtenMu.Lock()
		defer writtenMu.Unlock()
		for key, o := range written {
			// Large objects: their last 64 KiB (a ranged read through
			// the sealed segments), which keeps the suite fast.
			in := &s3.GetObjectInput{Bucket: aws.String(bucket3), Key: aws.String(key)}
			want := o.data
			if len(want) > blobSize {
				in.Range = aws.String(fmt.Sprintf("bytes=-%d", 64<<10))
				want = want[len(want)-64<<10:]
			}
			o.mode.get(in)
			got, err := getBytes(ctx, c, in)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: GET %s: %d bytes, %v; want the %d written", what, key, len(got), err, len(o.data))
			}
		}
	}

	t.Run("WriteOneReadOthers", func(t *testing.T) {
		for i, mode := range sseModes() {
			for _, size := range []int{100, blobSize} {
				from := i % 3
				key := fmt.Sprintf("rw/%s/%d", mode.name, size)
				data := randomBytes(size)
				in := &s3.PutObjectInput{Bucket: aws.String(bucket3), Key: aws.String(key), Body: bytes.NewReader(data)}
				mode.put(in)
				if _, err := d.clients[from].PutObject(ctx, in); err != nil {
					t.Fatalf("%s PUT %d bytes on node %d: %v", mode.name, size, from, err)
				}
				record(key, obj{data, mode})
				for other := range 3 {
					if other == from {
						continue
					}
					gin := &s3.GetObjectInput{Bucket: aws.String(bucket3), Key: aws.String(key)}
					mode.get(gin)
					got, err := getBytes(ctx, d.clients[other], gin)
					if err != nil || !bytes.Equal(got, data) {
						t.Errorf("%s %d bytes written on node %d, GET on node %d: %v", mode.name, size, from, other, err)
					}
				}
			}
		}
		// A listing on each node sees every key at once.
		for i, c := range d.clients {
			out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket3), Prefix: aws.String("rw/")})
			if err != nil || len(out.Contents) != 8 {
				t.Errorf("list on node %d: %v, %d keys; want 8", i, err, len(out.Contents))
			}
		}
	})

	// The tier learns sizes to within a segment: every blob it holds is
	// a multiple of 64 KiB (blob.PadQuantum), though none of the objects
	// written above is.
	t.Run("TierSeesPaddedSizes", func(t *testing.T) {
		p := s3.NewListObjectsV2Paginator(d.tier, &s3.ListObjectsV2Input{Bucket: aws.String(tierBucket), Prefix: aws.String(tierPrefix)})
		n := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Contents {
				if size := aws.ToInt64(o.Size); size%blob.PadQuantum != 0 {
					t.Errorf("tier object %s is %d bytes, not a multiple of %d", aws.ToString(o.Key), size, blob.PadQuantum)
				}
				n++
			}
		}
		if n < 4 {
			t.Fatalf("%d blobs on the tier, want at least the 4 objects of %d bytes", n, blobSize)
		}
	})

	t.Run("ConditionalRace", func(t *testing.T) {
		const writers = 9 // three per node
		for round := range 3 {
			key := fmt.Sprintf("race/%d", round)
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins, refused := 0, 0
			var winner []byte
			start := make(chan struct{})
			for w := range writers {
				body := []byte(fmt.Sprintf("writer %d on node %d", w, w%3))
				wg.Go(func() {
					<-start
					_, err := d.clients[w%3].PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket3), Key: aws.String(key),
						Body: bytes.NewReader(body), IfNoneMatch: aws.String("*")})
					mu.Lock()
					defer mu.Unlock()
					var re *awshttp.ResponseError
					switch {
					case err == nil:
						wins++
						winner = body
					case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed:
						refused++
					default:
						t.Errorf("racing PUT: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			if wins != 1 || refused != writers-1 {
				t.Fatalf("round %d: %d winners, %d refused; want 1 and %d", round, wins, refused, writers-1)
			}
			for i, c := range d.clients {
				got, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String(bucket3), Key: aws.String(key)})
				if err != nil || !bytes.Equal(got, winner) {
					t.Errorf("round %d: node %d reads %q, %v; want the winner's %q", round, i, got, err, winner)
				}
			}
			record(key, obj{winner, sseModes()[0]})
		}
	})

	t.Run("MultipartAcrossNodes", func(t *testing.T) {
		// Created on node 0, part 1 sent to node 0 and part 2 to node 1,
		// completed on node 2, SSE-S3.
		const key = "mp/across"
		c := d.clients
		mp, err := c[0].CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket3), Key: aws.String(key),
			ServerSideEncryption: types.ServerSideEncryptionAes256})
		if err != nil {
			t.Fatal(err)
		}
		data := randomBytes(5<<20 + 4321)
		var parts []types.CompletedPart
		for i, part := range [][]byte{data[:5<<20], data[5<<20:]} {
			n := int32(i + 1)
			out, err := c[i].UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket3), Key: aws.String(key), UploadId: mp.UploadId,
				PartNumber: aws.Int32(n), Body: bytes.NewReader(part)})
			if err != nil {
				t.Fatalf("part %d on node %d: %v", n, i, err)
			}
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
		}
		lp, err := c[2].ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket3), Key: aws.String(key), UploadId: mp.UploadId})
		if err != nil || len(lp.Parts) != 2 {
			t.Fatalf("ListParts on node 2: %v, %d parts", err, len(lp.Parts))
		}
		if _, err := c[2].CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket3), Key: aws.String(key),
			UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
			t.Fatalf("Complete on node 2: %v", err)
		}
		record(key, obj{data, sseModes()[1]})
		got, err := getBytes(ctx, c[0], &s3.GetObjectInput{Bucket: aws.String(bucket3), Key: aws.String(key)})
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("GET on node 0: %v", err)
		}
	})

	t.Run("NodeKilledMidUpload", func(t *testing.T) {
		d.nodeKilledMidUpload(t, func(t *testing.T, c *s3.Client, what string) { readAll(t, c, what) })
	})

	t.Run("PostgresRestart", func(t *testing.T) {
		d.pg.Stop()
		restarted := false
		defer func() {
			if !restarted {
				d.pg.Restart()
			}
		}()
		for i, c := range d.clients {
			_, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String(bucket3), Key: aws.String("race/0")})
			wantStatus(t, fmt.Sprintf("GET on node %d with PostgreSQL down", i), err, 503, "ServiceUnavailable")
			_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket3), Key: aws.String("during"), Body: strings.NewReader("x")})
			wantStatus(t, fmt.Sprintf("PUT on node %d with PostgreSQL down", i), err, 503, "ServiceUnavailable")
		}
		if err := d.pg.Restart(); err != nil {
			t.Fatal(err)
		}
		restarted = true
		for i, c := range d.clients {
			waitFor(t, fmt.Sprintf("node %d after PostgreSQL restarted", i), func() error {
				_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket3), Key: aws.String("race/0")})
				return err
			})
			readAll(t, c, fmt.Sprintf("node %d after PostgreSQL restarted", i))
		}
		if _, err := d.clients[1].PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket3), Key: aws.String("after-pg"), Body: strings.NewReader("y")}); err != nil {
			t.Fatalf("PUT after the restart: %v", err)
		}
		record("after-pg", obj{[]byte("y"), sseModes()[0]})
	})

	t.Run("TierDown", func(t *testing.T) {
		key := "rw/SSE-S3/" + fmt.Sprint(blobSize)
		d.tierDown.Store(true)
		defer d.tierDown.Store(false)
		// Each node's tier client retries (bounded backoff) before it
		// answers 503: GETs on all three, the PUT on one.
		for i, c := range d.clients {
			_, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String(bucket3), Key: aws.String(key)})
			h := wantStatus(t, fmt.Sprintf("GET of a blob on node %d with the tier down", i), err, 503, "ServiceUnavailable")
			if h.Get("Retry-After") == "" {
				t.Errorf("GET on node %d: 503 without Retry-After", i)
			}
			if i != 1 {
				continue
			}
			_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket3), Key: aws.String("tier-down"), Body: bytes.NewReader(randomBytes(blobSize))})
			h = wantStatus(t, fmt.Sprintf("PUT of a blob on node %d with the tier down", i), err, 503, "ServiceUnavailable")
			if h.Get("Retry-After") == "" {
				t.Errorf("PUT on node %d: 503 without Retry-After", i)
			}
			// Metadata alone still answers.
			if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket3), Key: aws.String(key)}); err != nil {
				t.Errorf("HEAD on node %d with the tier down: %v", i, err)
			}
		}
		d.tierDown.Store(false)
		for i, c := range d.clients {
			readAll(t, c, fmt.Sprintf("node %d once the tier is back", i))
		}
		if _, err := d.clients[2].HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket3), Key: aws.String("tier-down")}); err == nil {
			t.Error("a PUT refused with 503 left an object")
		}
	})
}

// waitFor retries f until it succeeds, for up to 20 s.
func waitFor(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// blockingBody sends n bytes, signals when it has sent half of them, and
// then blocks until release is closed.
type blockingBody struct {
	left, half int
	halfway    chan struct{}
	release    chan struct{}
	once       sync.Once
}

func (b *blockingBody) Read(p []byte) (int, error) {
	if b.left <= b.half {
		b.once.Do(func() { close(b.halfway) })
		<-b.release
		return 0, io.ErrUnexpectedEOF
	}
	n := min(len(p), b.left-b.half)
	rand.Read(p[:n])
	b.left -= n
	return n, nil
}

// nodeKilledMidUpload: a fourth node process of the same deployment is
// killed with SIGKILL while an 18 MiB PUT streams through it. The three
// others keep serving, the key is visible nowhere, no committed blob is
// left on the tier, and the node restarts cleanly.
func (d *deployment) nodeKilledMidUpload(t *testing.T, readAll func(*testing.T, *s3.Client, string)) {
	ctx := context.Background()
	dir := t.TempDir()
	d.shareKeys(t, dir)
	ak, sk := "killedroot", "killed-node-secret-0123456789"
	cfg := childConfig{DataDir: dir, Meta: d.meta, Blobs: d.blobsURL, BlobsAccessKey: d.tierNode.AccessKey,
		BlobsSecretKey: d.tierNode.SecretKey, RootAccessKey: ak, RootSecretKey: sk}
	child := startChild(t, cfg)
	blobsBefore := d.tierKeys(t)
	uploadsBefore := d.tierUploads(t)

	const size = 18 << 20 // half of it is above the tier writer's 8 MiB part
	body := &blockingBody{left: size, half: size / 2, halfway: make(chan struct{}), release: make(chan struct{})}
	req, err := http.NewRequest(http.MethodPut, child.URL+"/"+bucket3+"/killed/big", io.NopCloser(body))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	auth.SignV4(req, ak, sk, "us-east-1", time.Now(), "")
	hc := insecureClient()
	putDone := make(chan error, 1)
	go func() {
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("PUT answered %s", resp.Status)
		}
		putDone <- err
	}()
	select {
	case <-body.halfway:
	case err := <-putDone:
		t.Fatalf("the PUT ended before the kill: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the PUT did not get halfway")
	}
	// Half the body is sent; wait for the node to have started writing it
	// to the tier, then kill it.
	waitFor(t, "the killed node's blob upload on the tier", func() error {
		if len(d.tierUploads(t)) > len(uploadsBefore) {
			return nil
		}
		return errors.New("no new multipart upload on the tier")
	})
	child.kill()
	close(body.release)
	if err := <-putDone; err == nil {
		t.Fatal("the PUT through the killed node succeeded")
	}

	// The others keep serving, and the key is nowhere.
	for i, c := range d.clients {
		readAll(t, c, fmt.Sprintf("node %d after the kill", i))
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket3), Key: aws.String("killed/big")})
		var nf *types.NotFound
		if !errors.As(err, &nf) {
			t.Errorf("HEAD of the killed upload's key on node %d: %v, want 404", i, err)
		}
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket3), Prefix: aws.String("killed/")})
		if err != nil || len(out.Contents) != 0 {
			t.Errorf("list on node %d after the kill: %v, %d keys", i, err, len(out.Contents))
		}
	}
	if _, err := d.clients[0].PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket3), Key: aws.String("killed/after"),
		Body: bytes.NewReader(randomBytes(blobSize))}); err != nil {
		t.Fatalf("PUT on node 0 after the kill: %v", err)
	}
	if _, err := d.clients[0].DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket3), Key: aws.String("killed/after")}); err != nil {
		t.Fatal(err)
	}
	// The blob of the killed PUT was never committed: the tier holds no
	// new object, only the unfinished multipart upload of its writer.
	if after := d.tierKeys(t); !slices.Equal(after, blobsBefore) {
		t.Errorf("tier objects changed by the killed PUT: %d before, %d after", len(blobsBefore), len(after))
	}

	// The node restarts on the same data directory and serves.
	child = startChild(t, cfg)
	rc := pgUserClientURL(child.URL, ak, sk)
	readAll(t, rc, "the restarted node")
	// Its orphan is swept by the restart: the blob's ID was journaled
	// (per node, in the database) before its first byte went out, and the
	// sweep's Delete of a blob that never became an object aborts the
	// unfinished multipart upload the killed writer left on the tier.
	if got := d.tierUploads(t); len(got) > len(uploadsBefore) {
		t.Errorf("the killed writer's upload survives the restart: %d uploads, %d before", len(got), len(uploadsBefore))
	}
	child.kill()
}

// pgUserClientURL is an aws-sdk-go-v2 client of a node at a URL (a child
// node process, self-signed certificate).
func pgUserClientURL(u, ak, sk string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(u), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""), HTTPClient: insecureClient(), RetryMaxAttempts: 1})
}
