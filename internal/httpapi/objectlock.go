package httpapi

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// S3's object lock documents.

type objectLockConfiguration struct {
	XMLName           xml.Name        `xml:"ObjectLockConfiguration"`
	NS                string          `xml:"xmlns,attr,omitempty"`
	ObjectLockEnabled string          `xml:"ObjectLockEnabled,omitempty"`
	Rule              *objectLockRule `xml:"Rule,omitempty"`
}

type objectLockRule struct {
	DefaultRetention *defaultRetention `xml:"DefaultRetention"`
}

type defaultRetention struct {
	Mode  string `xml:"Mode,omitempty"`
	Days  int    `xml:"Days,omitempty"`
	Years int    `xml:"Years,omitempty"`
}

type retentionDoc struct {
	XMLName         xml.Name `xml:"Retention"`
	NS              string   `xml:"xmlns,attr,omitempty"`
	Mode            string   `xml:"Mode,omitempty"`
	RetainUntilDate string   `xml:"RetainUntilDate,omitempty"`
}

type legalHoldDoc struct {
	XMLName xml.Name `xml:"LegalHold"`
	NS      string   `xml:"xmlns,attr,omitempty"`
	Status  string   `xml:"Status"`
}

// errLockNeedsIntegrity: S3 takes object lock parameters on a PUT only
// with a Content-MD5 or a flexible checksum of the data.
var errLockNeedsIntegrity = errs.InvalidRequest.WithMessage("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters")

const (
	legalHoldOn  = "ON"
	legalHoldOff = "OFF"
)

// objectLockDialect reports whether the dialect has object lock's bucket
// configuration and object retention: S3, and COS and OBS in their own
// (COMPLIANCE-only) shape; OSS's WORM is a different API.
func objectLockDialect(q *request) bool {
	switch q.d.Name() {
	case "s3", "cos", "obs":
		return true
	}
	return false
}

// vendorLock reports a vendor dialect whose object lock is COMPLIANCE only,
// enabled by PUT ?object-lock itself and without legal holds.
func vendorLock(q *request) bool { return q.d.Name() != "s3" }

// lockWriteHeaders reports whether writes may carry object-lock headers:
// S3 and OBS (x-obs-object-lock-mode, -retain-until-date); COS documents
// none it is known to accept, so they stay refused there.
func lockWriteHeaders(q *request) bool { return q.d.Name() == "s3" || q.d.Name() == "obs" }

// errVendorLockMode: the vendors' WORM has only COMPLIANCE.
var errVendorLockMode = errs.InvalidArgument.WithMessage("The object lock mode can only be COMPLIANCE.")

// parseVendorLockDate parses OBS's retain-until date, a millisecond Unix
// timestamp, or an ISO 8601 date (which both vendors also take).
func parseVendorLockDate(v string) (time.Time, error) {
	if ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
		t := time.UnixMilli(ms).UTC()
		if t.Year() > 9999 {
			// Beyond what an ISO 8601 date (and so HEAD) can report.
			return time.Time{}, errs.InvalidArgument.WithMessage("The retain until date is out of range")
		}
		return t, nil
	}
	return parseLockDate(v)
}

// parseLockDate parses an ISO 8601 retain-until date.
func parseLockDate(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, errs.InvalidArgument.WithMessage("The retain until date must be provided in ISO 8601 format")
	}
	return t, nil
}

// lockHeaders reads the object lock a write asks for (nil: none).
func lockHeaders(q *request) (*service.LockRequest, error) {
	mode, date, hold := q.header("object-lock-mode"), q.header("object-lock-retain-until-date"), q.header("object-lock-legal-hold")
	if mode == "" && date == "" && hold == "" {
		return nil, nil
	}
	if !lockWriteHeaders(q) || (hold != "" && vendorLock(q)) {
		return nil, errObjectLock
	}
	r := &service.LockRequest{Mode: mode}
	if vendorLock(q) && mode != "" && mode != service.LockCompliance {
		return nil, errVendorLockMode
	}
	if date != "" {
		parse := parseLockDate // S3: ISO 8601 only
		if vendorLock(q) {
			parse = parseVendorLockDate
		}
		t, err := parse(date)
		if err != nil {
			return nil, err
		}
		r.Until = &t
	}
	switch hold {
	case "", legalHoldOff:
	case legalHoldOn:
		r.LegalHold = true
	default:
		return nil, errs.InvalidArgument.WithMessage("Legal Hold must be either of 'ON' or 'OFF'")
	}
	return r, nil
}

// bypassGovernance reads x-amz-bypass-governance-retention.
func bypassGovernance(q *request) bool {
	return strings.EqualFold(q.header("bypass-governance-retention"), "true")
}

// setLockHeaders reports a version's object lock on GET and HEAD.
func setLockHeaders(q *request, l meta.Lock) {
	h := q.w.Header()
	if l.LockMode != "" && l.LockUntil != nil {
		h.Set(q.d.Prefix()+"object-lock-mode", l.LockMode)
		h.Set(q.d.Prefix()+"object-lock-retain-until-date", isoTime(*l.LockUntil))
	}
	if l.LegalHold {
		h.Set(q.d.Prefix()+"object-lock-legal-hold", legalHoldOn)
	}
}

