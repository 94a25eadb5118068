// Package s3 is a blob store over any S3-compatible server: each blob is
// one object named by its random ID under a prefix of one bucket, so the
// server sees blob IDs and stored bytes (ciphertext once encryption is on),
// never an object name.
//
// Writes stream: a blob's first PartSize bytes are buffered and, if the blob
// ends there, sent with one PutObject; a larger blob becomes a multipart
// upload whose parts are sent as they fill (one in flight while the next
// fills), so at most two parts are held in memory. Nothing is visible until
// Commit: PutObject and CompleteMultipartUpload create the object
// atomically; Abort aborts the upload.
//
// Reads are ranged GETs whose responses are streamed: a reader keeps one
// response open and serves sequential ReadAt calls (the sealed layer reads
// a header, then segment after segment) from it, asking for windows that
// grow from 256 KiB to 64 MiB, so a whole-object read costs a handful of
// requests and a small range read one or two.
//
// Errors that say the server cannot be reached or is failing (no response,
// a timeout, 5xx, 429) wrap blob.ErrUnavailable; a missing object
// blob.ErrNotFound.
package s3

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strongroom-dev/strongroom/internal/blob"
)

const (
	// DefaultPartSize is the size of a multipart upload's parts and the
	// largest blob sent with one PutObject.
	DefaultPartSize = 8 << 20
	// minPartSize is S3's minimum for every part but the last.
	minPartSize = 5 << 20
	// maxCopySize is the largest object CopyObject copies; larger ones
	// are copied part by part (UploadPartCopy).
	maxCopySize = 5 << 30
	idLen       = 32
)

// Config says where the blobs live.
type Config struct {
	Bucket string
	// Prefix is prepended to every blob ID to make its object name (e.g.
	// "blobs/"); empty: the IDs are the names.
	Prefix   string
	Endpoint string // e.g. https://s3.example.com:9000
	Region   string // default us-east-1
	// AccessKey and SecretKey sign requests (SigV4).
	AccessKey, SecretKey string
	// Insecure skips the TLS certificate check of an https endpoint.
	Insecure bool
	// HTTPClient replaces the default client (tests).
	HTTPClient *http.Client
	// PartSize overrides DefaultPartSize (at least 5 MiB).
	PartSize int64
	// CopyPartSize overrides maxCopySize: objects larger are linked with
	// UploadPartCopy in parts of this size (tests lower it).
	CopyPartSize int64
	// MaxAttempts bounds the tries of each request (default 3, with
	// backoff of at most a second between them: a client waiting on a
	// tier that is down gets its 503 in a few seconds).
	MaxAttempts int
	// Pad rounds every blob up to a multiple of this many bytes with
	// random bytes (blob.PadQuantum for a deployment's tier, so the tier
	// sees sizes to within a segment); 0: blobs are stored exactly.
	Pad int64
}

// Store is a blob.Store on an S3 bucket, safe for concurrent use.
type Store struct {
	c        *awss3.Client
	bucket   string
	prefix   string
	partSize int64
	copyMax  int64
	pad      int64
}

var (
	_ blob.Store  = (*Store)(nil)
	_ blob.Linker = (*Store)(nil)
)

// New returns a store for cfg without contacting the server (see Check).
func New(cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blob/s3: no bucket")
	}
	if cfg.Endpoint == "" {
		return nil, errors.New("blob/s3: no endpoint")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < minPartSize {
		return nil, fmt.Errorf("blob/s3: part size %d is below S3's minimum of 5 MiB", cfg.PartSize)
	}
	if cfg.CopyPartSize == 0 {
		cfg.CopyPartSize = maxCopySize
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = newHTTPClient(cfg.Insecure)
	}
	c := awss3.New(awss3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		HTTPClient:   hc,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = cfg.MaxAttempts
			o.MaxBackoff = time.Second
		}),
		// Sealed blobs authenticate every segment; the SigV4 payload hash
		// covers the bytes on the wire. Extra CRCs would only cost CPU
		// and need trailer support some servers lack.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return &Store{c: c, bucket: cfg.Bucket, prefix: cfg.Prefix, partSize: cfg.PartSize, copyMax: cfg.CopyPartSize, pad: cfg.Pad}, nil
}

// newHTTPClient is a client with bounded connect and response-header
// waits, so a server that hangs is reported unavailable rather than
// holding requests forever.
func newHTTPClient(insecure bool) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 60 * time.Second
	t.MaxIdleConnsPerHost = 64
	t.Proxy = nil // the data tier is reached directly
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator's explicit choice (insecure=true)
	}
	return &http.Client{Transport: t}
}

// Check makes sure the bucket exists and the credentials open it.
func (s *Store) Check(ctx context.Context) error {
	if _, err := s.c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return s.fail("head bucket", "", err)
	}
	return nil
}

func (s *Store) key(id string) string { return s.prefix + id }

// Create implements blob.Store. ctx bounds the uploads of the blob's parts
// as well; Commit's own context bounds its completion.
func (s *Store) Create(ctx context.Context) (blob.Writer, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	return s.CreateAs(ctx, id)
}

// Open implements blob.Store. It asks for the blob's first bytes at once:
// the answer says whether it exists and how large it is, and the first
// read (the sealed header) is served from it.
func (s *Store) Open(ctx context.Context, id string) (blob.Reader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, fmt.Errorf("%w: %q", blob.ErrNotFound, id)
	}
	r := &reader{s: s, ctx: ctx, id: id, size: -1}
	if err := r.fetch(0); err != nil {
		return nil, err
	}
	return r, nil
}

