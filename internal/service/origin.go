package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/origin"
)

// Back-to-source actions. The website ones are S3's; COS's origin
// configuration has no S3 action, so it gets its own names.
const (
	ActGetBucketWebsite    = "s3:GetBucketWebsite"
	ActPutBucketWebsite    = "s3:PutBucketWebsite"
	ActDeleteBucketWebsite = "s3:DeleteBucketWebsite"
	ActGetBucketOrigin     = "s3:GetBucketOrigin"
	ActPutBucketOrigin     = "s3:PutBucketOrigin"
	ActDeleteBucketOrigin  = "s3:DeleteBucketOrigin"
)

// originConfigError maps a document's validation error to the canonical
// one.
func originConfigError(err error) error {
	switch {
	case errors.Is(err, origin.ErrMalformed):
		return errs.MalformedXML
	case errors.Is(err, origin.ErrInvalid):
		return errs.InvalidArgument.WithMessage(err.Error())
	}
	return err
}

// PutBucketOrigin stores a bucket's origin rules (COS ?origin, the S3
// extension ?x-strongroom-origin).
func (s *Service) PutBucketOrigin(ctx context.Context, p Principal, bucket string, c *origin.Config) error {
	if err := origin.Validate(c.Rules); err != nil {
		return originConfigError(err)
	}
	doc, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.setBucketConfig(ctx, p, ActPutBucketOrigin, bucket, origin.ConfigName, doc)
}

// GetBucketOrigin returns a bucket's origin rules, or
// NoSuchOriginConfiguration.
func (s *Service) GetBucketOrigin(ctx context.Context, p Principal, bucket string) (*origin.Config, error) {
	doc, err := s.bucketConfig(ctx, p, ActGetBucketOrigin, bucket, origin.ConfigName)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, errs.NoSuchOriginConfiguration
	}
	var c origin.Config
	if err := json.Unmarshal(doc, &c); err != nil {
		return nil, fmt.Errorf("bucket %s: origin configuration: %w", bucket, err)
	}
	return &c, nil
}

// DeleteBucketOrigin removes a bucket's origin rules.
func (s *Service) DeleteBucketOrigin(ctx context.Context, p Principal, bucket string) error {
	return s.setBucketConfig(ctx, p, ActDeleteBucketOrigin, bucket, origin.ConfigName, nil)
}

// PutBucketWebsite stores a bucket's website configuration (OSS), whose
// mirror rules pull missed keys.
func (s *Service) PutBucketWebsite(ctx context.Context, p Principal, bucket string, w *origin.Website) error {
	if err := origin.Validate(w.Rules); err != nil {
		return originConfigError(err)
	}
	doc, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return s.setBucketConfig(ctx, p, ActPutBucketWebsite, bucket, origin.WebsiteConfigName, doc)
}

// GetBucketWebsite returns a bucket's website configuration, or
// NoSuchWebsiteConfiguration.
func (s *Service) GetBucketWebsite(ctx context.Context, p Principal, bucket string) (*origin.Website, error) {
	doc, err := s.bucketConfig(ctx, p, ActGetBucketWebsite, bucket, origin.WebsiteConfigName)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, errs.NoSuchWebsiteConfiguration
	}
	var w origin.Website
	if err := json.Unmarshal(doc, &w); err != nil {
		return nil, fmt.Errorf("bucket %s: website configuration: %w", bucket, err)
	}
	return &w, nil
}

// DeleteBucketWebsite removes a bucket's website configuration.
func (s *Service) DeleteBucketWebsite(ctx context.Context, p Principal, bucket string) error {
	return s.setBucketConfig(ctx, p, ActDeleteBucketWebsite, bucket, origin.WebsiteConfigName, nil)
}