func (s *Server) putObjectLockConfiguration(q *request) error {
	if !objectLockDialect(q) {
		return notImplemented(q, "PutObjectLockConfiguration")
	}
	data, err := s.readConfig(q, service.ActPutObjectLockConfig)
	if err != nil {
		return err
	}
	var doc objectLockConfiguration
	if err := decodeXML(data, &doc); err != nil {
		return err
	}
	if doc.ObjectLockEnabled != "Enabled" && !(q.d.Name() == "obs" && doc.ObjectLockEnabled == "") {
		return errs.MalformedXML
	}
	var c service.ObjectLockConfig
	if doc.Rule != nil {
		if doc.Rule.DefaultRetention == nil {
			return errs.MalformedXML
		}
		d := doc.Rule.DefaultRetention
		c = service.ObjectLockConfig{Mode: d.Mode, Days: d.Days, Years: d.Years}
		if vendorLock(q) && c.Mode == "" {
			c.Mode = service.LockCompliance // COS's default; OBS has no other
		}
		if c.Mode == "" {
			return errs.MalformedXML
		}
		if vendorLock(q) && c.Mode != service.LockCompliance {
			return errVendorLockMode
		}
	}
	if vendorLock(q) {
		// The vendors' PUT ?object-lock is what turns WORM on (and, as
		// OBS documents, versioning with it): only for a valid document.
		if err := c.Validate(); err != nil {
			return err
		}
		if err := s.svc.EnableObjectLock(q.r.Context(), q.principal, q.bucket); err != nil {
			return err
		}
	}
	return emptyResponse(q, http.StatusOK, s.svc.PutObjectLockConfiguration(q.r.Context(), q.principal, q.bucket, &c))
}

func (s *Server) getObjectLockConfiguration(q *request) error {
	if !objectLockDialect(q) {
		return notImplemented(q, "GetObjectLockConfiguration")
	}
	c, err := s.svc.GetObjectLockConfiguration(q.r.Context(), q.principal, q.bucket)
	if err != nil {
		return err
	}
	doc := objectLockConfiguration{NS: s3NS, ObjectLockEnabled: "Enabled"}
	if c.Mode != "" {
		doc.Rule = &objectLockRule{DefaultRetention: &defaultRetention{Mode: c.Mode, Days: c.Days, Years: c.Years}}
	}
	return writeXML(q, doc)
}

func (s *Server) putObjectRetention(q *request) error {
	var doc retentionDoc
	vid, err := s.readLockDoc(q, service.ActPutObjectRetention, &doc)
	if err != nil {
		return err
	}
	var r *service.Retention
	switch {
	case doc.Mode == "" && doc.RetainUntilDate == "" && !vendorLock(q):
		// An empty Retention removes it (GOVERNANCE, with bypass).
	case doc.Mode == "" || doc.RetainUntilDate == "":
		return errs.MalformedXML
	case vendorLock(q) && doc.Mode != service.LockCompliance:
		return errVendorLockMode
	default:
		parse := parseLockDate
		if vendorLock(q) {
			parse = parseVendorLockDate
		}
		t, err := parse(doc.RetainUntilDate)
		if err != nil {
			return err
		}
		r = &service.Retention{Mode: doc.Mode, Until: t}
	}
	setVersionHeader(q, "version-id", vid)
	return emptyResponse(q, http.StatusOK, s.svc.PutObjectRetention(q.r.Context(), q.principal, q.bucket, q.key, vid, r, bypassGovernance(q)))
}

func (s *Server) getObjectRetention(q *request) error {
	if q.d.Name() == "obs" {
		return errs.NotImplemented // OBS reports retention on HEAD only
	}
	vid, err := lockVersion(q)
	if err != nil {
		return err
	}
	r, err := s.svc.GetObjectRetention(q.r.Context(), q.principal, q.bucket, q.key, vid)
	if err != nil {
		return err
	}
	return writeXML(q, retentionDoc{NS: s3NS, Mode: r.Mode, RetainUntilDate: isoTime(r.Until)})
}

func (s *Server) putObjectLegalHold(q *request) error {
	if vendorLock(q) {
		return notImplemented(q, "PutObjectLegalHold")
	}
	var doc legalHoldDoc
	vid, err := s.readLockDoc(q, service.ActPutObjectLegalHold, &doc)
	if err != nil {
		return err
	}
	if doc.Status != legalHoldOn && doc.Status != legalHoldOff {
		return errs.MalformedXML
	}
	setVersionHeader(q, "version-id", vid)
	return emptyResponse(q, http.StatusOK, s.svc.PutObjectLegalHold(q.r.Context(), q.principal, q.bucket, q.key, vid, doc.Status == legalHoldOn))
}

func (s *Server) getObjectLegalHold(q *request) error {
	if vendorLock(q) {
		return notImplemented(q, "GetObjectLegalHold")
	}
	vid, err := lockVersion(q)
	if err != nil {
		return err
	}
	on, err := s.svc.GetObjectLegalHold(q.r.Context(), q.principal, q.bucket, q.key, vid)
	if err != nil {
		return err
	}
	status := legalHoldOff
	if on {
		status = legalHoldOn
	}
	return writeXML(q, legalHoldDoc{NS: s3NS, Status: status})
}

// lockVersion answers an object lock sub-resource request's version ID
// (refusing the request outside the S3 dialect).
func lockVersion(q *request) (string, error) {
	if !objectLockDialect(q) {
		return "", notImplemented(q, "Object retention")
	}
	return versionID(q)
}

// readLockDoc reads a ?retention or ?legal-hold document (integrity
// checked) into v, after authorizing action on the object, and returns the
// version ID the request names.
func (s *Server) readLockDoc(q *request, action string, v any) (string, error) {
	vid, err := lockVersion(q)
	if err != nil {
		return "", err
	}
	if err := s.svc.Precheck(q.r.Context(), q.principal, action, q.bucket, q.key); err != nil {
		return "", err
	}
	data, err := s.readConfig(q, "")
	if err != nil {
		return "", err
	}
	return vid, decodeXML(data, v)
}
