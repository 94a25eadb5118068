package service

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/remote"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/sealed"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// replicaClients are the HTTP clients replicas are sent with (one
// verifying certificates, one not), shared by every remote target so
// connections are reused, and the signing region each remote asked for.
type replicaClients struct {
	mu       sync.Mutex
	verify   *http.Client
	insecure *http.Client
	regions  map[string]string // remote name -> signing region
}

func (c *replicaClients) client(insecure bool) *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &c.verify
	if insecure {
		p = &c.insecure
	}
	if *p == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Expect: 100-continue: a refusal (or "exists") before the body
		// costs no transfer of it.
		tr.ExpectContinueTimeout = 5 * time.Second
		if insecure {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator's explicit --insecure
		}
		*p = &http.Client{Transport: tr}
	}
	return *p
}

func (c *replicaClients) region(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.regions[name]; r != "" {
		return r
	}
	return name // a remote is registered under its region's name
}

func (c *replicaClients) setRegion(name, region string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.regions == nil {
		c.regions = map[string]string{}
	}
	c.regions[name] = region
}

// remoteTarget sends replicas to a bucket of another deployment.
type remoteTarget struct {
	s      *Service
	r      *remote.Remote
	bucket string
	base   *url.URL
}

func newRemoteTarget(s *Service, r *remote.Remote, bucket string) (*remoteTarget, error) {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: remote %q has no usable URL", replication.ErrPermanent, r.Name)
	}
	return &remoteTarget{s: s, r: r, bucket: bucket, base: u}, nil
}

// PutReplica implements ReplicaTarget.
func (t *remoteTarget) PutReplica(ctx context.Context, src *meta.Object, rule *replication.Rule) (int64, error) {
	src, hold, err := t.s.replicaSource(ctx, src, rule)
	if err != nil {
		return 0, err
	}
	defer hold.release()
	out, err := t.s.outgoingReplica(ctx, src, rule, t.bucket, t.r.SecretKey)
	if err != nil {
		return 0, replicaErr(err)
	}
	defer clear(out.oek)
	installed, err := t.send(ctx, src.Key, src.VersionID, out)
	if err != nil || !installed {
		return 0, err
	}
	return src.Size, nil // as locally: the object's bytes, not the framing
}

// PutDeleteMarker implements ReplicaTarget.
func (t *remoteTarget) PutDeleteMarker(ctx context.Context, src *meta.Object, _ *replication.Rule) error {
	if !src.DeleteMarker {
		return fmt.Errorf("%w: %q/%q version %q is not a delete marker", replication.ErrPermanent, src.Bucket, src.Key, src.VersionID)
	}
	hdr, err := encodeReplicaHeader(&replicaHeader{Object: *markerReplica(src, src.Bucket)})
	if err != nil {
		return err
	}
	_, err = t.send(ctx, src.Key, src.VersionID, &outgoing{s: t.s, header: hdr, size: int64(len(hdr))})
	return err
}

// outgoing is one replica transfer's payload, which can be produced again
// for a retry.
type outgoing struct {
	s      *Service
	header []byte
	src    *meta.Object
	parts  []meta.Part // the source's parts
	wire   []int64     // each part's stored size on the wire
	enc    *meta.Encryption
	oek    []byte // seals plaintext parts on the fly; nil: parts go as stored
	size   int64  // decoded payload length
}

// outgoingReplica prepares the transfer of src to bucket on a deployment
// where secret is this one's credential.
func (s *Service) outgoingReplica(ctx context.Context, src *meta.Object, rule *replication.Rule, bucket, secret string) (*outgoing, error) {
	out := &outgoing{s: s, src: src, parts: src.Parts}
	h := &replicaHeader{Object: wireObject(src)}
	if rule != nil {
		h.ReplicaKMSKeyID, h.SSEKMSEncrypted = rule.ReplicaKMSKeyID, rule.SSEKMSEncrypted
	}
	var wrapWith []byte
	switch {
	case src.Encryption == nil:
		// Sealed on the fly under a fresh key: the destination applies its
		// default, and no plaintext byte travels.
		out.oek = make([]byte, sse.ObjectKeySize)
		rand.Read(out.oek)
		out.enc = &meta.Encryption{Algorithm: sse.AES256, SegmentSize: sealed.DefaultSegmentSize}
		wrapWith = out.oek
	case sse.Mode(src.Encryption.Mode) == sse.Customer:
		out.enc = src.Encryption
	default:
		sl, err := s.openSealing(ctx, src.Encryption, src.Bucket, src.Key, nil)
		if err != nil {
			return nil, err
		}
		defer clear(sl.oek)
		out.enc = src.Encryption
		wrapWith = sl.oek
	}
	if wrapWith != nil {
		k, err := wrapTransfer(secret, bucket, src.Key, src.VersionID, wrapWith, out.enc)
		if err != nil {
			return nil, err
		}
		h.Key = k
	}
	out.wire = make([]int64, len(src.Parts))
	var total int64
	for i, p := range src.Parts {
		out.wire[i] = p.StoredSize
		if src.Encryption == nil {
			out.wire[i] = sse.SealedSize(out.enc, p.Size)
		}
		h.Object.Parts[i].StoredSize = out.wire[i]
		total += out.wire[i]
	}
	hdr, err := encodeReplicaHeader(h)
	if err != nil {
		return nil, err
	}
	out.header, out.size = hdr, int64(len(hdr))+total
	return out, nil
}