// originRules returns the rules of both configurations: the origin
// configuration's, then the website's.
func originRules(b *meta.Bucket) []origin.Rule {
	var rules []origin.Rule
	if doc := b.Config[origin.ConfigName]; doc != nil {
		var c origin.Config
		if json.Unmarshal(doc, &c) == nil {
			rules = append(rules, c.Rules...)
		}
	}
	if doc := b.Config[origin.WebsiteConfigName]; doc != nil {
		var w origin.Website
		if json.Unmarshal(doc, &w) == nil {
			rules = append(rules, w.Rules...)
		}
	}
	return rules
}

// ErrNoOrigin is Pull's answer when no origin rule applies: the miss
// stands.
var ErrNoOrigin = errors.New("no origin rule applies")

// PullInput is a read that missed, to be retried at the origin.
type PullInput struct {
	Get GetObjectInput
	// Query is the request's query without signature and sub-resource
	// parameters (passed on when a rule says so); Header its headers.
	Query  string
	Header http.Header
	HTTPS  bool // the request came over TLS (Protocol FOLLOW)
	// Head: answer with the stored object's metadata (the object is
	// pulled and stored in full first).
	Head bool
}

// PullOutput is a pull's outcome: a redirect, an open body (GET) or the
// stored object (HEAD).
type PullOutput struct {
	Redirect     string
	RedirectCode int
	Body         *ObjectBody
	Object       *meta.Object
}

// Pull answers a read of a missing key from the bucket's origin rules:
// Redirect rules answer a redirect; Proxy rules stream the origin's
// answer without storing it; Mirror rules stream it while storing it
// under the bucket's default encryption. Concurrent misses of one key
// fetch once: the others wait and read the stored object. The caller has
// already been authorized to read the key (the miss was its answer).
func (s *Service) Pull(ctx context.Context, p Principal, in PullInput) (*PullOutput, error) {
	if s.origin == nil || in.Get.VersionID != "" {
		return nil, ErrNoOrigin
	}
	b, err := s.meta.GetBucket(ctx, in.Get.Bucket)
	if err != nil {
		return nil, mapMeta(err)
	}
	r := origin.Match(originRules(b), in.Get.Key)
	if r == nil {
		return nil, ErrNoOrigin
	}
	u, err := r.Target(in.Get.Key, in.Query, in.HTTPS)
	if err != nil {
		return nil, fmt.Errorf("origin URL: %w", err)
	}
	if r.Type == origin.Redirect {
		return &PullOutput{Redirect: u.String(), RedirectCode: r.Status()}, nil
	}
	hdr := r.RequestHeaders(in.Header)
	// The fetch outlives the client's request: a client that goes away
	// mid-body does not cut the store short.
	fctx := context.WithoutCancel(ctx)
	// A Mirror rule that must not copy the origin's data (COS
	// CopyOriginData false) answers as a proxy: nothing is stored.
	if r.Type == origin.Proxy || (r.Type == origin.Mirror && r.CopyOriginData != nil && !*r.CopyOriginData) {
		resp, err := s.fetchOrigin(fctx, r, u, hdr)
		if err != nil {
			return s.originOutcome(b.Name, r, u, err)
		}
		if resp.ContentLength < 0 {
			// Nothing to store the body in first: the answer needs its
			// length up front (OBS likewise requires it of origins).
			resp.Body.Close()
			return nil, errs.FailedDependency.WithMessage("The origin must send Content-Length.")
		}
		o := s.pulledObject(b, in.Get.Key, resp, nil)
		if in.Head {
			resp.Body.Close()
			return &PullOutput{Object: o}, nil
		}
		return &PullOutput{Body: &ObjectBody{Object: o, Length: resp.ContentLength, Body: resp.Body}}, nil
	}
	stream := !in.Head && in.Get.Range == nil && in.Get.PartNumber == 0 && in.Get.SSE == nil && in.Get.Conditions == (Conditions{})
	fkey := b.Name + "\x00" + in.Get.Key
	f, leader := s.flights.join(fkey)
	if !leader {
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.err != nil {
			return s.originOutcome(b.Name, r, u, f.err)
		}
		return s.readPulled(ctx, p, in)
	}
	out, err := s.pullMirror(fctx, b, r, u, hdr, in.Get.Key, stream, func(err error) { s.flights.finish(fkey, f, err) })
	if err != nil || out != nil {
		return out, err
	}
	return s.readPulled(ctx, p, in)
}

