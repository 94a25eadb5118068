package httpapi

import (
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/auth"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/httpapi/postpolicy"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// Browser form uploads (POST Object): a multipart/form-data POST on a
// bucket. The fields before the file part carry what a PUT carries in
// headers (key, Content-Type, metadata, ACL, encryption) plus the policy
// and its signature; they are read into memory, bounded. The file part is
// streamed into the same PutObject a PUT uses, so authorization (bucket
// policies such as deny-unencrypted), bucket default encryption and the
// sealing are the same. Fields after the file are ignored, as S3 does.

// maxFormFields bounds the fields before the file (S3: 20 KB of form data
// and boundaries).
const maxFormFields = 20 << 10

// formReadAhead is what the multipart reader may buffer beyond the field
// it parses (its bufio size).
const formReadAhead = 4 << 10

// formHeaders are the form fields that are request headers of a PUT.
var formHeaders = map[string]bool{
	"content-type": true, "content-encoding": true, "content-disposition": true,
	"content-language": true, "cache-control": true, "expires": true, "content-md5": true,
}

var (
	errNoFile   = errs.InvalidArgument.WithMessage("POST requires exactly one file upload per request.")
	errNoKey    = errs.InvalidArgument.WithMessage("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.")
	errEmptyKey = errs.InvalidArgument.WithMessage("User key must have a length greater than 0.")
)

// isFormUpload reports whether a bucket POST is a browser form upload.
func isFormUpload(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

func (s *Server) postObject(q *request) error {
	ctx := q.r.Context()
	_, params, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	if params["boundary"] == "" {
		return errs.MalformedPOSTRequest
	}
	gate := &formGate{r: q.auth.Body, limit: maxFormFields + formReadAhead}
	fields, file, err := readFormFields(multipart.NewReader(gate, params["boundary"]))
	if err != nil {
		return err
	}
	gate.open = true
	// ${filename} is the file's name without any client-side directory.
	name := file.FileName()
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	for k, v := range fields {
		fields[k] = strings.ReplaceAll(v, "${filename}", name)
	}
	key, ok := fields["key"]
	if !ok {
		return errNoKey
	}
	if key == "" {
		return errEmptyKey
	}
	q.key = key

	minSize, maxSize, err := s.authorizeForm(q, fields)
	if err != nil {
		return err
	}

	// The fields are presented as headers to the dialect's own parsers
	// (encryption, metadata, ACL, checksums), so a form means what the
	// same PUT would.
	fq := *q
	fq.r = q.r.Clone(ctx)
	fq.r.Header = formHeader(q.d, fields)
	// Object lock and storage class fields mean what their headers mean;
	// a lock field is never dropped.
	lock, err := checkWriteHeaders(&fq)
	if err != nil {
		return err
	}
	spec, err := s.requestSSE(&fq, dialect.Write)
	if err != nil {
		return err
	}
	acl, _, err := q.d.CannedACL(fq.r.Header, true)
	if err != nil {
		return err
	}
	f := &formFile{r: file, min: minSize, max: maxSize, rest: gate}
	body, err := uploadBody(&fq, f, -1)
	if err != nil {
		return err
	}
	var tags []meta.Tag
	if doc, ok := fields["tagging"]; ok { // S3's form field: a Tagging document
		if tags, err = parseTagging([]byte(doc)); err != nil {
			return err
		}
	}
	o, err := s.svc.PutObject(ctx, q.principal, service.PutObjectInput{
		ACL: acl, Bucket: q.bucket, Key: key, Meta: objectMeta(&fq), Body: body, SSE: spec, Tags: tags, Lock: lock,
	})
	if err != nil {
		return err
	}

	h := q.w.Header()
	etag := quote(o.ETag)
	location := s.objectURL(q, key)
	h.Set("ETag", etag)
	h.Set("Location", location)
	q.d.SetUploadChecksums(h, o.Checksums)
	setSSEHeaders(q, o.Encryption, spec)
	setVersionHeader(q, "version-id", o.VersionID)
	setExpiration(q, s.svc.ObjectExpiration(ctx, o))
	if u := redirectURL(fields); u != nil {
		add := "bucket=" + queryEscape(q.bucket) + "&key=" + queryEscape(key) + "&etag=" + queryEscape(etag)
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += add
		h.Set("Location", u.String())
		q.w.WriteHeader(http.StatusSeeOther)
		return nil
	}
	switch fields["success_action_status"] {
	case "200":
		q.w.WriteHeader(http.StatusOK)
	case "201":
		return writeXMLStatus(q, http.StatusCreated, postResponse{Location: location, Bucket: q.bucket, Key: key, ETag: etag})
	default:
		q.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// authorizeForm authenticates a form by the signature over its policy and
// checks the policy; it returns the file's allowed size range. A form
// without a signature keeps the request's own principal (anonymous, or a
// header signature); its policy, if any, is still enforced.
func (s *Server) authorizeForm(q *request, fields map[string]string) (minSize, maxSize int64, err error) {
	maxSize = service.MaxPutSize
	res, err := s.verifier.VerifyPost(q.r.Context(), fields, q.auth)
	if err != nil {
		return 0, 0, err
	}
	s.formDialect(q, res.Scheme)
	if res.AccessKeyID != "" {
		p, err := s.ids.Principal(q.r.Context(), res.AccessKeyID)
		if err != nil {
			return 0, 0, err
		}
		p.Conditions = requestConditions(q.r, p)
		q.principal = p
	}
	encoded, ok := fields["policy"]
	if !ok {
		return 0, maxSize, nil
	}
	pol, err := postpolicy.Parse(encoded)
	if err != nil {
		return 0, 0, err
	}
	checked := make(map[string]string, len(fields)+1)
	for k, v := range fields {
		checked[k] = v
	}
	checked["bucket"] = q.bucket
	auth.PostPolicyFields(res.Scheme, checked)
	exempt := func(name string) bool { return auth.PostExempt(res.Scheme, q.d.Name(), name) }
	if err := pol.Check(time.Now(), checked, exempt); err != nil {
		return 0, 0, err
	}
	if pol.MaxLength >= 0 {
		maxSize = pol.MaxLength
	}
	return pol.MinLength, maxSize, nil
}

// formDialect answers a form signed with a vendor's scheme in that
// vendor's dialect when nothing else chose one: the signature is in the
// body, where ServeHTTP's detection does not look.
func (s *Server) formDialect(q *request, scheme auth.Scheme) {
	name := auth.PostDialect(scheme)
	if d := s.dialects[name]; d == nil || s.cfg.Dialect != "" || q.d.Name() != "s3" {
		return
	}
	if _, pinned := s.vhostBucket(q.r.Host); pinned != "" {
		return
	}
	q.d = s.dialects[name]
	q.d.SetRequestID(q.w.Header(), q.id)
}

// readFormFields reads the fields up to the file part, by lowercase name
// (the first of a repeated field wins).
func readFormFields(mr *multipart.Reader) (map[string]string, *multipart.Part, error) {
	fields := map[string]string{}
	total := 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, nil, errNoFile
		}
		if err != nil {
			return nil, nil, formError(err)
		}
		name := strings.ToLower(part.FormName())
		switch name {
		case "":
			continue
		case "file":
			return fields, part, nil
		}
		b, err := io.ReadAll(io.LimitReader(part, int64(maxFormFields-total+1)))
		if err != nil {
			return nil, nil, formError(err)
		}
		if total += len(b); total > maxFormFields {
			return nil, nil, errs.MaxPostPreDataLengthExceeded
		}
		if _, dup := fields[name]; !dup {
			fields[name] = string(b)
		}
	}
}

// formError keeps a canonical error (the size gate, a failed payload
// check) and reports any other as a malformed form.
func formError(err error) error {
	if e := errs.As(err); e != nil {
		return e
	}
	return errs.MalformedPOSTRequest
}

// formHeader renders the fields a PUT would carry as headers: the object
// headers, the vendor-prefixed fields (encryption, metadata, checksums)
// and the canned ACL, which a form names "acl".
func formHeader(d dialect.Dialect, fields map[string]string) http.Header {
	h := http.Header{}
	for name, v := range fields {
		switch {
		case name == "acl":
			h.Set(d.Prefix()+"acl", v)
		case formHeaders[name], strings.HasPrefix(name, "x-"):
			h.Set(name, v)
		}
	}
	return h
}

// formGate bounds what is read of the body before the file part: the
// multipart reader buffers a header block whole, so the field limit alone
// would not bound memory.
type formGate struct {
	r     io.Reader
	n     int
	limit int
	open  bool
}

func (g *formGate) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if !g.open {
		if g.n += n; g.n > g.limit {
			return 0, errs.MaxPostPreDataLengthExceeded
		}
	}
	return n, err
}

// formFile streams the file part, enforcing the policy's
// content-length-range as it goes: a file over the maximum fails the read
// (the upload aborts, nothing is stored), one under the minimum fails at
// its end, in place of io.EOF.
type formFile struct {
	r        io.Reader
	n        int64
	min, max int64
	// rest is the request body after the file: drained at the file's end
	// so that a body check that runs at EOF (a signed payload) runs
	// before anything is committed.
	rest io.Reader
}

// maxFormTail bounds what is drained after the file (the fields S3
// ignores and the closing boundary).
const maxFormTail = 64 << 10

func (f *formFile) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.n += int64(n)
	if f.n > f.max {
		return 0, postpolicy.LengthError(f.n, f.min, f.max)
	}
	if errors.Is(err, io.EOF) {
		if f.n < f.min {
			return 0, postpolicy.LengthError(f.n, f.min, f.max)
		}
		if err := drainTail(f.rest); err != nil {
			return 0, err
		}
	}
	return n, err
}