// body returns a fresh reader of the decoded payload: the header, then each
// part as it goes on the wire, opened only when the read reaches it.
func (o *outgoing) body(ctx context.Context) io.ReadCloser {
	return &payloadReader{ctx: ctx, o: o, cur: io.NopCloser(strings.NewReader(string(o.header))), next: 0}
}

type payloadReader struct {
	ctx  context.Context
	o    *outgoing
	cur  io.ReadCloser
	next int // index of the next part to open
}

func (p *payloadReader) Read(b []byte) (int, error) {
	for {
		if p.cur == nil {
			if p.next >= len(p.o.parts) {
				return 0, io.EOF
			}
			rc, err := p.o.openPart(p.ctx, p.next)
			if err != nil {
				return 0, err
			}
			p.cur, p.next = rc, p.next+1
		}
		n, err := p.cur.Read(b)
		if err == io.EOF {
			p.cur.Close()
			p.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (p *payloadReader) Close() error {
	if p.cur != nil {
		p.cur.Close()
		p.cur = nil
	}
	p.next = len(p.o.parts)
	return nil
}

// openPart opens part i as it goes on the wire: its stored bytes, or, for a
// plaintext source, its plaintext sealed under the transfer's object key by
// a goroutine that ends when the part is read or the reader closed.
func (o *outgoing) openPart(ctx context.Context, i int) (io.ReadCloser, error) {
	p := &o.parts[i]
	if o.oek == nil {
		b, err := o.s.openPart(ctx, p)
		if err != nil {
			return nil, err
		}
		return readCloser{io.NewSectionReader(b, 0, p.StoredSize), b}, nil
	}
	pr, pw := io.Pipe()
	go func() {
		rd := o.s.newObjectReader(ctx, &meta.Object{Bucket: o.src.Bucket, Key: o.src.Key, Parts: []meta.Part{*p}}, nil, 0, p.Size)
		defer rd.Close()
		w, err := sse.NewWriter(pw, o.enc, o.oek, p.Number)
		if err == nil {
			bufp := copyBufs.Get().(*[]byte)
			_, err = io.CopyBuffer(onlyWriter{w}, onlyReader{rd}, *bufp)
			copyBufs.Put(bufp)
			if err == nil {
				err = w.Close()
			}
		}
		pw.CloseWithError(err)
	}()
	return pr, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// send PUTs the payload, learning the destination's signing region from
// its first refusal if it is not the remote's name. It reports whether the
// version was installed (false: the destination had it).
func (t *remoteTarget) send(ctx context.Context, key, versionID string, out *outgoing) (bool, error) {
	rc := &t.s.replicaHTTP
	for attempt := 0; ; attempt++ {
		region := rc.region(t.r.Name)
		resp, err := t.do(ctx, key, versionID, out, region)
		if err != nil {
			return false, fmt.Errorf("replica to %s: %w", t.r.Name, err)
		}
		if resp.StatusCode == http.StatusOK {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			return resp.Header.Get(ReplicaResultHeader) == "installed", nil
		}
		e := readRemoteError(resp)
		if attempt == 0 && e.Code == "AuthorizationHeaderMalformed" && e.Region != "" && e.Region != region {
			rc.setRegion(t.r.Name, e.Region)
			continue
		}
		return false, e.classify(t.r.Name)
	}
}

// remoteError is a destination's error answer.
type remoteError struct {
	Status  int    `xml:"-"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
	Region  string `xml:"Region"`
}

func readRemoteError(resp *http.Response) *remoteError {
	defer resp.Body.Close()
	e := &remoteError{}
	xml.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(e)
	e.Status = resp.StatusCode
	return e
}

// classify makes a refusal an error: client-class answers are permanent
// (no such bucket, access denied, a bad request) except timeouts and
// throttling; server-class ones are worth retrying.
func (e *remoteError) classify(name string) error {
	err := fmt.Errorf("replica to %s: %d %s: %s", name, e.Status, e.Code, e.Message)
	switch {
	case e.Status >= 500, e.Status == http.StatusRequestTimeout, e.Status == http.StatusTooManyRequests,
		e.Code == "RequestTimeout", e.Code == "SlowDown":
		return err
	}
	return fmt.Errorf("%w: %w", replication.ErrPermanent, err)
}

// chunkSize is the aws-chunked chunk of a transfer.
const chunkSize = 64 << 10

// do makes one signed PUT of the payload.
func (t *remoteTarget) do(ctx context.Context, key, versionID string, out *outgoing, region string) (*http.Response, error) {
	u := *t.base
	raw := strings.TrimSuffix(u.EscapedPath(), "/") + "/" + s3Escape(t.bucket) + "/" + s3Escape(key)
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/")+"/"+t.bucket+"/"+key, raw
	q := url.Values{ReplicaQuery: {""}}
	if versionID != "" {
		q.Set("versionId", versionID)
	}
	u.RawQuery = q.Encode()
	body := out.body(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), nil)
	if err != nil {
		body.Close()
		return nil, err
	}
	req.URL = &u
	now := time.Now().UTC()
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.FormatInt(out.size, 10))
	req.Header.Set("X-Amz-Content-Sha256", streamingPayload)
	req.Header.Set("Expect", "100-continue")
	req.ContentLength = chunkedLength(out.size)
	creds := aws.Credentials{AccessKeyID: t.r.AccessKey, SecretAccessKey: t.r.SecretKey}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(ctx, creds, req, streamingPayload, "s3", region, now); err != nil {
		body.Close()
		return nil, err
	}
	seed := req.Header.Get("Authorization")
	i := strings.LastIndex(seed, "Signature=")
	if i < 0 {
		body.Close()
		return nil, errors.New("signing the replica request: no signature")
	}
	req.Body = &chunkSigner{
		src: body, key: signingKey(t.r.SecretKey, now, region), prev: seed[i+len("Signature="):],
		date: now.Format("20060102T150405Z"), scope: now.Format("20060102") + "/" + region + "/s3/aws4_request",
		buf: make([]byte, chunkSize),
	}
	req.GetBody = nil
	return t.s.replicaHTTP.client(t.r.Insecure).Do(req)
}

const streamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

// chunkedLength is the aws-chunked length of n payload bytes cut into
// chunkSize chunks plus the final empty one.
func chunkedLength(n int64) int64 {
	frame := func(size int64) int64 {
		return int64(len(strconv.FormatInt(size, 16))) + int64(len(";chunk-signature=")) + 64 + 2 + size + 2
	}
	full := n / chunkSize
	l := full*frame(chunkSize) + frame(0)
	if r := n % chunkSize; r > 0 {
		l += frame(r)
	}
	return l
}

// s3Escape escapes a path segment as S3 canonicalizes it: every byte but
// the unreserved ones and '/'.
func s3Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// signingKey is SigV4's derived key for the s3 service.
func signingKey(secret string, t time.Time, region string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), t.Format("20060102"))
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, "s3")
	return hmacSHA256(k, "aws4_request")
}

var emptySHA256 = hex.EncodeToString(sha256.New().Sum(nil))

// chunkSigner frames a payload as aws-chunked, each chunk signed with the
// previous signature (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), ending with the
// signed empty chunk.
type chunkSigner struct {
	src         io.ReadCloser
	key         []byte
	prev        string
	date, scope string
	buf         []byte
	pending     []byte // framed bytes not yet returned
	done        bool
}

func (c *chunkSigner) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.done {
			return 0, io.EOF
		}
		n, err := io.ReadFull(c.src, c.buf)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return 0, err
		}
		if n > 0 {
			c.frame(c.buf[:n])
		}
		if n < len(c.buf) {
			c.frame(nil)
			c.done = true
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

func (c *chunkSigner) frame(data []byte) {
	sum := sha256.Sum256(data)
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.date + "\n" + c.scope + "\n" + c.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(sum[:])
	c.prev = hex.EncodeToString(hmacSHA256(c.key, sts))
	c.pending = append(c.pending, strconv.FormatInt(int64(len(data)), 16)+";chunk-signature="+c.prev+"\r\n"...)
	c.pending = append(c.pending, data...)
	c.pending = append(c.pending, "\r\n"...)
}

func (c *chunkSigner) Close() error { return c.src.Close() }
