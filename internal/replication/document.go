package replication

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// Shape is the element vocabulary of a dialect's replication document.
type Shape int

const (
	// S3 is S3's ReplicationConfiguration: Role, Rule with Filter (or the
	// first schema's rule-level Prefix), Destination Bucket as an ARN
	// (arn:aws:s3:REGION::BUCKET), EncryptionConfiguration inside
	// Destination.
	S3 Shape = iota
	// COS is Tencent COS's: S3's elements with a rule-level Prefix and the
	// destination as qcs::cos:<region>::<bucket>.
	COS
	// OSS is Alibaba OSS's: PrefixSet, Action, Destination Bucket and
	// Location, rule-level EncryptionConfiguration; rules are added one
	// request at a time (?replication&comp=add).
	OSS
	// OBS is Huawei OBS's: Agency, rule-level Prefix, Destination Bucket
	// (a name) with DeleteData.
	OBS
)

// VersioningEnabled reports whether the vendor requires versioning Enabled
// on the source (S3, COS); OSS and OBS require the source and the
// destination to have the same versioning state instead.
func (s Shape) VersioningEnabled() bool { return s == S3 || s == COS }

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// Limits.
const (
	MaxRules       = 1000 // S3's and COS's
	maxIDLength    = 255
	maxOSSPrefixes = 10
)

// Errors of replication documents, with S3's codes and messages.
var (
	ErrNoRules          = errs.MalformedXML.WithMessage("The XML you provided was not well-formed or did not validate against our published schema: a replication configuration needs at least one Rule.")
	ErrTooManyRules     = errs.InvalidRequest.WithMessage(fmt.Sprintf("A replication configuration has at most %d rules.", MaxRules))
	ErrIDTooLong        = errs.InvalidArgument.WithMessage("ID must be less than 255 characters")
	ErrDuplicateID      = errs.InvalidArgument.WithMessage("Rule Id must be unique. Found same ID for more than one rule")
	ErrNoDeleteMarker   = errs.InvalidRequest.WithMessage("DeleteMarkerReplication must be specified for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information.")
	ErrNoPriority       = errs.InvalidRequest.WithMessage("Priority must be specified for this version of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information.")
	ErrMarkersWithTags  = errs.InvalidRequest.WithMessage("Delete marker replication is not supported if any Tag filter is specified. Please refer to S3 Developer Guide for more information.")
	ErrKeyWithoutSSEKMS = errs.InvalidRequest.WithMessage("SseKmsEncryptedObjects must be specified if EncryptionConfiguration is present.")
	ErrSSEKMSWithoutKey = errs.InvalidRequest.WithMessage("ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.")
	ErrBadARN           = errs.InvalidArgument.WithMessage("Invalid Destination Bucket ARN.")
	ErrExisting         = errs.NotImplemented.WithMessage("Replication of existing objects is not supported: rules apply to objects written after they are set.")
)

// DuplicatePriority is S3's refusal of two rules with one priority.
func DuplicatePriority(p int) error {
	return errs.InvalidRequest.WithMessage(fmt.Sprintf("Found duplicate priority %d for rules. Priority must be unique for all rules.", p))
}

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlAnd struct {
	Prefix *string  `xml:"Prefix"`
	Tags   []xmlTag `xml:"Tag"`
}

type xmlFilter struct {
	Prefix *string `xml:"Prefix"`
	Tag    *xmlTag `xml:"Tag"`
	And    *xmlAnd `xml:"And"`
}

type xmlStatus struct {
	Status string `xml:"Status"`
}

type xmlEncryption struct {
	ReplicaKmsKeyID string `xml:"ReplicaKmsKeyID"`
}

type xmlSelection struct {
	SseKmsEncryptedObjects *xmlStatus `xml:"SseKmsEncryptedObjects"`
	// SseKms is accepted as another name of SseKmsEncryptedObjects.
	SseKms               *xmlStatus `xml:"SseKms"`
	ReplicaModifications *xmlStatus `xml:"ReplicaModifications"`
}

type xmlDestination struct {
	Bucket       string `xml:"Bucket"`
	Location     string `xml:"Location,omitempty"` // OSS
	StorageClass string `xml:"StorageClass,omitempty"`
	DeleteData   string `xml:"DeleteData,omitempty"` // OBS
	// EncryptionConfiguration: S3 puts it here, OSS at the rule.
	EncryptionConfiguration *xmlEncryption `xml:"EncryptionConfiguration"`
}

type xmlPrefixSet struct {
	Prefixes []string `xml:"Prefix"`
}