// drainTail reads the body after the file to its end, so that its
// verification (a signed payload hash) completes. More than maxFormTail
// is refused: the check could not complete before the commit.
func drainTail(r io.Reader) error {
	n, err := io.Copy(io.Discard, io.LimitReader(r, maxFormTail+1))
	if err != nil {
		return err
	}
	if n > maxFormTail {
		return errs.MalformedPOSTRequest.WithMessage("The fields after the file exceed 64 KiB.")
	}
	return nil
}

// redirectURL is the success_action_redirect (or its older name,
// redirect) if it is an absolute http(s) URL; otherwise S3 ignores it.
func redirectURL(fields map[string]string) *url.URL {
	v, ok := fields["success_action_redirect"]
	if !ok {
		v = fields["redirect"]
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	return u
}

// queryEscape escapes a query value as encodeURIComponent does (%20 for a
// space), as S3's redirect does.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// objectURL is the URL of an object as the client addressed its bucket.
func (s *Server) objectURL(q *request, key string) string {
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	u := scheme + "://" + q.r.Host + "/"
	if vhost, _ := s.vhostBucket(q.r.Host); vhost == "" {
		u += url.PathEscape(q.bucket) + "/"
	}
	return u + url.PathEscape(key)
}

// postResponse is the document of success_action_status 201.
type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string
	Bucket   string
	Key      string
	ETag     string
}