// Delete implements blob.Store. S3 deletes a missing object without
// complaint, so a HEAD first tells a missing blob apart; a missing blob's
// unfinished upload (a writer that died) is aborted.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(id) {
		return fmt.Errorf("%w: %q", blob.ErrNotFound, id)
	}
	key := s.key(id)
	if _, err := s.c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return s.missing(ctx, id, s.fail("delete", id, err))
	}
	if _, err := s.c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return s.fail("delete", id, err)
	}
	return nil
}

// Walk implements blob.Store: fn sees every committed blob under the
// prefix, in ID order, with the time the server last modified it.
func (s *Store) Walk(ctx context.Context, fn func(id string, modTime time.Time) error) error {
	p := awss3.NewListObjectsV2Paginator(s.c, &awss3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s.fail("list", "", err)
		}
		for _, o := range page.Contents {
			id := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if !validID(id) {
				continue // not ours
			}
			if err := fn(id, aws.ToTime(o.LastModified)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Link implements blob.Linker with a server-side copy under a new ID: the
// bytes never pass through this node. Objects above the copy limit are
// copied with UploadPartCopy, part by part.
func (s *Store) Link(ctx context.Context, id string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	newID, err := newID()
	if err != nil {
		return "", err
	}
	if err := s.linkAs(ctx, id, newID); err != nil {
		return "", err
	}
	return newID, nil
}

func (s *Store) linkAs(ctx context.Context, id, newID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validID(id) {
		return fmt.Errorf("%w: %q", blob.ErrNotFound, id)
	}
	src := s.key(id)
	head, err := s.c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.bucket, Key: &src})
	if err != nil {
		return s.fail("link", id, err)
	}
	dst := s.key(newID)
	source := s.bucket + "/" + src // IDs and prefix need no escaping beyond this
	size := aws.ToInt64(head.ContentLength)
	if size <= s.copyMax {
		if _, err := s.c.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: &s.bucket, Key: &dst, CopySource: &source}); err != nil {
			return s.fail("link", id, err)
		}
		return nil
	}
	if err := s.copyParts(ctx, source, dst, size); err != nil {
		return s.fail("link", id, err)
	}
	return nil
}

// copyParts copies an object too large for CopyObject with a multipart
// upload of UploadPartCopy ranges.
func (s *Store) copyParts(ctx context.Context, source, dst string, size int64) error {
	up, err := s.c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &dst})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+s.copyMax, n+1 {
		end := min(off+s.copyMax, size) - 1
		out, err := s.c.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{
			Bucket: &s.bucket, Key: &dst, UploadId: up.UploadId, PartNumber: aws.Int32(n),
			CopySource: &source, CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
		})
		if err != nil {
			s.abortUpload(dst, up.UploadId)
			return err
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.CopyPartResult.ETag})
	}
	if _, err := s.c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &dst, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		s.abortUpload(dst, up.UploadId)
		return err
	}
	return nil
}

// abortUpload aborts a multipart upload, even when the request that
// started it was canceled (its parts would otherwise be kept, and billed,
// until a lifecycle rule removes them).
func (s *Store) abortUpload(key string, uploadID *string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.c.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: uploadID})
	return err
}

// SweepUploads aborts the multipart uploads under the prefix started
// before cutoff: blobs whose writer died before Commit or Abort (a crashed
// node). It returns how many it aborted.
func (s *Store) SweepUploads(ctx context.Context, cutoff time.Time) (int, error) {
	in := &awss3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: aws.String(s.prefix)}
	n := 0
	for {
		out, err := s.c.ListMultipartUploads(ctx, in)
		if err != nil {
			return n, s.fail("list uploads", "", err)
		}
		for _, u := range out.Uploads {
			if !validID(strings.TrimPrefix(aws.ToString(u.Key), s.prefix)) || !aws.ToTime(u.Initiated).Before(cutoff) {
				continue
			}
			if err := s.abortUpload(aws.ToString(u.Key), u.UploadId); err != nil {
				return n, s.fail("abort upload", "", err)
			}
			n++
		}
		if !aws.ToBool(out.IsTruncated) {
			return n, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// fail classifies err from an operation on blob id ("" for none) and
// wraps it with the operation and ID only (never an object name: there is
// none to leak, but the endpoint's errors may echo requests).
func (s *Store) fail(op, id string, err error) error {
	what := "blob/s3: " + op
	if id != "" {
		what += " " + id
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", what, context.Canceled)
	}
	var ae smithy.APIError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var cert *tls.CertificateVerificationError
	switch {
	case errors.As(err, &cert):
		// A configuration problem, not an outage: retrying will not help.
		return fmt.Errorf("%s: %w", what, err)
	case code == "NoSuchKey" || (code == "NotFound" && id != ""):
		return fmt.Errorf("%w: %s", blob.ErrNotFound, id)
	case status >= 500 || status == http.StatusTooManyRequests || code == "SlowDown":
		return fmt.Errorf("%s: %w: the server answered %d %s", what, blob.ErrUnavailable, status, code)
	case status == 0 && !errors.Is(err, context.DeadlineExceeded):
		// No HTTP response at all: refused, reset, timed out, DNS.
		return fmt.Errorf("%s: %w: %w", what, blob.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func newID() (string, error) {
	var b [idLen / 2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("blob/s3: random id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// validID reports whether id has the form this store generates (the fs
// store's: 128 random bits in lowercase hex).
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