// pullMirror fetches and stores key; done is called once the store has
// ended (or failed). With stream it returns the client's body, a tee of
// the origin's; otherwise (nil, nil) once the object is stored.
func (s *Service) pullMirror(ctx context.Context, b *meta.Bucket, r *origin.Rule, u *url.URL, hdr http.Header, key string, stream bool, done func(error)) (*PullOutput, error) {
	resp, err := s.fetchOrigin(ctx, r, u, hdr)
	if err != nil {
		done(err)
		return s.originOutcome(b.Name, r, u, err)
	}
	sl, err := s.newSealing(ctx, b, key, nil) // the bucket default, per the seed
	if err != nil {
		resp.Body.Close()
		done(err)
		return nil, err
	}
	o := s.pulledObject(b, key, resp, sl)
	body := Body{Reader: resp.Body, Size: resp.ContentLength}
	if v := resp.Header.Get("Content-MD5"); r.CheckMD5 && v != "" {
		if body.ContentMD5, err = DecodeContentMD5(v); err != nil {
			resp.Body.Close()
			done(err)
			return nil, errs.FailedDependency.WithMessage("The origin sent an invalid Content-MD5.")
		}
	}
	if !stream || resp.ContentLength < 0 {
		err := s.storePulled(ctx, b, o, sl, body)
		resp.Body.Close()
		done(err)
		if err != nil {
			return s.originOutcome(b.Name, r, u, err)
		}
		return nil, nil
	}
	pr, pw := io.Pipe()
	t := &teeBody{src: resp.Body, pw: pw, stored: make(chan struct{})}
	go func() {
		in := body
		in.Reader = pr
		err := s.storePulled(ctx, b, o, sl, in)
		pr.CloseWithError(errors.Join(err, errStoreEnded)) // a write after the end fails
		if err != nil {
			s.log.Warn("origin pull not stored", "bucket", b.Name, "host", u.Host, "err", err)
		}
		done(err)
		close(t.stored)
	}()
	return &PullOutput{Body: &ObjectBody{Object: o, Length: resp.ContentLength, Body: t}}, nil
}

var errStoreEnded = errors.New("origin store ended")

// storePulled writes a pulled object unless the key was written
// meanwhile (If-None-Match: *).
func (s *Service) storePulled(ctx context.Context, b *meta.Bucket, o *meta.Object, sl *sealing, body Body) error {
	cond, err := s.writeCondition(ctx, b, o.Key, "", "*")
	if err != nil {
		return ignoreRaced(err)
	}
	// The bucket's default retention (object lock) applies as to any
	// write; with no request there is nothing to authorize.
	lock, err := s.writeLock(ctx, Principal{}, b, o.Key, nil, s.now())
	if err != nil {
		return err
	}
	w, err := s.writeBlob(ctx, body, sl, 0)
	if err != nil {
		return err
	}
	o.Lock = lock
	o.Size, o.ETag, o.Checksums, o.Parts = w.part.Size, w.etag, w.part.Checksums, []meta.Part{w.part}
	o.LastModified = s.now().UTC()
	// Like any write, a pull is queued for replication where a rule
	// applies.
	return ignoreRaced(s.installIn(ctx, b, o, cond))
}

// ignoreRaced treats a write that lost to a client's write of the key as
// done: the client's object stands.
func ignoreRaced(err error) error {
	if errors.Is(err, errs.PreconditionFailed) || errors.Is(err, errs.ConditionalRequestConflict) {
		return nil
	}
	return err
}

