// Package e2ereplica proves the replica transfer end to end: real nodes on
// loopback (internal/testnode), replicas made through
// service.ReplicaTarget (as the replication queue makes them), and the
// result read back through aws-sdk-go-v2 and from the raw metadata record.
package e2ereplica

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/strongroom-dev/strongroom/internal/e2e/e2eutil"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/remote"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/service"
	"github.com/strongroom-dev/strongroom/internal/sse"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

func TestMain(m *testing.M) { e2eutil.Main(m) }

const region = "us-east-1"

var root = service.Principal{Root: true}

var uniq atomic.Int64

// pair is a source node and a destination node; the source knows the
// destination as the remote "dr", reached through a recording proxy.
type pair struct {
	t        *testing.T
	ctx      context.Context
	src, dst *testnode.Node
	sc, dc   *s3.Client
	wire     *recorder
}

func newPair(t *testing.T) *pair {
	t.Helper()
	dst := testnode.Start(t, testnode.Options{InsecureSSEC: true})
	rec := startRecorder(t, dst.Addr)
	src := testnode.Start(t, testnode.Options{InsecureSSEC: true})
	addRemotes(t, src, remote.Remote{Name: "dr", URL: "http://" + rec.addr, AccessKey: dst.AccessKey, SecretKey: dst.SecretKey})
	p := &pair{t: t, ctx: context.Background(), src: src, dst: dst, wire: rec}
	p.sc, p.dc = client(src), client(dst)
	for _, n := range []*testnode.Node{src, dst} {
		for _, k := range []string{"key-1", "replica-key", "dst-default"} {
			if _, err := n.Keyring.CreateKey(p.ctx, k); err != nil {
				t.Fatal(err)
			}
		}
	}
	return p
}

// addRemotes registers remotes on n, as `strongroom remote add` does.
func addRemotes(t *testing.T, n *testnode.Node, rs ...remote.Remote) {
	t.Helper()
	for _, r := range rs {
		if err := n.Service.Remotes().Add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
}

func client(n *testnode.Node) *s3.Client {
	return s3.New(s3.Options{
		Region: region, BaseEndpoint: aws.String(n.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(n.AccessKey, n.SecretKey, ""),
		HTTPClient:  n.Client, Retryer: aws.NopRetryer{},
	})
}

// bucket creates a versioned bucket with a default encryption (nil: none).
func (p *pair) bucket(n *testnode.Node, def *sse.Config) string {
	p.t.Helper()
	name := fmt.Sprintf("b-%d", uniq.Add(1))
	if _, err := n.Service.CreateBucket(p.ctx, root, name, "", ""); err != nil {
		p.t.Fatal(err)
	}
	if err := n.Service.PutBucketVersioning(p.ctx, root, name, meta.VersioningEnabled); err != nil {
		p.t.Fatal(err)
	}
	if def != nil {
		if err := n.Service.PutBucketEncryption(p.ctx, root, name, def); err != nil {
			p.t.Fatal(err)
		}
	}
	return name
}

// recorder is a TCP proxy on loopback that keeps every byte sent to the
// destination.
type recorder struct {
	addr string
	// down drops every new connection at once: the destination is
	// unreachable (setDown also cuts the open ones).
	down  atomic.Bool
	mu    sync.Mutex
	seen  bytes.Buffer
	conns map[net.Conn]bool
}

// setDown makes the destination unreachable (or reachable again).
func (r *recorder) setDown(down bool) {
	r.down.Store(down)
	if !down {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.Close()
	}
}

func startRecorder(t *testing.T, target string) *recorder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{addr: ln.Addr().String()}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c, target)
		}
	}()
	return r
}

func (r *recorder) serve(c net.Conn, target string) {
	defer c.Close()
	if r.down.Load() {
		return
	}
	r.mu.Lock()
	if r.conns == nil {
		r.conns = map[net.Conn]bool{}
	}
	r.conns[c] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
	}()
	d, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer d.Close()
	go io.Copy(c, d)
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			r.mu.Lock()
			r.seen.Write(buf[:n])
			r.mu.Unlock()
			if _, werr := d.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.seen.Bytes())
}

