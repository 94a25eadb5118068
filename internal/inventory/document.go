package inventory

import (
	"encoding/xml"
	"slices"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// Shape is the element vocabulary of a dialect's inventory document.
type Shape int

const (
	// S3 is S3's InventoryConfiguration (S3BucketDestination, SSE-S3);
	// OBS, whose SDK has no inventory operations, is served it too.
	S3 Shape = iota
	// COS is Tencent COS's: COSBucketDestination, SSE-COS, Filter/And.
	COS
	// OSS is Alibaba OSS's: OSSBucketDestination, SSE-OSS, a boolean
	// IsEnabled and more filter conditions.
	OSS
)

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

type xmlKMS struct {
	KeyID string `xml:"KeyId"`
}

type xmlEncryption struct {
	SSES3  *struct{} `xml:"SSE-S3"`
	SSECOS *struct{} `xml:"SSE-COS"`
	SSEOSS *struct{} `xml:"SSE-OSS"`
	SSEKMS *xmlKMS   `xml:"SSE-KMS"`
}

type xmlBucketDestination struct {
	AccountID  string         `xml:"AccountId,omitempty"`
	RoleArn    string         `xml:"RoleArn,omitempty"`
	Bucket     string         `xml:"Bucket"`
	Format     string         `xml:"Format"`
	Prefix     string         `xml:"Prefix,omitempty"`
	Encryption *xmlEncryption `xml:"Encryption,omitempty"`
}

type xmlDestination struct {
	S3  *xmlBucketDestination `xml:"S3BucketDestination"`
	COS *xmlBucketDestination `xml:"COSBucketDestination"`
	OSS *xmlBucketDestination `xml:"OSSBucketDestination"`
}

type xmlAnd struct {
	Prefix *string `xml:"Prefix"`
}

type xmlFilter struct {
	Prefix                   *string `xml:"Prefix"`
	And                      *xmlAnd `xml:"And"`
	LastModifyBeginTimeStamp int64   `xml:"LastModifyBeginTimeStamp,omitempty"`
	LastModifyEndTimeStamp   int64   `xml:"LastModifyEndTimeStamp,omitempty"`
	LowerSizeBound           int64   `xml:"LowerSizeBound,omitempty"`
	UpperSizeBound           int64   `xml:"UpperSizeBound,omitempty"`
	StorageClass             string  `xml:"StorageClass,omitempty"`
}

type xmlFields struct {
	Fields []string `xml:"Field"`
}

type xmlSchedule struct {
	Frequency string `xml:"Frequency"`
}

type xmlConfig struct {
	XMLName                xml.Name        `xml:"InventoryConfiguration"`
	Xmlns                  string          `xml:"xmlns,attr,omitempty"`
	ID                     string          `xml:"Id"`
	IsEnabled              string          `xml:"IsEnabled"`
	Filter                 *xmlFilter      `xml:"Filter,omitempty"`
	Destination            *xmlDestination `xml:"Destination"`
	Schedule               *xmlSchedule    `xml:"Schedule"`
	IncludedObjectVersions string          `xml:"IncludedObjectVersions"`
	OptionalFields         *xmlFields      `xml:"OptionalFields,omitempty"`
}

// Parse reads an inventory document in any dialect's shape (the union of
// their elements) and validates it; id is the request's ?id= (or OSS's
// ?inventoryId=), which the document's Id must repeat.
func Parse(body []byte, id string) (*Config, error) {
	var d xmlConfig
	if err := xml.Unmarshal(body, &d); err != nil {
		return nil, errs.MalformedXML
	}
	switch {
	case d.ID == "" || d.Destination == nil || d.Schedule == nil || d.IncludedObjectVersions == "":
		return nil, errs.MalformedXML
	case d.ID != id:
		return nil, errs.InvalidArgument.WithMessage("The configuration ID in the request body does not match the id in the query string.")
	case len(d.ID) > MaxIDLength:
		return nil, errs.InvalidArgument.WithMessage("The inventory configuration ID is longer than 64 characters.")
	}
	c := &Config{ID: d.ID}
	switch d.IsEnabled {
	case "true", "True":
		c.Enabled = true
	case "false", "False":
	default:
		return nil, errs.MalformedXML
	}
	switch d.IncludedObjectVersions {
	case "All":
		c.AllVersions = true
	case "Current":
	default:
		return nil, errs.InvalidArgument.WithMessage("IncludedObjectVersions must be All or Current.")
	}
	switch d.Schedule.Frequency {
	case Daily, Weekly:
		c.Frequency = d.Schedule.Frequency
	default:
		return nil, errs.InvalidArgument.WithMessage("Schedule Frequency must be Daily or Weekly.")
	}
	var err error
	if c.Destination, err = parseDestination(d.Destination); err != nil {
		return nil, err
	}
	if c.Filter, err = parseFilter(d.Filter); err != nil {
		return nil, err
	}
	if d.OptionalFields != nil {
		for _, f := range d.OptionalFields.Fields {
			f = strings.TrimSpace(f)
			if !slices.Contains(Fields, f) {
				return nil, errs.InvalidArgument.WithMessage("Unknown inventory optional field: " + f)
			}
			if slices.Contains(c.Fields, f) {
				return nil, errs.InvalidArgument.WithMessage("Duplicate inventory optional field: " + f)
			}
			c.Fields = append(c.Fields, f)
		}
	}
	return c, nil
}

func parseDestination(x *xmlDestination) (Destination, error) {
	var b *xmlBucketDestination
	n := 0
	for _, v := range []*xmlBucketDestination{x.S3, x.COS, x.OSS} {
		if v != nil {
			b, n = v, n+1
		}
	}
	if n != 1 {
		return Destination{}, errs.MalformedXML
	}
	d := Destination{BucketARN: b.Bucket, AccountID: b.AccountID, RoleArn: b.RoleArn, Prefix: b.Prefix}
	name, ok := BucketFromARN(b.Bucket)
	if !ok {
		return d, errs.InvalidArgument.WithMessage("Invalid destination bucket ARN: " + b.Bucket)
	}
	d.Bucket = name
	switch b.Format {
	case CSV, Parquet:
		d.Format = b.Format
	case ORC:
		return d, errs.NotImplemented.WithMessage("Inventory reports in " + b.Format + " format are not supported; use CSV.")
	default:
		return d, errs.InvalidArgument.WithMessage("Invalid inventory report format: " + b.Format)
	}
	if e := b.Encryption; e != nil {
		managed := 0
		for _, v := range []*struct{}{e.SSES3, e.SSECOS, e.SSEOSS} {
			if v != nil {
				managed++
			}
		}
		switch {
		case managed == 1 && e.SSEKMS == nil:
			d.Encryption = &Encryption{}
		case managed == 0 && e.SSEKMS != nil:
			if e.SSEKMS.KeyID == "" {
				return d, errs.InvalidArgument.WithMessage("SSE-KMS report encryption needs a KeyId.")
			}
			d.Encryption = &Encryption{KMS: true, KeyID: e.SSEKMS.KeyID}
		default:
			return d, errs.MalformedXML
		}
	}
	return d, nil
}

// BucketFromARN reads a destination bucket as each vendor writes it:
// arn:aws:s3:::NAME (S3, OBS), qcs::cos:REGION::NAME (COS), acs:oss:::NAME
// (OSS).
func BucketFromARN(s string) (string, bool) {
	for _, p := range []string{"arn:aws:s3:::", "acs:oss:::"} {
		if name, ok := strings.CutPrefix(s, p); ok {
			return name, name != "" && !strings.ContainsAny(name, ":/")
		}
	}
	if rest, ok := strings.CutPrefix(s, "qcs::cos:"); ok {
		_, name, ok := strings.Cut(rest, "::")
		return name, ok && name != "" && !strings.ContainsAny(name, ":/")
	}
	return "", false
}

func parseFilter(x *xmlFilter) (Filter, error) {
	var f Filter
	if x == nil {
		return f, nil
	}
	if x.Prefix != nil {
		f.Prefix = *x.Prefix
	}
	if x.And != nil && x.And.Prefix != nil {
		if x.Prefix != nil {
			return f, errs.MalformedXML
		}
		f.Prefix = *x.And.Prefix
	}
	f.ModifiedFrom, f.ModifiedTo = x.LastModifyBeginTimeStamp, x.LastModifyEndTimeStamp
	f.MinSize, f.MaxSize = x.LowerSizeBound, x.UpperSizeBound
	f.StorageClass = x.StorageClass
	switch {
	case f.ModifiedFrom < 0 || f.ModifiedTo < 0 || f.MinSize < 0 || f.MaxSize < 0:
		return f, errs.InvalidArgument.WithMessage("Inventory filter bounds must not be negative.")
	case f.ModifiedTo > 0 && f.ModifiedFrom > f.ModifiedTo:
		return f, errs.InvalidArgument.WithMessage("LastModifyBeginTimeStamp must not be after LastModifyEndTimeStamp.")
	case f.MaxSize > 0 && f.MinSize > f.MaxSize:
		return f, errs.InvalidArgument.WithMessage("LowerSizeBound must not be greater than UpperSizeBound.")
	}
	return f, nil
}

// Document renders c as an inventory document in the given shape, ready
// to be marshalled as XML.
func (c *Config) Document(shape Shape) any { return c.document(shape, true) }

func (c *Config) document(shape Shape, top bool) xmlConfig {
	d := xmlConfig{ID: c.ID, IsEnabled: "false", IncludedObjectVersions: "Current", Schedule: &xmlSchedule{Frequency: c.Frequency}}
	if top && shape == S3 {
		d.Xmlns = s3Namespace
	}
	if c.Enabled {
		d.IsEnabled = "true"
	}
	if c.AllVersions {
		d.IncludedObjectVersions = "All"
	}
	if len(c.Fields) > 0 {
		d.OptionalFields = &xmlFields{Fields: c.Fields}
	}
	d.Filter = c.Filter.document(shape)
	b := &xmlBucketDestination{AccountID: c.Destination.AccountID, RoleArn: c.Destination.RoleArn,
		Bucket: c.Destination.BucketARN, Format: c.Destination.Format, Prefix: c.Destination.Prefix}
	if e := c.Destination.Encryption; e != nil {
		b.Encryption = &xmlEncryption{}
		switch {
		case e.KMS:
			b.Encryption.SSEKMS = &xmlKMS{KeyID: e.KeyID}
		case shape == COS:
			b.Encryption.SSECOS = &struct{}{}
		case shape == OSS:
			b.Encryption.SSEOSS = &struct{}{}
		default:
			b.Encryption.SSES3 = &struct{}{}
		}
	}
	switch shape {
	case COS:
		d.Destination = &xmlDestination{COS: b}
	case OSS:
		d.Destination = &xmlDestination{OSS: b}
	default:
		d.Destination = &xmlDestination{S3: b}
	}
	return d
}

func (f Filter) document(shape Shape) *xmlFilter {
	x := &xmlFilter{LastModifyBeginTimeStamp: f.ModifiedFrom, LastModifyEndTimeStamp: f.ModifiedTo,
		LowerSizeBound: f.MinSize, UpperSizeBound: f.MaxSize, StorageClass: f.StorageClass}
	if f.Prefix != "" {
		p := f.Prefix
		if shape == COS {
			x.And = &xmlAnd{Prefix: &p}
		} else {
			x.Prefix = &p
		}
	}
	if *x == (xmlFilter{}) {
		return nil
	}
	return x
}

// ListPage is how many configurations one List response carries (S3: 100).
const ListPage = 100

type xmlList struct {
	XMLName               xml.Name
	Xmlns                 string      `xml:"xmlns,attr,omitempty"`
	Configs               []xmlConfig `xml:"InventoryConfiguration"`
	IsTruncated           bool        `xml:"IsTruncated"`
	ContinuationToken     string      `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string      `xml:"NextContinuationToken,omitempty"`
}

// ListDocument renders one page of a List response: the configurations
// from the token on (the token is the ID of the first one; "" is the
// start). A token naming no position yields InvalidArgument.
func (e *Entry) ListDocument(shape Shape, token string) (any, error) {
	start := 0
	if token != "" {
		i, ok := slices.BinarySearchFunc(e.Configs, token, func(c Config, id string) int { return strings.Compare(c.ID, id) })
		if !ok {
			return nil, errs.InvalidArgument.WithMessage("The continuation token provided is incorrect")
		}
		start = i
	}
	// COS names the result in the singular.
	name := "ListInventoryConfigurationsResult"
	if shape == COS {
		name = "ListInventoryConfigurationResult"
	}
	d := xmlList{XMLName: xml.Name{Local: name}, ContinuationToken: token}
	if shape == S3 {
		d.Xmlns = s3Namespace
	}
	end := min(start+ListPage, len(e.Configs))
	for i := start; i < end; i++ {
		d.Configs = append(d.Configs, e.Configs[i].document(shape, false))
	}
	if end < len(e.Configs) {
		d.IsTruncated, d.NextContinuationToken = true, e.Configs[end].ID
	}
	return d, nil
}