// pulledObject is the object a pull answers with and stores: its
// metadata from the origin's headers (the standard content headers, as
// OSS and COS keep them, and an S3-like origin's user metadata).
func (s *Service) pulledObject(b *meta.Bucket, key string, resp *origin.Response, sl *sealing) *meta.Object {
	h := resp.Header
	return &meta.Object{
		Bucket:       b.Name,
		Key:          key,
		Size:         max(resp.ContentLength, 0),
		Encryption:   sl.encryption(),
		LastModified: s.now().UTC(),
		Owner:        b.Owner,
		Headers: meta.Headers{
			ContentType:        h.Get("Content-Type"),
			ContentEncoding:    h.Get("Content-Encoding"),
			ContentDisposition: h.Get("Content-Disposition"),
			ContentLanguage:    h.Get("Content-Language"),
			CacheControl:       h.Get("Cache-Control"),
			Expires:            h.Get("Expires"),
		},
		UserMeta: originUserMeta(h),
	}
}

// originUserMetaPrefixes are the user-metadata headers of the origins a
// bucket mirrors most often: another S3, OSS, COS or OBS bucket.
var originUserMetaPrefixes = []string{"X-Amz-Meta-", "X-Oss-Meta-", "X-Cos-Meta-", "X-Obs-Meta-"}

// originUserMeta is an origin's user metadata, kept on the pulled object
// as the vendors keep it; none when it breaks the user-metadata limits
// (the object is stored all the same).
func originUserMeta(h http.Header) map[string]string {
	var um map[string]string
	for name, vs := range h {
		for _, p := range originUserMetaPrefixes {
			if len(name) > len(p) && strings.EqualFold(name[:len(p)], p) && len(vs) > 0 {
				if um == nil {
					um = map[string]string{}
				}
				um[strings.ToLower(name[len(p):])] = vs[0]
			}
		}
	}
	if validUserMeta(um) != nil {
		return nil
	}
	return um
}

// fetchOrigin fetches u, failing over to the rule's standby hosts (COS
// StandbyHostName_N, in order) when the primary cannot be reached or
// answers a server error; the origin's own 4xx (a 404 above all) is its
// answer and is not retried elsewhere.
func (s *Service) fetchOrigin(ctx context.Context, r *origin.Rule, u *url.URL, hdr http.Header) (*origin.Response, error) {
	resp, err := s.origin.Get(ctx, r, u, hdr)
	for _, host := range r.Standby {
		var se *origin.StatusError
		var re *origin.RedirectError // the origin's own answer too
		if err == nil || (errors.As(err, &se) && se.Code < 500) || errors.As(err, &re) || errors.Is(err, origin.ErrTooLarge) || errors.Is(err, origin.ErrRefused) {
			break
		}
		next := *u
		next.Host = host
		resp, err = s.origin.Get(ctx, r, &next, hdr.Clone())
	}
	return resp, err
}

// readPulled answers the original read from the stored object.
func (s *Service) readPulled(ctx context.Context, p Principal, in PullInput) (*PullOutput, error) {
	if in.Head {
		o, _, err := s.HeadObject(ctx, p, in.Get)
		if err != nil {
			return nil, err
		}
		return &PullOutput{Object: o}, nil
	}
	ob, err := s.GetObject(ctx, p, in.Get)
	if err != nil {
		return nil, err
	}
	return &PullOutput{Body: ob}, nil
}