// canaryBody is an object whose every 64 bytes carry a canary.
func canaryBody(n int) ([]byte, []byte) {
	var c [8]byte
	rand.Read(c[:])
	canary := []byte(fmt.Sprintf("CANARY-%x-", c))
	b := bytes.Repeat(canary, n/len(canary)+1)
	return b[:n], canary
}

// mode is how a source object is written.
type mode struct {
	name string
	put  func(in *s3.PutObjectInput)
	// sm4: the source bucket's default is SSE-S3 with SM4 data.
	sm4 bool
}

func customerKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func ssec(in *s3.PutObjectInput, key []byte) {
	sum := md5.Sum(key)
	in.SSECustomerAlgorithm = aws.String("AES256")
	in.SSECustomerKey = aws.String(base64.StdEncoding.EncodeToString(key))
	in.SSECustomerKeyMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
}

// destination defaults under test.
var defaults = []struct {
	name string
	def  *sse.Config
}{
	{"no default", nil},
	{"default SSE-KMS", &sse.Config{Mode: sse.KMS, KeyID: "dst-default"}},
	{"default SSE-S3 SM4", &sse.Config{Mode: sse.Managed, Algorithm: sse.SM4}},
}

// want is the replica's expected encryption record.
type want struct {
	mode, alg, keyID string
	header           types.ServerSideEncryption
}

// expect applies the seed's rules: a plaintext source takes the
// destination default; an encrypted one keeps its mode and algorithm.
func expect(srcMode string, def *sse.Config) want {
	switch srcMode {
	case "plaintext":
		switch {
		case def == nil:
			return want{}
		case def.Mode == sse.KMS:
			return want{mode: "kms", alg: "AES256", keyID: "dst-default", header: types.ServerSideEncryptionAwsKms}
		default:
			return want{mode: "managed", alg: def.Algorithm, header: types.ServerSideEncryptionAes256}
		}
	case "SSE-S3":
		return want{mode: "managed", alg: "AES256", header: types.ServerSideEncryptionAes256}
	case "SM4":
		return want{mode: "managed", alg: "SM4", header: types.ServerSideEncryptionAes256}
	case "SSE-KMS":
		return want{mode: "kms", alg: "AES256", keyID: "replica-key", header: types.ServerSideEncryptionAwsKms}
	case "SSE-C":
		return want{mode: "customer", alg: "AES256"}
	}
	panic(srcMode)
}

var rule = &replication.Rule{ID: "r", Enabled: true, SSEKMSEncrypted: true, ReplicaKMSKeyID: "replica-key"}

// TestReplicaEncryption replicates every source mode to a local and a
// remote bucket with each destination default, then checks the replica's
// bytes, its encryption through the SDK and in the raw record, its version
// ID, metadata and tags, and (SSE-C) that only the customer key opens it.
func TestReplicaEncryption(t *testing.T) {
	p := newPair(t)
	ckey := customerKey()
	modes := []mode{
		{name: "plaintext", put: func(*s3.PutObjectInput) {}},
		{name: "SSE-S3", put: func(in *s3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAes256 }},
		{name: "SSE-KMS", put: func(in *s3.PutObjectInput) {
			in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String("key-1")
		}},
		{name: "SSE-C", put: func(in *s3.PutObjectInput) { ssec(in, ckey) }},
		{name: "SM4", put: func(*s3.PutObjectInput) {}, sm4: true},
	}
	for _, where := range []string{"local", "remote"} {
		for _, m := range modes {
			for _, d := range defaults {
				t.Run(where+"/"+m.name+"/"+d.name, func(t *testing.T) {
					p.replicateAndCheck(t, where, m, d.def, ckey)
				})
			}
		}
	}
}