type xmlRule struct {
	ID                          string          `xml:"ID,omitempty"`
	Priority                    *int            `xml:"Priority"`
	Status                      string          `xml:"Status,omitempty"`
	Prefix                      *string         `xml:"Prefix"`
	Filter                      *xmlFilter      `xml:"Filter"`
	PrefixSet                   *xmlPrefixSet   `xml:"PrefixSet"` // OSS
	Action                      string          `xml:"Action,omitempty"`
	Destination                 *xmlDestination `xml:"Destination"`
	SourceSelectionCriteria     *xmlSelection   `xml:"SourceSelectionCriteria"`
	EncryptionConfiguration     *xmlEncryption  `xml:"EncryptionConfiguration"` // OSS
	DeleteMarkerReplication     *xmlStatus      `xml:"DeleteMarkerReplication"`
	ExistingObjectReplication   *xmlStatus      `xml:"ExistingObjectReplication"`
	HistoricalObjectReplication string          `xml:"HistoricalObjectReplication,omitempty"` // OSS, OBS
}

type xmlConfig struct {
	XMLName xml.Name  `xml:"ReplicationConfiguration"`
	Xmlns   string    `xml:"xmlns,attr,omitempty"`
	Role    string    `xml:"Role,omitempty"`
	Agency  string    `xml:"Agency,omitempty"` // OBS
	Rules   []xmlRule `xml:"Rule"`
}

// Parse reads and validates a replication document in a dialect's shape.
// Destinations are as the document names them; whether a destination
// bucket exists, or names a registered remote, is the service's to check.
// Rules without an ID get a random one.
func Parse(body []byte, shape Shape) (*Config, error) {
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
	c := &Config{Role: d.Role, Rules: make([]Rule, 0, len(d.Rules))}
	if shape == OBS && d.Agency != "" {
		c.Role = d.Agency
	}
	for i := range d.Rules {
		r, err := parseRule(&d.Rules[i], shape)
		if err != nil {
			return nil, err
		}
		c.Rules = append(c.Rules, r)
	}
	return c, c.Validate()
}

// Validate checks what concerns the rules together: unique IDs and, among
// Filter rules, unique priorities (S3).
func (c *Config) Validate() error {
	if len(c.Rules) > MaxRules {
		return ErrTooManyRules
	}
	ids := make(map[string]bool, len(c.Rules))
	prios := make(map[int]bool, len(c.Rules))
	for _, r := range c.Rules {
		if ids[r.ID] {
			return ErrDuplicateID
		}
		ids[r.ID] = true
		if r.LegacyPrefix || r.Priority == 0 {
			continue
		}
		if prios[r.Priority] {
			return DuplicatePriority(r.Priority)
		}
		prios[r.Priority] = true
	}
	return nil
}

// NewRuleID is a random rule ID, for rules sent without one.
func NewRuleID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func enabled(s string) (bool, error) {
	switch s {
	case "Enabled":
		return true, nil
	case "Disabled":
		return false, nil
	}
	return false, errs.MalformedXML
}

// enabledOr reads an optional Status element, def when absent.
func enabledOr(x *xmlStatus, def bool) (bool, error) {
	if x == nil {
		return def, nil
	}
	return enabled(x.Status)
}