// originOutcome maps a failed pull to the client's answer: an origin
// redirect not followed goes to the client; an origin 404 stays a 404
// (NoSuchKey); anything else is 424 FailedDependency, as COS answers.
// The log names the origin's host only (its URL may carry the client's
// query).
func (s *Service) originOutcome(bucket string, r *origin.Rule, u *url.URL, err error) (*PullOutput, error) {
	var re *origin.RedirectError
	if errors.As(err, &re) {
		return &PullOutput{Redirect: re.Location, RedirectCode: re.Code}, nil
	}
	var se *origin.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		return nil, errs.NoSuchKey
	}
	switch {
	case errors.Is(err, errs.BadDigest):
		return nil, errs.FailedDependency.WithMessage("The origin's body does not match its Content-MD5.")
	case errors.Is(err, errs.IncompleteBody):
		return nil, errs.FailedDependency.WithMessage("The origin's body ended early.")
	case errors.Is(err, errs.EntityTooLarge):
		return nil, errs.FailedDependency.WithMessage("The origin's object exceeds the size limit.")
	case errs.As(err) != nil:
		return nil, err // the store's own failure (no space, ...)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // without the URL
	}
	s.log.Warn("origin pull failed", "bucket", bucket, "host", u.Host, "err", err)
	msg := "The origin could not be reached."
	switch {
	case se != nil && r.TransparentErrorCode != nil && *r.TransparentErrorCode && se.Code >= 400 && se.Code <= 599:
		// COS TransparentErrorCode: the origin's own status reaches
		// the client.
		return nil, &errs.Error{Code: transparentCode(se.Code), Status: se.Code, Message: fmt.Sprintf("The origin answered HTTP %d.", se.Code)}
	case se != nil:
		msg = fmt.Sprintf("The origin answered HTTP %d.", se.Code)
	case errors.Is(err, origin.ErrRefused):
		msg = "The origin's address is not allowed."
	case errors.Is(err, origin.ErrTooLarge):
		msg = "The origin's object exceeds the size limit."
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		msg = "The origin did not answer in time."
	}
	return nil, errs.FailedDependency.WithMessage(msg)
}

// transparentCode is the error code that goes with an origin's status
// passed through to the client.
func transparentCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return errs.InvalidRequest.Code
	case http.StatusUnauthorized, http.StatusForbidden:
		return errs.AccessDenied.Code
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	case http.StatusInternalServerError:
		return errs.InternalError.Code
	}
	return errs.FailedDependency.Code
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// teeBody is the client's body of a streamed pull: the origin's bytes,
// each also written to the store. At EOF it waits for the store to
// commit, so the object is there when the client has it all.
type teeBody struct {
	src    io.ReadCloser
	pw     *io.PipeWriter
	dead   bool // the store stopped reading: serve the client alone
	ended  bool
	stored chan struct{}
}

// Read fills p from the origin (short only at the end) and hands the
// same bytes to the store: large reads keep the pipe's hand-offs few.
func (t *teeBody) Read(p []byte) (int, error) {
	n := 0
	var err error
	for n < len(p) && err == nil {
		var m int
		m, err = t.src.Read(p[n:])
		n += m
	}
	if n > 0 && !t.dead {
		if _, werr := t.pw.Write(p[:n]); werr != nil {
			t.dead = true
		}
	}
	switch {
	case err == io.EOF:
		t.ended = true
		t.pw.Close()
		<-t.stored
	case err != nil:
		t.ended = true
		t.pw.CloseWithError(err) // nothing partial is stored
	}
	return n, err
}

// WriteTo copies the rest to w in 1 MiB reads.
func (t *teeBody) WriteTo(w io.Writer) (int64, error) {
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	var total int64
	for {
		n, err := t.Read(*bufp)
		if n > 0 {
			m, werr := w.Write((*bufp)[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Close finishes the store in the background when the client stopped
// early: the rest of the origin's body still goes to the store (bounded
// by the fetch's size and time limits).
func (t *teeBody) Close() error {
	if t.ended || t.dead {
		// Nothing left to store (or no store left to feed).
		return t.src.Close()
	}
	go func() {
		buf := make([]byte, 64<<10)
		for !t.ended && !t.dead {
			if _, err := t.Read(buf); err != nil {
				break
			}
		}
		t.src.Close()
	}()
	return nil
}

// flights makes concurrent misses of one key share one origin fetch.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done chan struct{}
	err  error
}

// join returns the key's flight in progress, or a new one led by the
// caller (leader true).
func (fs *flights) join(key string) (*flight, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.m[key]; ok {
		return f, false
	}
	if fs.m == nil {
		fs.m = make(map[string]*flight)
	}
	f := &flight{done: make(chan struct{})}
	fs.m[key] = f
	return f, true
}

// finish ends a flight with its outcome and releases its followers.
func (fs *flights) finish(key string, f *flight, err error) {
	fs.mu.Lock()
	delete(fs.m, key)
	fs.mu.Unlock()
	f.err = err
	close(f.done)
}
