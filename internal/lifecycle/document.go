package lifecycle

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// Shape is the element vocabulary of a dialect's lifecycle document.
type Shape int

const (
	// S3 is S3's LifecycleConfiguration (COS and OBS use it too).
	S3 Shape = iota
	// OSS is Alibaba OSS's: rule-level Prefix and Tag, AbortMultipartUpload,
	// CreatedBeforeDate.
	OSS
)

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// Errors of lifecycle documents, with S3's codes and messages.
var (
	ErrNoRules        = errs.MalformedXML.WithMessage("The XML you provided was not well-formed or did not validate against our published schema: a lifecycle configuration needs at least one Rule.")
	ErrTooManyRules   = errs.MalformedXML.WithMessage(fmt.Sprintf("A lifecycle configuration has at most %d rules.", MaxRules))
	ErrNoAction       = errs.InvalidRequest.WithMessage("At least one action needs to be specified in a rule")
	ErrTransition     = errs.NotImplemented.WithMessage("Lifecycle transitions are not supported: this server has a single storage class.")
	ErrDuplicateID    = errs.InvalidArgument.WithMessage("Rule ID must be unique. Found same ID for more than one rule")
	ErrIDTooLong      = errs.InvalidArgument.WithMessage("ID length should not exceed allowed limit of 255")
	ErrBadDays        = errs.InvalidArgument.WithMessage("'Days' for Expiration action must be a positive integer")
	ErrBadNoncurrent  = errs.InvalidArgument.WithMessage("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
	ErrBadAbortDays   = errs.InvalidArgument.WithMessage("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer")
	ErrDateNotMidnigt = errs.InvalidArgument.WithMessage("'Date' must be at midnight GMT")
	ErrMarkerWithTags = errs.InvalidRequest.WithMessage("ExpiredObjectDeleteMarker cannot be specified with object tags or object size filters")
	ErrAbortWithTags  = errs.InvalidRequest.WithMessage("AbortIncompleteMultipartUpload cannot be specified with object tags or object size filters")
	ErrNotFilter      = errs.NotImplemented.WithMessage("Lifecycle filters with Not are not supported.")
)

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlAnd struct {
	Prefix                *string  `xml:"Prefix"`
	Tags                  []xmlTag `xml:"Tag"`
	ObjectSizeGreaterThan *int64   `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64   `xml:"ObjectSizeLessThan"`
}

type xmlFilter struct {
	Prefix                *string   `xml:"Prefix"`
	Tag                   *xmlTag   `xml:"Tag"`
	ObjectSizeGreaterThan *int64    `xml:"ObjectSizeGreaterThan"`
	ObjectSizeLessThan    *int64    `xml:"ObjectSizeLessThan"`
	And                   *xmlAnd   `xml:"And"`
	Not                   *struct{} `xml:"Not"`
}

type xmlExpiration struct {
	Days                      *int   `xml:"Days"`
	Date                      string `xml:"Date,omitempty"`
	CreatedBeforeDate         string `xml:"CreatedBeforeDate,omitempty"`
	ExpiredObjectDeleteMarker *bool  `xml:"ExpiredObjectDeleteMarker"`
}

type xmlNoncurrent struct {
	NoncurrentDays          *int `xml:"NoncurrentDays"`
	NewerNoncurrentVersions *int `xml:"NewerNoncurrentVersions"`
}

type xmlAbort struct {
	DaysAfterInitiation *int `xml:"DaysAfterInitiation"`
}

type xmlOSSAbort struct {
	Days              *int   `xml:"Days"`
	CreatedBeforeDate string `xml:"CreatedBeforeDate,omitempty"`
}

type xmlRule struct {
	ID                             string         `xml:"ID,omitempty"`
	Prefix                         *string        `xml:"Prefix"`
	Filter                         *xmlFilter     `xml:"Filter"`
	Status                         string         `xml:"Status"`
	Tags                           []xmlTag       `xml:"Tag"`
	Expiration                     *xmlExpiration `xml:"Expiration"`
	Transitions                    []struct{}     `xml:"Transition"`
	NoncurrentTransitions          []struct{}     `xml:"NoncurrentVersionTransition"`
	NoncurrentVersionExpiration    *xmlNoncurrent `xml:"NoncurrentVersionExpiration"`
	AbortIncompleteMultipartUpload *xmlAbort      `xml:"AbortIncompleteMultipartUpload"`
	AbortMultipartUpload           *xmlOSSAbort   `xml:"AbortMultipartUpload"`
}

type xmlConfig struct {
	XMLName xml.Name  `xml:"LifecycleConfiguration"`
	Xmlns   string    `xml:"xmlns,attr,omitempty"`
	Rules   []xmlRule `xml:"Rule"`
}

// Parse reads a lifecycle document in any dialect's shape (the union of
// S3's and OSS's elements) and validates it.
func Parse(body []byte) (*Config, error) {
	var d xmlConfig
	if err := xml.Unmarshal(body, &d); err != nil {
		return nil, errs.MalformedXML
	}
	switch {
	case len(d.Rules) == 0:
		return nil, ErrNoRules
	case len(d.Rules) > MaxRules:
		return nil, ErrTooManyRules
	}
	c := &Config{Rules: make([]Rule, 0, len(d.Rules))}
	ids := make(map[string]bool, len(d.Rules))
	for i := range d.Rules {
		r, err := parseRule(&d.Rules[i])
		if err != nil {
			return nil, err
		}
		if r.ID == "" {
			r.ID = "rule-" + strconv.Itoa(i+1)
		}
		if ids[r.ID] {
			return nil, ErrDuplicateID
		}
		ids[r.ID] = true
		c.Rules = append(c.Rules, r)
	}
	return c, nil
}

func parseRule(x *xmlRule) (Rule, error) {
	r := Rule{ID: x.ID}
	switch x.Status {
	case "Enabled":
		r.Enabled = true
	case "Disabled":
	default:
		return r, errs.MalformedXML
	}
	if len(r.ID) > 255 {
		return r, ErrIDTooLong
	}
	if len(x.Transitions) > 0 || len(x.NoncurrentTransitions) > 0 {
		return r, ErrTransition
	}
	var err error
	if r.Filter, r.LegacyPrefix, err = parseFilter(x); err != nil {
		return r, err
	}
	if e := x.Expiration; e != nil {
		if r.Expiration, err = parseExpiration(e); err != nil {
			return r, err
		}
	}
	if n := x.NoncurrentVersionExpiration; n != nil {
		if n.NoncurrentDays == nil || *n.NoncurrentDays <= 0 {
			return r, ErrBadNoncurrent
		}
		r.NoncurrentExpiration = &NoncurrentExpiration{Days: *n.NoncurrentDays}
		if v := n.NewerNoncurrentVersions; v != nil {
			if *v <= 0 || *v > 100 {
				return r, errs.InvalidArgument.WithMessage("'NewerNoncurrentVersions' must be between 1 and 100")
			}
			r.NoncurrentExpiration.NewerNoncurrentVersions = *v
		}
	}
	if a := x.AbortIncompleteMultipartUpload; a != nil {
		if a.DaysAfterInitiation == nil || *a.DaysAfterInitiation <= 0 {
			return r, ErrBadAbortDays
		}
		r.AbortIncompleteDays = *a.DaysAfterInitiation
	}
	if a := x.AbortMultipartUpload; a != nil {
		switch {
		case a.Days != nil && a.CreatedBeforeDate == "" && *a.Days > 0:
			r.AbortIncompleteDays = *a.Days
		case a.Days == nil && a.CreatedBeforeDate != "":
			if r.AbortCreatedBefore, err = parseDate(a.CreatedBeforeDate); err != nil {
				return r, err
			}
		default:
			return r, ErrBadAbortDays
		}
	}
	if r.Expiration == nil && r.NoncurrentExpiration == nil && r.AbortIncompleteDays == 0 && r.AbortCreatedBefore.IsZero() {
		return r, ErrNoAction
	}
	narrowed := len(r.Filter.Tags) > 0 || r.Filter.SizeGreaterThan > 0 || r.Filter.SizeLessThan > 0
	if narrowed && r.Expiration != nil && r.Expiration.ExpiredObjectDeleteMarker {
		return r, ErrMarkerWithTags
	}
	if narrowed && (r.AbortIncompleteDays > 0 || !r.AbortCreatedBefore.IsZero()) {
		return r, ErrAbortWithTags
	}
	return r, nil
}

// parseFilter reads a rule's selection: S3's Filter, or the legacy
// rule-level Prefix (with OSS's rule-level Tags), never both.
func parseFilter(x *xmlRule) (f Filter, legacy bool, err error) {
	if x.Filter != nil && x.Prefix != nil {
		return f, false, errs.MalformedXML
	}
	if x.Filter == nil {
		if x.Prefix != nil {
			f.Prefix = *x.Prefix
		}
		for _, t := range x.Tags {
			f.Tags = append(f.Tags, Tag(t))
		}
		return f, x.Prefix != nil, checkFilter(f)
	}
	y := x.Filter
	if y.Not != nil {
		return f, false, ErrNotFilter
	}
	set := 0
	for _, b := range []bool{y.Prefix != nil, y.Tag != nil, y.ObjectSizeGreaterThan != nil, y.ObjectSizeLessThan != nil, y.And != nil} {
		if b {
			set++
		}
	}
	if set > 1 && y.And != nil {
		return f, false, errs.MalformedXML
	}
	// One condition stands alone; more than one belong in And (S3), though
	// OSS puts sizes beside a rule-level Prefix, so sizes may pair.
	if y.Prefix != nil && y.Tag != nil {
		return f, false, errs.MalformedXML
	}
	if y.Prefix != nil {
		f.Prefix = *y.Prefix
	}
	if y.Tag != nil {
		f.Tags = []Tag{Tag(*y.Tag)}
	}
	f.SizeGreaterThan = deref(y.ObjectSizeGreaterThan)
	f.SizeLessThan = deref(y.ObjectSizeLessThan)
	if a := y.And; a != nil {
		if a.Prefix != nil {
			f.Prefix = *a.Prefix
		}
		for _, t := range a.Tags {
			f.Tags = append(f.Tags, Tag(t))
		}
		f.SizeGreaterThan = deref(a.ObjectSizeGreaterThan)
		f.SizeLessThan = deref(a.ObjectSizeLessThan)
	}
	for _, t := range x.Tags {
		f.Tags = append(f.Tags, Tag(t))
	}
	return f, false, checkFilter(f)
}

func checkFilter(f Filter) error {
	if f.SizeGreaterThan < 0 || f.SizeLessThan < 0 {
		return errs.InvalidArgument.WithMessage("Object size filters must be non-negative")
	}
	if f.SizeLessThan > 0 && f.SizeGreaterThan >= f.SizeLessThan {
		return errs.InvalidArgument.WithMessage("ObjectSizeGreaterThan must be less than ObjectSizeLessThan")
	}
	seen := make(map[string]bool, len(f.Tags))
	for _, t := range f.Tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return errs.InvalidTag.WithMessage("The TagKey you have provided is invalid")
		}
		if seen[t.Key] {
			return errs.InvalidRequest.WithMessage("Duplicate Tag Keys are not allowed.")
		}
		seen[t.Key] = true
	}
	return nil
}

func parseExpiration(x *xmlExpiration) (*Expiration, error) {
	e := &Expiration{}
	n := 0
	if x.Days != nil {
		if *x.Days <= 0 {
			return nil, ErrBadDays
		}
		e.Days, n = *x.Days, n+1
	}
	if x.Date != "" {
		d, err := parseDate(x.Date)
		if err != nil {
			return nil, err
		}
		e.Date, n = d, n+1
	}
	if x.CreatedBeforeDate != "" {
		d, err := parseDate(x.CreatedBeforeDate)
		if err != nil {
			return nil, err
		}
		e.CreatedBefore, n = d, n+1
	}
	if x.ExpiredObjectDeleteMarker != nil {
		e.ExpiredObjectDeleteMarker, n = *x.ExpiredObjectDeleteMarker, n+1
	}
	if n != 1 {
		return nil, errs.MalformedXML
	}
	return e, nil
}

// parseDate reads an ISO 8601 date that must be midnight UTC.
func parseDate(s string) (time.Time, error) {
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z", "2006-01-02"} {
		if t, err = time.Parse(layout, s); err == nil {
			break
		}
	}
	if err != nil {
		return t, errs.InvalidArgument.WithMessage("Invalid date: " + strconv.Quote(s))
	}
	t = t.UTC()
	if !t.Equal(t.Truncate(24 * time.Hour)) {
		return t, ErrDateNotMidnigt
	}
	return t, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func intPtr(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

func int64Ptr(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

func dateString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// Document renders c as a lifecycle document in the given shape, ready to
// be marshalled as XML.
func (c *Config) Document(shape Shape) any {
	d := xmlConfig{}
	if shape == S3 {
		d.Xmlns = s3Namespace
	}
	for _, r := range c.Rules {
		d.Rules = append(d.Rules, r.document(shape))
	}
	return d
}

func (r *Rule) document(shape Shape) xmlRule {
	x := xmlRule{ID: r.ID, Status: "Disabled"}
	if r.Enabled {
		x.Status = "Enabled"
	}
	f := r.Filter
	if shape == OSS || r.LegacyPrefix {
		p := f.Prefix
		x.Prefix = &p
		for _, t := range f.Tags {
			x.Tags = append(x.Tags, xmlTag(t))
		}
		if f.SizeGreaterThan > 0 || f.SizeLessThan > 0 {
			x.Filter = &xmlFilter{ObjectSizeGreaterThan: int64Ptr(f.SizeGreaterThan), ObjectSizeLessThan: int64Ptr(f.SizeLessThan)}
		}
	} else {
		x.Filter = s3Filter(f)
	}
	if e := r.Expiration; e != nil {
		x.Expiration = &xmlExpiration{Days: intPtr(e.Days), Date: dateString(e.Date), CreatedBeforeDate: dateString(e.CreatedBefore)}
		if e.ExpiredObjectDeleteMarker {
			t := true
			x.Expiration.ExpiredObjectDeleteMarker = &t
		}
	}
	if n := r.NoncurrentExpiration; n != nil {
		x.NoncurrentVersionExpiration = &xmlNoncurrent{NoncurrentDays: intPtr(n.Days), NewerNoncurrentVersions: intPtr(n.NewerNoncurrentVersions)}
	}
	switch {
	case shape == OSS && (r.AbortIncompleteDays > 0 || !r.AbortCreatedBefore.IsZero()):
		x.AbortMultipartUpload = &xmlOSSAbort{Days: intPtr(r.AbortIncompleteDays), CreatedBeforeDate: dateString(r.AbortCreatedBefore)}
	case r.AbortIncompleteDays > 0:
		x.AbortIncompleteMultipartUpload = &xmlAbort{DaysAfterInitiation: intPtr(r.AbortIncompleteDays)}
	}
	return x
}

// s3Filter is S3's Filter element: one condition alone, several in And.
func s3Filter(f Filter) *xmlFilter {
	n := len(f.Tags)
	if f.Prefix != "" {
		n++
	}
	if f.SizeGreaterThan > 0 {
		n++
	}
	if f.SizeLessThan > 0 {
		n++
	}
	x := &xmlFilter{}
	switch {
	case n == 0:
		p := ""
		x.Prefix = &p
	case n > 1:
		a := &xmlAnd{ObjectSizeGreaterThan: int64Ptr(f.SizeGreaterThan), ObjectSizeLessThan: int64Ptr(f.SizeLessThan)}
		if f.Prefix != "" {
			a.Prefix = &f.Prefix
		}
		for _, t := range f.Tags {
			a.Tags = append(a.Tags, xmlTag(t))
		}
		x.And = a
	case f.Prefix != "":
		x.Prefix = &f.Prefix
	case len(f.Tags) == 1:
		t := xmlTag(f.Tags[0])
		x.Tag = &t
	default:
		x.ObjectSizeGreaterThan, x.ObjectSizeLessThan = int64Ptr(f.SizeGreaterThan), int64Ptr(f.SizeLessThan)
	}
	return x
}