func (p *pair) replicateAndCheck(t *testing.T, where string, m mode, def *sse.Config, ckey []byte) {
	ctx := p.ctx
	var srcDef *sse.Config
	if m.sm4 {
		srcDef = &sse.Config{Mode: sse.Managed, Algorithm: sse.SM4}
	}
	srcBucket := p.bucket(p.src, srcDef)
	dstNode, dc, dest := p.src, p.sc, replication.Destination{}
	if where == "remote" {
		dstNode, dc, dest.Remote = p.dst, p.dc, "dr"
	}
	dest.Bucket = p.bucket(dstNode, def)
	body, canary := canaryBody(300 << 10)
	in := &s3.PutObjectInput{
		Bucket: aws.String(srcBucket), Key: aws.String("dir/obj ü"), Body: bytes.NewReader(body),
		ContentType: aws.String("text/x-canary"), Metadata: map[string]string{"color": "blue"},
		Tagging: aws.String("team=vault"),
	}
	m.put(in)
	put, err := p.sc.PutObject(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var cspec *sse.Spec
	if m.name == "SSE-C" {
		sum := md5.Sum(ckey)
		cspec = &sse.Spec{Mode: sse.Customer, Algorithm: sse.AES256, CustomerKey: ckey, CustomerKeyMD5: base64.StdEncoding.EncodeToString(sum[:])}
	}
	srcObj, _, err := p.src.Service.HeadObject(ctx, root, service.GetObjectInput{Bucket: srcBucket, Key: "dir/obj ü", SSE: cspec})
	if err != nil {
		t.Fatal(err)
	}
	target, err := p.src.Service.ReplicaTarget(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	before := len(p.wire.bytes())
	n, err := target.PutReplica(ctx, srcObj, rule)
	if err != nil {
		t.Fatalf("PutReplica: %v", err)
	}
	if n != int64(len(body)) {
		t.Errorf("PutReplica moved %d bytes, want %d", n, len(body))
	}
	w := expect(m.name, def)

	// Raw record.
	rec, _, err := dstNode.Service.HeadObject(ctx, root, service.GetObjectInput{Bucket: dest.Bucket, Key: "dir/obj ü", VersionID: aws.ToString(put.VersionId), SSE: cspec})
	if err != nil {
		t.Fatalf("replica: %v", err)
	}
	if rec.ReplicationStatus != replication.StatusReplica || rec.VersionID != aws.ToString(put.VersionId) {
		t.Errorf("replica status %q version %q, want REPLICA %q", rec.ReplicationStatus, rec.VersionID, aws.ToString(put.VersionId))
	}
	var got want
	if e := rec.Encryption; e != nil {
		got = want{mode: e.Mode, alg: e.Algorithm}
		if e.Mode == "kms" {
			got.keyID = e.KeyID
		}
	}
	w2 := w
	w2.header = ""
	if got != w2 {
		t.Errorf("replica encryption %+v, want %+v", got, w2)
	}
	if m.name == "SSE-C" && (!bytes.Equal(rec.Encryption.Salt, srcObj.Encryption.Salt) || !bytes.Equal(rec.Encryption.WrappedKey, srcObj.Encryption.WrappedKey)) {
		t.Error("SSE-C replica does not keep the customer-key-wrapped object key")
	}
	if rec.UserMeta["color"] != "blue" || rec.Headers.ContentType != "text/x-canary" || len(rec.Tags) != 1 || rec.Tags[0] != (meta.Tag{Key: "team", Value: "vault"}) {
		t.Errorf("replica metadata %v %q tags %v", rec.UserMeta, rec.Headers.ContentType, rec.Tags)
	}

	// Through the SDK.
	gin := &s3.GetObjectInput{Bucket: aws.String(dest.Bucket), Key: aws.String("dir/obj ü"), VersionId: put.VersionId}
	if m.name == "SSE-C" {
		sum := md5.Sum(ckey)
		gin.SSECustomerAlgorithm, gin.SSECustomerKey = aws.String("AES256"), aws.String(base64.StdEncoding.EncodeToString(ckey))
		gin.SSECustomerKeyMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
	}
	out, err := dc.GetObject(ctx, gin)
	if err != nil {
		t.Fatalf("GET replica: %v", err)
	}
	data, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(data, body) {
		t.Fatalf("replica bytes differ (%d bytes, err %v)", len(data), err)
	}
	if out.ServerSideEncryption != w.header {
		t.Errorf("x-amz-server-side-encryption %q, want %q", out.ServerSideEncryption, w.header)
	}
	if w.keyID != "" && !strings.HasSuffix(aws.ToString(out.SSEKMSKeyId), w.keyID) {
		t.Errorf("KMS key id %q, want %q", aws.ToString(out.SSEKMSKeyId), w.keyID)
	}
	if m.name == "SSE-C" {
		if aws.ToString(out.SSECustomerAlgorithm) != "AES256" {
			t.Errorf("SSE-C algorithm header %q", aws.ToString(out.SSECustomerAlgorithm))
		}
		other := customerKey()
		sum := md5.Sum(other)
		gin.SSECustomerKey = aws.String(base64.StdEncoding.EncodeToString(other))
		gin.SSECustomerKeyMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
		_, err := dc.GetObject(ctx, gin)
		if code := apiCode(err); code != "AccessDenied" {
			t.Errorf("SSE-C replica with another key: %v, want AccessDenied", err)
		}
		gin.SSECustomerAlgorithm, gin.SSECustomerKey, gin.SSECustomerKeyMD5 = nil, nil, nil
		_, err = dc.GetObject(ctx, gin)
		if code := apiCode(err); code != "InvalidRequest" {
			t.Errorf("SSE-C replica without a key: %v, want InvalidRequest", err)
		}
	}

	if where == "remote" {
		wire := p.wire.bytes()[before:]
		if !bytes.Contains(wire, []byte("x-strongroom-replica")) || len(wire) < len(body) {
			t.Fatalf("the recorder saw no replica transfer (%d bytes)", len(wire))
		}
		if bytes.Contains(wire, canary) {
			t.Error("plaintext canary on the wire between deployments")
		}
		for _, k := range objectKeys(t, p, srcObj, rec) {
			if bytes.Contains(wire, k) {
				t.Error("an object key on the wire between deployments")
			}
		}
	}

	// Replicating the same version again changes nothing.
	if _, err := target.PutReplica(ctx, srcObj, rule); err != nil {
		t.Fatalf("second PutReplica: %v", err)
	}
	if n := countVersions(t, dstNode, dest.Bucket); n != 1 {
		t.Errorf("%d versions at the destination after replicating one twice, want 1", n)
	}
}

// objectKeys recovers the object keys of the source and the replica (KMS
// wrapped) so the wire can be searched for them.
func objectKeys(t *testing.T, p *pair, src, rep *meta.Object) [][]byte {
	var keys [][]byte
	for _, x := range []struct {
		n *testnode.Node
		o *meta.Object
	}{{p.src, src}, {p.dst, rep}} {
		e := x.o.Encryption
		if e == nil || e.Mode == "customer" || e.WrappedBucketKey != "" {
			continue
		}
		k, err := x.n.Keyring.Decrypt(p.ctx, e.WrappedKey, map[string]string{"aws:s3:arn": "arn:aws:s3:::" + x.o.Bucket + "/" + x.o.Key})
		if err != nil {
			t.Fatalf("unwrapping an object key for the wire scan: %v", err)
		}
		keys = append(keys, k)
	}
	return keys
}

func countVersions(t *testing.T, n *testnode.Node, bucket string) int {
	res, err := n.Service.ListObjectVersions(context.Background(), root, service.ListVersionsInput{Bucket: bucket, MaxKeys: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Versions)
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestReplicaErrors: a destination that is down is worth retrying; a
// missing destination bucket, an SSE-KMS object the rule does not
// replicate, and an unknown remote are not.
func TestReplicaErrors(t *testing.T) {
	p := newPair(t)
	ctx := p.ctx
	srcBucket := p.bucket(p.src, nil)
	put := func(key string, kms bool) *meta.Object {
		in := &s3.PutObjectInput{Bucket: aws.String(srcBucket), Key: aws.String(key), Body: strings.NewReader("data")}
		if kms {
			in.ServerSideEncryption, in.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String("key-1")
		}
		if _, err := p.sc.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
		o, _, err := p.src.Service.HeadObject(ctx, root, service.GetObjectInput{Bucket: srcBucket, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	plain, kmsObj := put("plain", false), put("kms", true)
	dstBucket := p.bucket(p.dst, nil)

	// Down: a closed port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	downSvc := testnode.Start(t, testnode.Options{})
	addRemotes(t, downSvc, remote.Remote{Name: "down", URL: "http://" + down, AccessKey: "a", SecretKey: "b"})

	tests := []struct {
		name      string
		svc       *service.Service
		dest      replication.Destination
		obj       *meta.Object
		rule      *replication.Rule
		permanent bool
	}{
		{"destination down", downSvc.Service, replication.Destination{Bucket: dstBucket, Remote: "down"}, nil, rule, false},
		{"no such remote bucket", p.src.Service, replication.Destination{Bucket: "missing-bucket", Remote: "dr"}, plain, rule, true},
		{"no such local bucket", p.src.Service, replication.Destination{Bucket: "missing-bucket"}, plain, rule, true},
		{"SSE-KMS without SseKmsEncryptedObjects (remote)", p.src.Service, replication.Destination{Bucket: dstBucket, Remote: "dr"}, kmsObj, &replication.Rule{ID: "r", Enabled: true}, true},
		{"SSE-KMS without ReplicaKmsKeyID (local)", p.src.Service, replication.Destination{Bucket: dstBucket}, kmsObj, &replication.Rule{ID: "r", Enabled: true, SSEKMSEncrypted: true}, true},
		{"unknown remote", p.src.Service, replication.Destination{Bucket: dstBucket, Remote: "nowhere"}, plain, rule, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := tc.obj
			if obj == nil { // the down node's own object
				b := fmt.Sprintf("down-%d", uniq.Add(1))
				if _, err := tc.svc.CreateBucket(ctx, root, b, "", ""); err != nil {
					t.Fatal(err)
				}
				if _, err := tc.svc.PutObject(ctx, root, service.PutObjectInput{Bucket: b, Key: "k", Body: service.Body{Reader: strings.NewReader("x"), Size: 1}}); err != nil {
					t.Fatal(err)
				}
				if obj, _, err = tc.svc.HeadObject(ctx, root, service.GetObjectInput{Bucket: b, Key: "k"}); err != nil {
					t.Fatal(err)
				}
			}
			target, err := tc.svc.ReplicaTarget(ctx, tc.dest)
			if err == nil {
				_, err = target.PutReplica(ctx, obj, tc.rule)
			}
			if err == nil {
				t.Fatal("replicated; want an error")
			}
			if got := errors.Is(err, replication.ErrPermanent); got != tc.permanent {
				t.Errorf("error %v: permanent %v, want %v", err, got, tc.permanent)
			}
		})
	}
}

// TestReplicaDeleteMarker replicates a delete marker, locally and to the
// remote, keeping its version ID; replicating it twice leaves one marker.
func TestReplicaDeleteMarker(t *testing.T) {
	p := newPair(t)
	ctx := p.ctx
	srcBucket := p.bucket(p.src, nil)
	if _, err := p.sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(srcBucket), Key: aws.String("k"), Body: strings.NewReader("v1")}); err != nil {
		t.Fatal(err)
	}
	obj, _, err := p.src.Service.HeadObject(ctx, root, service.GetObjectInput{Bucket: srcBucket, Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	del, err := p.sc.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(srcBucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	marker := &meta.Object{Bucket: srcBucket, Key: "k", VersionID: aws.ToString(del.VersionId), DeleteMarker: true}
	for _, where := range []string{"local", "remote"} {
		t.Run(where, func(t *testing.T) {
			n, c, dest := p.src, p.sc, replication.Destination{}
			if where == "remote" {
				n, c, dest.Remote = p.dst, p.dc, "dr"
			}
			dest.Bucket = p.bucket(n, nil)
			target, err := p.src.Service.ReplicaTarget(ctx, dest)
			if err != nil {
				t.Fatal(err)
			}
			// The marker arrives first, the older version after it: the
			// marker stays current.
			for range 2 {
				if err := target.PutDeleteMarker(ctx, marker, rule); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := target.PutReplica(ctx, obj, rule); err != nil {
				t.Fatal(err)
			}
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dest.Bucket), Key: aws.String("k")})
			if err == nil {
				t.Fatal("the replicated delete marker is not current")
			}
			vs, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(dest.Bucket)})
			if err != nil {
				t.Fatal(err)
			}
			if len(vs.DeleteMarkers) != 1 || aws.ToString(vs.DeleteMarkers[0].VersionId) != marker.VersionID || !aws.ToBool(vs.DeleteMarkers[0].IsLatest) {
				t.Errorf("delete markers %+v, want one current with version %q", vs.DeleteMarkers, marker.VersionID)
			}
			if len(vs.Versions) != 1 || aws.ToString(vs.Versions[0].VersionId) != obj.VersionID {
				t.Errorf("versions %+v, want %q", vs.Versions, obj.VersionID)
			}
		})
	}
}

// TestReplicaMultipartAndLock: a multipart source keeps its parts, ETag and
// checksums at the destination (local and remote, plaintext into a
// default-encrypted bucket and SSE-KMS re-wrapped), and object lock
// settings travel with the replica; a locked version cannot go to a
// bucket without object lock.
func TestReplicaMultipartAndLock(t *testing.T) {
	p := newPair(t)
	ctx := p.ctx
	const partSize = 5 << 20
	body, _ := canaryBody(2*partSize + 1000)
	until := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	lockBucket := func(c *s3.Client) string {
		name := fmt.Sprintf("lock-%d", uniq.Add(1))
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		return name
	}
	for _, kms := range []bool{false, true} {
		srcBucket := lockBucket(p.sc)
		ci := &s3.CreateMultipartUploadInput{Bucket: aws.String(srcBucket), Key: aws.String("mp"),
			ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(until)}
		if kms {
			ci.ServerSideEncryption, ci.SSEKMSKeyId = types.ServerSideEncryptionAwsKms, aws.String("key-1")
		}
		up, err := p.sc.CreateMultipartUpload(ctx, ci)
		if err != nil {
			t.Fatal(err)
		}
		var done []types.CompletedPart
		for i := 0; i*partSize < len(body); i++ {
			chunk := body[i*partSize : min(len(body), (i+1)*partSize)]
			out, err := p.sc.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(srcBucket), Key: aws.String("mp"), UploadId: up.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(chunk)})
			if err != nil {
				t.Fatal(err)
			}
			done = append(done, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
		}
		if _, err := p.sc.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(srcBucket), Key: aws.String("mp"),
			UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
			t.Fatal(err)
		}
		srcObj, _, err := p.src.Service.HeadObject(ctx, root, service.GetObjectInput{Bucket: srcBucket, Key: "mp"})
		if err != nil {
			t.Fatal(err)
		}
		for _, where := range []string{"local", "remote"} {
			t.Run(fmt.Sprintf("%s/kms=%v", where, kms), func(t *testing.T) {
				n, c, dest := p.src, p.sc, replication.Destination{}
				if where == "remote" {
					n, c, dest.Remote = p.dst, p.dc, "dr"
				}
				dest.Bucket = lockBucket(c)
				if err := n.Service.PutBucketEncryption(ctx, root, dest.Bucket, &sse.Config{Mode: sse.Managed}); err != nil {
					t.Fatal(err)
				}
				target, err := p.src.Service.ReplicaTarget(ctx, dest)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := target.PutReplica(ctx, srcObj, rule); err != nil {
					t.Fatal(err)
				}
				rec, _, err := n.Service.HeadObject(ctx, root, service.GetObjectInput{Bucket: dest.Bucket, Key: "mp", VersionID: srcObj.VersionID})
				if err != nil {
					t.Fatal(err)
				}
				if rec.ETag != srcObj.ETag || len(rec.Parts) != len(srcObj.Parts) || !rec.Multipart {
					t.Errorf("replica ETag %q parts %d, want %q and %d", rec.ETag, len(rec.Parts), srcObj.ETag, len(srcObj.Parts))
				}
				if rec.LockMode != "GOVERNANCE" || rec.LockUntil == nil || !rec.LockUntil.Equal(*srcObj.LockUntil) {
					t.Errorf("replica lock %q %v, want GOVERNANCE %v", rec.LockMode, rec.LockUntil, srcObj.LockUntil)
				}
				wantMode := "managed"
				if kms {
					wantMode = "kms"
				}
				if rec.Encryption == nil || rec.Encryption.Mode != wantMode {
					t.Errorf("replica encryption %+v, want %s", rec.Encryption, wantMode)
				}
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(dest.Bucket), Key: aws.String("mp")})
				if err != nil {
					t.Fatal(err)
				}
				data, err := io.ReadAll(out.Body)
				out.Body.Close()
				if err != nil || !bytes.Equal(data, body) {
					t.Fatalf("replica bytes differ (%d, %v)", len(data), err)
				}
				// A bucket without object lock cannot take a locked version.
				plain := p.bucket(n, nil)
				target, err = p.src.Service.ReplicaTarget(ctx, replication.Destination{Bucket: plain, Remote: dest.Remote})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := target.PutReplica(ctx, srcObj, rule); !errors.Is(err, replication.ErrPermanent) {
					t.Errorf("locked version into a bucket without object lock: %v, want a permanent error", err)
				}
			})
		}
	}
}