func parseRule(x *xmlRule, shape Shape) (Rule, error) {
	r := Rule{ID: x.ID}
	if r.ID == "" {
		r.ID = NewRuleID()
	}
	if len(r.ID) > maxIDLength {
		return r, ErrIDTooLong
	}
	var err error
	if shape == OSS {
		// OSS rules have no switch: a rule exists and runs, or is deleted.
		r.Enabled = true
	} else if r.Enabled, err = enabled(x.Status); err != nil {
		return r, err
	}
	if x.Priority != nil {
		r.Priority = *x.Priority
	}
	if err := parseSelection(x, shape, &r); err != nil {
		return r, err
	}
	if err := parseDestination(x.Destination, shape, &r.Destination); err != nil {
		return r, err
	}
	r.StorageClass = x.Destination.StorageClass
	if err := parseEncryption(x, &r); err != nil {
		return r, err
	}
	if err := parseDeletes(x, shape, &r); err != nil {
		return r, err
	}
	if existing, err := enabledOr(x.ExistingObjectReplication, false); err != nil || existing {
		return r, firstErr(err, ErrExisting)
	}
	switch strings.ToLower(x.HistoricalObjectReplication) {
	case "", "disabled":
	case "enabled":
		return r, ErrExisting
	default:
		return r, errs.MalformedXML
	}
	return r, nil
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// parseSelection reads which objects a rule selects: S3's Filter (which
// then needs Priority and DeleteMarkerReplication), a rule-level Prefix
// (S3's first schema, COS, OBS) or OSS's PrefixSet.
func parseSelection(x *xmlRule, shape Shape, r *Rule) error {
	if x.Filter != nil && x.Prefix != nil {
		return errs.MalformedXML
	}
	if x.PrefixSet != nil {
		if len(x.PrefixSet.Prefixes) > maxOSSPrefixes {
			return errs.InvalidArgument.WithMessage(fmt.Sprintf("A PrefixSet holds at most %d prefixes.", maxOSSPrefixes))
		}
		for _, p := range x.PrefixSet.Prefixes {
			if p != "" {
				r.Prefixes = append(r.Prefixes, p)
			}
		}
	}
	if x.Filter == nil {
		switch {
		case x.Prefix != nil:
			r.Prefix = *x.Prefix
			r.LegacyPrefix = shape == S3
		case shape == S3:
			return errs.MalformedXML // S3 needs one or the other
		}
		return nil
	}
	f := x.Filter
	set := 0
	for _, b := range []bool{f.Prefix != nil, f.Tag != nil, f.And != nil} {
		if b {
			set++
		}
	}
	if set > 1 {
		return errs.MalformedXML
	}
	switch {
	case f.Prefix != nil:
		r.Prefix = *f.Prefix
	case f.Tag != nil:
		r.Tags = []Tag{Tag(*f.Tag)}
	case f.And != nil:
		if f.And.Prefix != nil {
			r.Prefix = *f.And.Prefix
		}
		for _, t := range f.And.Tags {
			r.Tags = append(r.Tags, Tag(t))
		}
	}
	seen := make(map[string]bool, len(r.Tags))
	for _, t := range r.Tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return errs.InvalidTag.WithMessage("The TagKey you have provided is invalid")
		}
		if seen[t.Key] {
			return errs.InvalidRequest.WithMessage("Duplicate Tag Keys are not allowed.")
		}
		seen[t.Key] = true
	}
	if shape == S3 {
		if x.DeleteMarkerReplication == nil {
			return ErrNoDeleteMarker
		}
		if x.Priority == nil {
			return ErrNoPriority
		}
	}
	return nil
}

// parseDestination reads the destination bucket and the region the
// document names for it.
func parseDestination(x *xmlDestination, shape Shape, d *Destination) error {
	if x == nil || x.Bucket == "" {
		return errs.MalformedXML
	}
	var err error
	switch shape {
	case S3:
		d.Region, d.Bucket, err = parseS3ARN(x.Bucket)
		d.ARN = x.Bucket
	case COS:
		d.Region, d.Bucket, err = parseCOSResource(x.Bucket)
		d.ARN = x.Bucket
	case OSS:
		d.Bucket, d.Region = x.Bucket, x.Location
	case OBS:
		// A name; an S3 ARN may name a remote's region (a strongroom
		// extension: OBS's document has no region).
		if strings.HasPrefix(x.Bucket, "arn:") {
			d.Region, d.Bucket, err = parseS3ARN(x.Bucket)
			d.ARN = x.Bucket
		} else {
			d.Bucket = x.Bucket
		}
	}
	if err != nil {
		return err
	}
	if d.Bucket == "" || strings.ContainsAny(d.Bucket, "/:") {
		return ErrBadARN
	}
	return nil
}

// parseS3ARN splits arn:PARTITION:s3:REGION:ACCOUNT:BUCKET.
func parseS3ARN(arn string) (region, bucket string, err error) {
	f := strings.Split(arn, ":")
	if len(f) != 6 || f[0] != "arn" || f[1] == "" || f[2] != "s3" {
		return "", "", ErrBadARN
	}
	return f[3], f[5], nil
}

// parseCOSResource splits qcs::cos:REGION::BUCKET (an S3 ARN is taken too:
// COS clients written for S3 send one).
func parseCOSResource(res string) (region, bucket string, err error) {
	if strings.HasPrefix(res, "arn:") {
		return parseS3ARN(res)
	}
	f := strings.Split(res, ":")
	if len(f) != 6 || f[0] != "qcs" || f[1] != "" || f[2] != "cos" || f[4] != "" {
		return "", "", errs.InvalidArgument.WithMessage("The destination bucket must be given as qcs::cos:<Region>::<BucketName-APPID>.")
	}
	return f[3], f[5], nil
}

