// Package obs is the Huawei Cloud OBS wire dialect.
//
// The OBS SDK speaks three ways (dialects.md §5): AWS V2 signatures with
// x-amz-* headers (its default), SigV4 with x-amz-* headers, and the native
// OBS signature with x-obs-* headers. Custom headers such as
// x-obs-server-side-data-encryption pass through verbatim in every mode, so
// on input both prefixes are read (x-obs- first). Output uses x-obs-: the
// SDK strips either prefix from response headers.
//
// Encryption (seed 003): x-obs-server-side-encryption kms / obs / AES256
// (aws:kms too), x-obs-server-side-data-encryption AES256 / SM4 (SM4 only
// with SSE-KMS), x-obs-server-side-encryption-kms-key-id (or S3's
// -aws-kms-key-id), x-obs-sse-kms-key-project-id, SSE-C and copy-source
// SSE-C; on CreateBucket the same headers set the bucket default. Bucket
// encryption documents carry SSEAlgorithm kms / AES256, KMSMasterKeyID,
// ProjectID and, as an extension, KMSDataEncryption=SM4.
//
// Errors are the XML document plus x-obs-error-code / x-obs-error-message
// headers, which are all a HEAD response can carry.
package obs

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/s3"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/replication"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

const (
	prefix    = "x-obs-"
	amzPrefix = "x-amz-"
)

// names and amzNames are OBS's header names under its two prefixes, made
// canonical once (dialect.Headers); obsNames are the ones OBS adds.
var (
	obsNames = []string{"server-side-encryption-kms-key-id", "server-side-encryption-aws-kms-key-id", "sse-kms-key-project-id"}
	names    = dialect.NewHeaders(prefix, dialect.RequestHeaders, dialect.SSEHeaders, obsNames)
	amzNames = dialect.NewHeaders(amzPrefix, dialect.RequestHeaders, dialect.SSEHeaders, obsNames)
)

// NS is the namespace of OBS XML documents.
const NS = "http://obs.myhuaweicloud.com/doc/2015-06-30/"

// Wire values of x-obs-server-side-encryption and SSEAlgorithm.
const (
	modeKMS    = "kms"
	modeAWSKMS = "aws:kms" // the SDK's default value in its S3-compatible modes
	modeOBS    = "obs"     // SSE-OBS, CreateBucket's spelling
	modeAES256 = "AES256"  // SSE-OBS, the objects' and documents' spelling
)

// Dialect is the OBS dialect.
type Dialect struct{}

var (
	_ dialect.Dialect           = Dialect{}
	_ dialect.BucketSSEResponse = Dialect{}
	_ dialect.ConfigIntegrity   = Dialect{}
	_ dialect.InputPrefixes     = Dialect{}
)

func (Dialect) Name() string   { return "obs" }
func (Dialect) Prefix() string { return prefix }

// Header reads name under x-obs-, else under x-amz-.
func (Dialect) Header(h http.Header, name string) string {
	if v := names.Get(h, name); v != "" {
		return v
	}
	return amzNames.Get(h, name)
}

// InputPrefixes: user metadata arrives as x-obs-meta-* or x-amz-meta-*.
func (Dialect) InputPrefixes() []string { return []string{prefix, amzPrefix} }

func (Dialect) SetRequestID(h http.Header, id string) {
	// What h.Set does, with the names already canonical and one
	// allocation for both values (every response sets them).
	v := []string{id, id}
	h["X-Obs-Request-Id"] = v[0:1:1]
	h["X-Obs-Id-2"] = v[1:2:2]
}

// Error is the OBS error document.
type Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	Resource  string `xml:",omitempty"`
	RequestID string `xml:"RequestId"`
	HostID    string `xml:"HostId"`
}

// ErrNoSuchEncryptionConfiguration is what OBS answers when a bucket has
// no default encryption.
var ErrNoSuchEncryptionConfiguration = &errs.Error{
	Code: "NoSuchEncryptionConfiguration", Status: http.StatusNotFound,
	Message: "The specified bucket does not have any encryption configurations.",
}