// TestReplicaTLS replicates to a remote served over TLS with a self-signed
// certificate: accepted with the remote's Insecure flag, refused (and
// worth retrying once the operator fixes it) without.
func TestReplicaTLS(t *testing.T) {
	ctx := context.Background()
	dst := testnode.Start(t, testnode.Options{TLS: true})
	src := testnode.Start(t, testnode.Options{})
	addRemotes(t, src,
		remote.Remote{Name: "tls-insecure", URL: dst.URL, AccessKey: dst.AccessKey, SecretKey: dst.SecretKey, Insecure: true},
		remote.Remote{Name: "tls-verify", URL: dst.URL, AccessKey: dst.AccessKey, SecretKey: dst.SecretKey})
	p := &pair{t: t, ctx: ctx}
	sb, db := p.bucket(src, nil), p.bucket(dst, nil)
	obj, err := src.Service.PutObject(ctx, root, service.PutObjectInput{Bucket: sb, Key: "k", SSE: &sse.Spec{Mode: sse.Managed},
		Body: service.Body{Reader: strings.NewReader("over tls"), Size: 8}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		remote string
		ok     bool
	}{{"tls-verify", false}, {"tls-insecure", true}} {
		target, err := src.Service.ReplicaTarget(ctx, replication.Destination{Bucket: db, Remote: tc.remote})
		if err != nil {
			t.Fatal(err)
		}
		_, err = target.PutReplica(ctx, obj, rule)
		if (err == nil) != tc.ok || errors.Is(err, replication.ErrPermanent) {
			t.Errorf("%s: %v", tc.remote, err)
		}
	}
	rec, _, err := dst.Service.HeadObject(ctx, root, service.GetObjectInput{Bucket: db, Key: "k", VersionID: obj.VersionID})
	if err != nil || rec.Encryption == nil || rec.Encryption.Mode != "managed" {
		t.Fatalf("replica over TLS: %+v, %v", rec, err)
	}
}