// parseEncryption reads the SSE-KMS settings: whether SSE-KMS objects are
// replicated and the key their replicas are wrapped under, which go
// together.
func parseEncryption(x *xmlRule, r *Rule) error {
	enc := x.EncryptionConfiguration
	if x.Destination.EncryptionConfiguration != nil {
		enc = x.Destination.EncryptionConfiguration
	}
	var sel *xmlStatus
	if s := x.SourceSelectionCriteria; s != nil {
		sel = s.SseKmsEncryptedObjects
		if sel == nil {
			sel = s.SseKms
		}
	}
	var err error
	if r.SSEKMSEncrypted, err = enabledOr(sel, false); err != nil {
		return err
	}
	if enc != nil {
		r.ReplicaKMSKeyID = enc.ReplicaKmsKeyID
	}
	switch {
	case r.ReplicaKMSKeyID != "" && !r.SSEKMSEncrypted:
		return ErrKeyWithoutSSEKMS
	case r.SSEKMSEncrypted && r.ReplicaKMSKeyID == "":
		return ErrSSEKMSWithoutKey
	}
	return nil
}

// parseDeletes reads whether delete markers are replicated: S3's and COS's
// DeleteMarkerReplication (S3's first schema and COS replicate them unless
// told not to), OSS's Action (ALL, the default, includes deletes), OBS's
// DeleteData.
func parseDeletes(x *xmlRule, shape Shape, r *Rule) error {
	var err error
	switch shape {
	case S3:
		if r.DeleteMarkers, err = enabledOr(x.DeleteMarkerReplication, r.LegacyPrefix); err != nil {
			return err
		}
	case COS:
		if r.DeleteMarkers, err = enabledOr(x.DeleteMarkerReplication, true); err != nil {
			return err
		}
	case OSS:
		r.DeleteMarkers = true
		if x.Action != "" {
			r.DeleteMarkers = false
			for _, a := range strings.Split(x.Action, ",") {
				switch strings.TrimSpace(a) {
				case "ALL", "DELETE":
					r.DeleteMarkers = true
				case "PUT", "ABORT":
				default:
					return errs.InvalidArgument.WithMessage("Action must be ALL or PUT.")
				}
			}
		}
	case OBS:
		if x.Destination.DeleteData != "" {
			if r.DeleteMarkers, err = enabled(x.Destination.DeleteData); err != nil {
				return err
			}
		}
	}
	if r.DeleteMarkers && len(r.Tags) > 0 && x.DeleteMarkerReplication != nil {
		return ErrMarkersWithTags
	}
	return nil
}

// Document renders c as a replication document in the given shape, ready
// to be marshalled as XML. localRegion names this deployment's region where
// the shape needs one and the rule named none.
func (c *Config) Document(shape Shape, localRegion string) any {
	d := xmlConfig{Role: c.Role}
	switch shape {
	case S3:
		d.Xmlns = s3Namespace
	case OBS:
		d.Role, d.Agency = "", c.Role
	case OSS:
		d.Role = ""
	}
	for i := range c.Rules {
		d.Rules = append(d.Rules, c.Rules[i].document(shape, localRegion))
	}
	return d
}

func status(on bool) string {
	if on {
		return "Enabled"
	}
	return "Disabled"
}