// Translate maps a canonical error to OBS's code, status and message.
// Canonical codes OBS shares with S3 pass through unchanged.
func Translate(e *errs.Error) *errs.Error {
	switch e.Code {
	case errs.NoEncryptionConfig.Code:
		return ErrNoSuchEncryptionConfiguration
	case errs.KMSUnavailable.Code: // a KMS outage: OBS's 503, retried by the SDK
		return errs.ServiceUnavailable.WithMessage(e.Message)
	}
	return e
}

func (Dialect) WriteError(w http.ResponseWriter, r *http.Request, e *errs.Error, resource, requestID string) {
	e = Translate(e)
	if e.Status != http.StatusNotModified { // a 304 is not reported as an error
		h := w.Header()
		h.Set("x-obs-error-code", e.Code)
		h.Set("x-obs-error-message", headerSafe(e.Message))
	}
	s3.WriteErrorBody(w, r, e.Status, Error{Code: e.Code, Message: e.Message, Resource: resource, RequestID: requestID, HostID: requestID})
}

// headerSafe keeps a message to printable ASCII, as a header value must be.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, s)
}

// Errors of the encryption headers and documents (see docs/dialects-obs.md).
var (
	errModeUnsupported = errs.InvalidArgument.WithMessage("The encryption method specified is not supported. Valid values: kms, obs, AES256.")
	errNeedsKMS        = errs.InvalidArgument.WithMessage("x-obs-server-side-encryption-kms-key-id, x-obs-sse-kms-key-project-id and x-obs-server-side-data-encryption require x-obs-server-side-encryption: kms.")
	errProjectNeedsKey = errs.InvalidArgument.WithMessage("x-obs-sse-kms-key-project-id requires x-obs-server-side-encryption-kms-key-id.")
	errDataAlgorithm   = errs.InvalidArgument.WithMessage("The x-obs-server-side-data-encryption you specified is not valid. Valid values: AES256, SM4.")
	errSSECWithOthers  = errs.InvalidArgument.WithMessage("Server-side encryption with customer-provided keys cannot be combined with x-obs-server-side-encryption.")
	errDocAlgorithm    = errs.InvalidArgument.WithMessage("The SSEAlgorithm you specified is not valid. Valid values: kms, AES256.")
	errDocKeyWithOBS   = errs.InvalidArgument.WithMessage("KMSMasterKeyID and ProjectID are only applicable when SSEAlgorithm is kms.")
	errDocProject      = errs.InvalidArgument.WithMessage("ProjectID requires KMSMasterKeyID.")
	errDocData         = errs.InvalidArgument.WithMessage("The KMSDataEncryption you specified is not valid. Valid values: AES256, SM4 (with SSEAlgorithm kms).")
)

// kmsRequest is the SSE-KMS / SSE-OBS part of a request, as sent.
type kmsRequest struct {
	mode, keyID, projectID, data string
}

func readKMS(get func(string) string) kmsRequest {
	k := kmsRequest{
		mode:      get("server-side-encryption"),
		keyID:     get("server-side-encryption-kms-key-id"),
		projectID: get("sse-kms-key-project-id"),
		data:      get("server-side-data-encryption"),
	}
	if k.keyID == "" {
		k.keyID = get("server-side-encryption-aws-kms-key-id")
	}
	return k
}

func (k kmsRequest) empty() bool { return k == kmsRequest{} }

// parse returns the canonical mode, data algorithm ("" when not given),
// key id and project id; mode None when nothing was sent.
func (k kmsRequest) parse() (mode sse.Mode, alg, keyID, projectID string, err error) {
	switch k.mode {
	case "":
		if !k.empty() {
			return "", "", "", "", errNeedsKMS
		}
		return sse.None, "", "", "", nil
	case modeKMS, modeAWSKMS:
		mode = sse.KMS
	case modeOBS, modeAES256:
		mode = sse.Managed
		if k.keyID != "" || k.projectID != "" || k.data != "" && k.data != sse.AES256 {
			return "", "", "", "", errNeedsKMS
		}
	default:
		return "", "", "", "", errModeUnsupported
	}
	switch k.data {
	case "", sse.AES256, sse.SM4:
		alg = k.data
	default:
		return "", "", "", "", errDataAlgorithm
	}
	if k.projectID != "" && k.keyID == "" {
		return "", "", "", "", errProjectNeedsKey
	}
	return mode, alg, KeyID(k.keyID), k.projectID, nil
}

