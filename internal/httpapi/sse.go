package httpapi

import (
	"bytes"
	"crypto/md5"
	"encoding/xml"
	"io"
	"net/http"
	"strings"

	"strongroom/internal/checksum"
	"strongroom/internal/errs"
	"strongroom/internal/meta"
	"strongroom/internal/service"
	"strongroom/internal/sse"
)

// sseUse says which encryption parameters an operation accepts.
type sseUse int

const (
	sseWrite sseUse = iota // PUT, POST, copy destination, initiate multipart: any mode
	sseRead                // GET, HEAD, UploadPart: only an SSE-C key
)

// requestSSE parses the S3 encryption headers of a request. It returns nil
// when the request names no encryption.
func (s *Server) requestSSE(q *request, use sseUse) (*sse.Spec, error) {
	cust, err := s.customerKey(q, "server-side-encryption-customer-")
	if err != nil {
		return nil, err
	}
	mode := q.header("server-side-encryption")
	keyID := q.header("server-side-encryption-aws-kms-key-id")
	encCtx := q.header("server-side-encryption-context")
	bucketKey := q.header("server-side-encryption-bucket-key-enabled")
	if use == sseRead {
		if mode != "" || keyID != "" {
			return nil, errs.InvalidArgument.WithMessage("x-amz-server-side-encryption header is not supported for this operation.")
		}
		return cust, nil
	}
	if cust != nil {
		if mode != "" || keyID != "" {
			return nil, errs.InvalidArgument.WithMessage("Server Side Encryption with Customer provided key is incompatible with the encryption method specified")
		}
		return cust, nil
	}
	var spec *sse.Spec
	switch mode {
	case "":
		if keyID != "" || encCtx != "" {
			return nil, errs.InvalidArgument.WithMessage("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
		}
		return nil, nil
	case "AES256":
		if keyID != "" || encCtx != "" {
			return nil, errs.InvalidArgument.WithMessage("Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
		}
		spec = &sse.Spec{Mode: sse.Managed, Algorithm: sse.AES256}
	case "aws:kms":
		spec = &sse.Spec{Mode: sse.KMS, Algorithm: sse.AES256, KeyID: keyID, Context: encCtx}
	default:
		return nil, errs.InvalidArgument.WithMessage("The encryption method specified is not supported")
	}
	// Extension (OBS's header, S3 prefix): SM4 as the data algorithm of
	// an SSE-KMS object.
	switch da := q.header("server-side-data-encryption"); da {
	case "", sse.AES256:
	case sse.SM4:
		if spec.Mode != sse.KMS {
			return nil, errs.InvalidArgument.WithMessage("The SM4 data encryption algorithm requires server-side encryption with KMS.")
		}
		spec.Algorithm = sse.SM4
	default:
		return nil, errs.InvalidEncryptionAlgorithm.WithMessage("The Encryption request you specified is not valid. Supported value: AES256/SM4.")
	}
	switch strings.ToLower(bucketKey) {
	case "":
	case "true":
		spec.BucketKey = spec.Mode == sse.KMS
	case "false":
	default:
		return nil, errs.InvalidArgument.WithMessage("x-amz-server-side-encryption-bucket-key-enabled must be true or false")
	}
	return spec, nil
}

// customerKey parses an SSE-C header triple (prefix selects the object's or
// the copy source's). SSE-C travels only over TLS unless the operator said
// a TLS-terminating proxy is in front (or allowed it explicitly).
func (s *Server) customerKey(q *request, prefix string) (*sse.Spec, error) {
	alg := q.header(prefix + "algorithm")
	key := q.header(prefix + "key")
	md5 := q.header(prefix + "key-md5")
	if alg == "" && key == "" && md5 == "" {
		return nil, nil
	}
	if q.r.TLS == nil && !s.cfg.AllowInsecureSSEC {
		return nil, errs.InvalidRequest.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
	}
	if alg == "" {
		return nil, errs.InvalidArgument.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")
	}
	return sse.CustomerSpec(alg, key, md5)
}

// setSSEHeaders echoes how an object is encrypted. keyMD5 is the SSE-C key
// MD5 of the current request (never stored).
func setSSEHeaders(q *request, enc *meta.Encryption, req *sse.Spec) {
	if enc == nil {
		return
	}
	h, p := q.w.Header(), q.d.Prefix()
	switch sse.Mode(enc.Mode) {
	case sse.Managed:
		h.Set(p+"server-side-encryption", "AES256")
	case sse.KMS:
		h.Set(p+"server-side-encryption", "aws:kms")
		if enc.Algorithm == sse.SM4 {
			h.Set(p+"server-side-data-encryption", sse.SM4)
		}
		if enc.KeyID != "" {
			h.Set(p+"server-side-encryption-aws-kms-key-id", enc.KeyID)
		}
		if enc.Context != "" {
			h.Set(p+"server-side-encryption-context", enc.Context)
		}
	case sse.Customer:
		h.Set(p+"server-side-encryption-customer-algorithm", "AES256")
		if req != nil && req.Mode == sse.Customer {
			h.Set(p+"server-side-encryption-customer-key-MD5", req.CustomerKeyMD5)
		}
	}
	if enc.BucketKey {
		h.Set(p+"server-side-encryption-bucket-key-enabled", "true")
	}
}

// Bucket default encryption (?encryption), S3 shapes.

type s3EncryptionConfig struct {
	XMLName xml.Name           `xml:"ServerSideEncryptionConfiguration"`
	NS      string             `xml:"xmlns,attr,omitempty"`
	Rules   []s3EncryptionRule `xml:"Rule"`
}

type s3EncryptionRule struct {
	Default *struct {
		SSEAlgorithm   string
		KMSMasterKeyID string `xml:",omitempty"`
	} `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled       *bool     `xml:",omitempty"`
	BlockedEncryptionTypes *[]string `xml:"BlockedEncryptionTypes>EncryptionType,omitempty"`
}

// readConfigBody reads a small configuration document and checks the
// integrity header S3 requires on it (Content-MD5 or a flexible checksum).
func readConfigBody(q *request) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(q.auth.Body, maxXMLBody+1))
	if err != nil {
		if e := errs.As(err); e != nil {
			return nil, e
		}
		return nil, errs.IncompleteBody
	}
	if len(data) > maxXMLBody {
		return nil, errs.MalformedXML
	}
	if v := q.r.Header.Get("Content-MD5"); v != "" {
		want, err := service.DecodeContentMD5(v)
		if err != nil {
			return nil, err
		}
		if sum := md5.Sum(data); !bytes.Equal(sum[:], want) {
			return nil, errs.BadDigest
		}
		return data, nil
	}
	ck, err := checksumInput(q)
	if err != nil {
		return nil, err
	}
	if ck.Algorithm != "" {
		value := ck.Value
		if value == "" && ck.Trailer != nil {
			value = ck.Trailer()
		}
		set := checksum.NewSet(false, ck.Algorithm)
		set.Write(data)
		if set.Values()[ck.Algorithm] != value {
			return nil, errs.BadDigest
		}
		return data, nil
	}
	return nil, errs.InvalidRequest.WithMessage("Missing required header for this request: Content-MD5")
}

func (s *Server) putBucketEncryption(q *request) error {
	data, err := readConfigBody(q)
	if err != nil {
		return err
	}
	var doc s3EncryptionConfig
	if err := xml.Unmarshal(data, &doc); err != nil || len(doc.Rules) == 0 {
		return errs.MalformedXML
	}
	r := doc.Rules[0]
	c := &sse.Config{}
	if r.Default == nil {
		return errs.MalformedXML
	}
	switch r.Default.SSEAlgorithm {
	case "AES256":
		c.Mode = sse.Managed
		if r.Default.KMSMasterKeyID != "" {
			return errs.InvalidArgument.WithMessage("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
		}
	case "aws:kms":
		c.Mode, c.KeyID = sse.KMS, r.Default.KMSMasterKeyID
	default:
		return errs.InvalidArgument.WithMessage("The SSEAlgorithm you specified is not valid: supported values are AES256 and aws:kms.")
	}
	if r.BucketKeyEnabled != nil {
		c.BucketKey = *r.BucketKeyEnabled && c.Mode == sse.KMS
	}
	if r.BlockedEncryptionTypes != nil {
		for _, t := range *r.BlockedEncryptionTypes {
			if t = strings.TrimSpace(t); t != "NONE" {
				c.BlockedTypes = append(c.BlockedTypes, t)
			}
		}
	}
	if err := s.svc.PutBucketEncryption(q.r.Context(), q.principal, q.bucket, c); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) getBucketEncryption(q *request) error {
	c, err := s.svc.GetBucketEncryption(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	var r s3EncryptionRule
	r.Default = &struct {
		SSEAlgorithm   string
		KMSMasterKeyID string `xml:",omitempty"`
	}{SSEAlgorithm: "AES256"}
	if c.Mode == sse.KMS {
		r.Default.SSEAlgorithm, r.Default.KMSMasterKeyID = "aws:kms", c.KeyID
	}
	bk := c.BucketKey
	r.BucketKeyEnabled = &bk
	if len(c.BlockedTypes) > 0 {
		bt := append([]string(nil), c.BlockedTypes...)
		r.BlockedEncryptionTypes = &bt
	}
	return writeXML(q, s3EncryptionConfig{NS: s3NS, Rules: []s3EncryptionRule{r}})
}

func (s *Server) deleteBucketEncryption(q *request) error {
	if err := s.svc.DeleteBucketEncryption(q.r.Context(), q.principal, q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