func (r *Rule) document(shape Shape, localRegion string) xmlRule {
	x := xmlRule{ID: r.ID, Status: status(r.Enabled)}
	dest := &xmlDestination{StorageClass: r.StorageClass}
	x.Destination = dest
	var enc *xmlEncryption
	if r.ReplicaKMSKeyID != "" {
		enc = &xmlEncryption{ReplicaKmsKeyID: r.ReplicaKMSKeyID}
	}
	var sel *xmlSelection
	if r.SSEKMSEncrypted {
		sel = &xmlSelection{SseKmsEncryptedObjects: &xmlStatus{Status: "Enabled"}}
	}
	x.SourceSelectionCriteria = sel
	region := r.Destination.Region
	if region == "" {
		region = localRegion
	}
	switch shape {
	case S3:
		dest.Bucket = r.Destination.ARN
		if !strings.HasPrefix(dest.Bucket, "arn:") {
			dest.Bucket = "arn:aws:s3:" + r.Destination.Region + "::" + r.Destination.Bucket
		}
		dest.EncryptionConfiguration = enc
		if r.LegacyPrefix {
			x.Prefix = &r.Prefix
		} else {
			x.Filter = s3Filter(r)
			x.Priority = &r.Priority
			x.DeleteMarkerReplication = &xmlStatus{Status: status(r.DeleteMarkers)}
		}
	case COS:
		dest.Bucket = r.Destination.ARN
		if !strings.HasPrefix(dest.Bucket, "qcs:") {
			dest.Bucket = "qcs::cos:" + region + "::" + r.Destination.Bucket
		}
		x.Prefix = &r.Prefix
		if len(r.Tags) > 0 {
			x.Prefix, x.Filter = nil, s3Filter(r)
		}
		x.DeleteMarkerReplication = &xmlStatus{Status: status(r.DeleteMarkers)}
		dest.EncryptionConfiguration = enc
	case OSS:
		x.Status = "doing" // OSS reports a running rule's task state
		dest.Bucket, dest.Location = r.Destination.Bucket, region
		prefixes := r.Prefixes
		if r.Prefix != "" {
			prefixes = append([]string{r.Prefix}, prefixes...)
		}
		if len(prefixes) > 0 {
			x.PrefixSet = &xmlPrefixSet{Prefixes: prefixes}
		}
		x.Action = "PUT"
		if r.DeleteMarkers {
			x.Action = "ALL"
		}
		x.EncryptionConfiguration = enc
		x.HistoricalObjectReplication = "disabled"
	case OBS:
		dest.Bucket = r.Destination.Bucket
		if strings.HasPrefix(r.Destination.ARN, "arn:") {
			dest.Bucket = r.Destination.ARN
		}
		dest.DeleteData = status(r.DeleteMarkers)
		x.Prefix = &r.Prefix
		x.HistoricalObjectReplication = "Disabled"
		dest.EncryptionConfiguration = enc
	}
	return x
}

// s3Filter is S3's Filter element: one condition alone, several in And.
func s3Filter(r *Rule) *xmlFilter {
	switch {
	case len(r.Tags) == 0:
		p := r.Prefix
		return &xmlFilter{Prefix: &p}
	case len(r.Tags) == 1 && r.Prefix == "":
		t := xmlTag(r.Tags[0])
		return &xmlFilter{Tag: &t}
	}
	a := &xmlAnd{}
	if r.Prefix != "" {
		p := r.Prefix
		a.Prefix = &p
	}
	for _, t := range r.Tags {
		a.Tags = append(a.Tags, xmlTag(t))
	}
	return &xmlFilter{And: a}
}

// RuleIDs reads OSS's DeleteBucketReplication body, ReplicationRules with
// the IDs of the rules to delete.
func RuleIDs(body []byte) ([]string, error) {
	var d struct {
		XMLName xml.Name `xml:"ReplicationRules"`
		IDs     []string `xml:"ID"`
	}
	if err := xml.Unmarshal(body, &d); err != nil || len(d.IDs) == 0 {
		return nil, errs.MalformedXML
	}
	return d.IDs, nil
}

// Locations is OSS's GetBucketReplicationLocation document: the regions a
// destination may be in (this deployment's and the registered remotes').
func Locations(regions []string) any {
	return struct {
		XMLName   xml.Name `xml:"ReplicationLocation"`
		Locations []string `xml:"Location"`
	}{Locations: regions}
}

// ProgressDocument is OSS's GetBucketReplicationProgress document for one
// rule. newObjects is the time before which every new object has been
// replicated ("" when unknown: the progress element is left out).
func (r *Rule) ProgressDocument(localRegion, newObjects string) any {
	x := r.document(OSS, localRegion)
	type progress struct {
		HistoricalObject string `xml:"HistoricalObject,omitempty"`
		NewObject        string `xml:"NewObject,omitempty"`
	}
	type rule struct {
		ID                          string
		PrefixSet                   *xmlPrefixSet `xml:"PrefixSet"`
		Action                      string
		Destination                 *xmlDestination
		Status                      string
		HistoricalObjectReplication string
		Progress                    *progress `xml:"Progress"`
	}
	out := rule{ID: x.ID, PrefixSet: x.PrefixSet, Action: x.Action, Destination: &xmlDestination{Bucket: x.Destination.Bucket, Location: x.Destination.Location}, Status: x.Status, HistoricalObjectReplication: x.HistoricalObjectReplication}
	if newObjects != "" {
		out.Progress = &progress{NewObject: newObjects}
	}
	return struct {
		XMLName xml.Name `xml:"ReplicationProgress"`
		Rule    rule     `xml:"Rule"`
	}{Rule: out}
}