// KeyID accepts OBS's full key form regionID:domainID:key/key_id for the
// key key_id; other forms are passed to the KMS as given.
func KeyID(s string) string {
	region, rest, ok1 := strings.Cut(s, ":")
	project, key, ok2 := strings.Cut(rest, ":")
	if ok1 && ok2 && region != "" && project != "" && !strings.HasPrefix(s, "arn:") &&
		strings.HasPrefix(key, "key/") && len(key) > len("key/") {
		return key[len("key/"):]
	}
	return s
}

// header reads header name of h under either prefix (Header).
func header(h http.Header, name string) string { return Dialect{}.Header(h, name) }

func (d Dialect) ObjectSSE(h http.Header, use dialect.Use) (*sse.Spec, error) {
	get := func(n string) string { return header(h, n) }
	cust, err := dialect.CustomerSpec(get, dialect.ObjectCustomer)
	if err != nil {
		return nil, err
	}
	if use != dialect.Write {
		// GET, HEAD, UploadPart, UploadPartCopy: the stored mode applies;
		// OBS documents no SSE-KMS headers there, so they are ignored.
		return cust, nil
	}
	k := readKMS(get)
	if cust != nil {
		if !k.empty() {
			return nil, errSSECWithOthers
		}
		return cust, nil
	}
	mode, alg, keyID, project, err := k.parse()
	if err != nil || mode == sse.None {
		return nil, err
	}
	if alg == "" {
		alg = sse.AES256
	}
	return &sse.Spec{Mode: mode, Algorithm: alg, KeyID: keyID, ProjectID: project}, nil
}

func (d Dialect) CopySourceSSE(h http.Header) (*sse.Spec, error) {
	return dialect.CustomerSpec(func(n string) string { return header(h, n) }, dialect.CopySourceCustomer)
}

// SetObjectSSE echoes an object's encryption (seed 003 response tables):
// kms or AES256, the SM4 data algorithm, the key id (also of the default
// key), the project id (only given with a custom key), SSE-C algorithm and
// the request's key MD5.
func (Dialect) SetObjectSSE(h http.Header, enc *meta.Encryption, req *sse.Spec) {
	if enc == nil {
		return
	}
	switch sse.Mode(enc.Mode) {
	case sse.Managed:
		names.Set(h, "server-side-encryption", modeAES256)
		if enc.Algorithm == sse.SM4 {
			names.Set(h, "server-side-data-encryption", sse.SM4)
		}
	case sse.KMS:
		names.Set(h, "server-side-encryption", modeKMS)
		if enc.Algorithm == sse.SM4 {
			names.Set(h, "server-side-data-encryption", sse.SM4)
		}
		if enc.KeyID != "" {
			names.Set(h, "server-side-encryption-kms-key-id", enc.KeyID)
		}
		if enc.ProjectID != "" {
			names.Set(h, "sse-kms-key-project-id", enc.ProjectID)
		}
	case sse.Customer:
		names.Set(h, "server-side-encryption-customer-algorithm", sse.AES256)
		if req != nil && req.Mode == sse.Customer {
			names.Set(h, "server-side-encryption-customer-key-MD5", req.CustomerKeyMD5)
		}
	}
}

// BucketSSE reads CreateBucket's encryption headers: they set the bucket's
// default. SSE-C headers are not a default and are ignored there.
func (d Dialect) BucketSSE(h http.Header) (*sse.Config, error) {
	mode, alg, keyID, project, err := readKMS(func(n string) string { return header(h, n) }).parse()
	if err != nil || mode == sse.None {
		return nil, err
	}
	return &sse.Config{Mode: mode, Algorithm: alg, KeyID: keyID, ProjectID: project}, nil
}

// SetBucketSSE echoes the default CreateBucket set (seed 003, create bucket
// column): kms or obs, the data algorithm when given, key and project id
// only for a custom key.
func (Dialect) SetBucketSSE(h http.Header, c *sse.Config) {
	if c == nil {
		return
	}
	switch c.Mode {
	case sse.KMS:
		names.Set(h, "server-side-encryption", modeKMS)
		if c.KeyID != "" {
			names.Set(h, "server-side-encryption-kms-key-id", c.KeyID)
			if c.ProjectID != "" {
				names.Set(h, "sse-kms-key-project-id", c.ProjectID)
			}
		}
	case sse.Managed:
		names.Set(h, "server-side-encryption", modeOBS)
	default:
		return
	}
	if c.Algorithm != "" {
		names.Set(h, "server-side-data-encryption", c.Algorithm)
	}
}

// The SDK sends no Content-MD5 with PutBucketEncryption.
func (Dialect) ConfigMD5Optional() bool { return true }

// EncryptionConfig is the OBS ServerSideEncryptionConfiguration document.
type EncryptionConfig struct {
	XMLName xml.Name         `xml:"ServerSideEncryptionConfiguration"`
	NS      string           `xml:"xmlns,attr,omitempty"`
	Rules   []EncryptionRule `xml:"Rule"`
}

// EncryptionRule is one Rule of it.
type EncryptionRule struct {
	Default *ApplyDefault `xml:"ApplyServerSideEncryptionByDefault"`
}

// ApplyDefault is ApplyServerSideEncryptionByDefault. KMSDataEncryption
// (SM4) is an extension: the SDK has no field for it, OSS names it so.
type ApplyDefault struct {
	SSEAlgorithm      string
	KMSMasterKeyID    string `xml:",omitempty"`
	ProjectID         string `xml:",omitempty"`
	KMSDataEncryption string `xml:",omitempty"`
}

func (Dialect) ParseEncryption(body []byte) (*sse.Config, error) {
	var doc EncryptionConfig
	if err := xml.Unmarshal(body, &doc); err != nil || len(doc.Rules) != 1 || doc.Rules[0].Default == nil {
		return nil, errs.MalformedXML
	}
	a := doc.Rules[0].Default
	alg, key, project, data := strings.TrimSpace(a.SSEAlgorithm), strings.TrimSpace(a.KMSMasterKeyID), strings.TrimSpace(a.ProjectID), strings.TrimSpace(a.KMSDataEncryption)
	c := &sse.Config{}
	switch alg {
	case modeKMS, modeAWSKMS:
		c.Mode, c.KeyID, c.ProjectID = sse.KMS, KeyID(key), project
		if project != "" && key == "" {
			return nil, errDocProject
		}
	case modeAES256:
		c.Mode = sse.Managed
		if key != "" || project != "" {
			return nil, errDocKeyWithOBS
		}
	default:
		return nil, errDocAlgorithm
	}
	switch data {
	case "":
	case sse.AES256:
		c.Algorithm = sse.AES256
	case sse.SM4:
		if c.Mode != sse.KMS {
			return nil, errDocData
		}
		c.Algorithm = sse.SM4
	default:
		return nil, errDocData
	}
	return c, nil
}

func (Dialect) EncryptionDocument(c *sse.Config) any {
	a := &ApplyDefault{SSEAlgorithm: modeAES256}
	if c.Mode == sse.KMS {
		a.SSEAlgorithm, a.KMSMasterKeyID, a.ProjectID = modeKMS, c.KeyID, c.ProjectID
	}
	if c.Algorithm == sse.SM4 {
		a.KMSDataEncryption = sse.SM4
	}
	return EncryptionConfig{NS: NS, Rules: []EncryptionRule{{Default: a}}}
}

// OBS computes no extra upload checksums; flexible checksums a client
// asked for are returned under the dialect's prefix.
func (Dialect) UploadChecksums() []string { return nil }

func (Dialect) SetUploadChecksums(h http.Header, sums map[string]string) {
	s3.SetFlexibleChecksums(h, prefix, sums)
}

func (Dialect) SetObjectHeaders(http.Header, *meta.Object, bool) {}

func (Dialect) BucketInfo(*meta.Bucket, *sse.Config) (any, error) { return nil, errs.NotImplemented }

// ValidStorageClass takes OBS's classes (x-obs-storage-class) and, as OBS
// does under x-amz-storage-class, S3's.
func (Dialect) ValidStorageClass(v string) bool {
	switch strings.ToUpper(v) {
	case "STANDARD", "WARM", "COLD", "DEEP_ARCHIVE", "INTELLIGENT_TIERING":
		return true
	}
	return dialect.S3StorageClass(v)
}

// ReplicationShape implements dialect.ReplicationShape: OBS's replication
// document has its own element names.
func (Dialect) ReplicationShape() replication.Shape { return replication.OBS }
