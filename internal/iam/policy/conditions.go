package policy

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Canonical condition keys (lower case): the keys of Request.Context.
const (
	KeySecureTransport      = "aws:securetransport"
	KeySourceIP             = "aws:sourceip"
	KeyCurrentTime          = "aws:currenttime"
	KeyEpochTime            = "aws:epochtime"
	KeyUsername             = "aws:username"
	KeyUserAgent            = "aws:useragent"
	KeyReferer              = "aws:referer"
	KeySSE                  = "s3:x-amz-server-side-encryption"
	KeySSEKMSKeyID          = "s3:x-amz-server-side-encryption-aws-kms-key-id"
	KeySSECustomerAlgorithm = "s3:x-amz-server-side-encryption-customer-algorithm"
	KeyPrefix               = "s3:prefix"
	KeyDelimiter            = "s3:delimiter"
	KeyMaxKeys              = "s3:max-keys"
	KeyACL                  = "s3:x-amz-acl"
	KeyVersionID            = "s3:versionid"
	// Tag keys: the prefixes are followed by the tag key (lower case).
	KeyExistingObjectTag    = "s3:existingobjecttag/"
	KeyRequestObjectTag     = "s3:requestobjecttag/"
	KeyRequestObjectTagKeys = "s3:requestobjecttagkeys"
)

// keyPrefixRows: vendor spellings of the tag condition keys, which name a
// tag after a '/'. Matched case-insensitively on the prefix.
var keyPrefixRows = []struct{ prefix, canonical string }{
	{"oss:existingobjecttag/", KeyExistingObjectTag},
	{"oss:requestobjecttag/", KeyRequestObjectTag},
	{"existingobjecttag/", KeyExistingObjectTag},
	{"obs:existingobjecttag/", KeyExistingObjectTag},
	{"requestobjecttag/", KeyRequestObjectTag},
	{"obs:requestobjecttag/", KeyRequestObjectTag},
}

// prefixAlias maps a vendor tag condition key (lower case) to its
// canonical key.
func prefixAlias(lc string) (string, bool) {
	for _, r := range keyPrefixRows {
		if rest, ok := strings.CutPrefix(lc, r.prefix); ok && rest != "" {
			return r.canonical + rest, true
		}
	}
	return "", false
}

// ConditionKeyMapping is one row of the condition-key table: a vendor key
// as written in a policy and the canonical key it is evaluated as.
type ConditionKeyMapping struct {
	Name      string            // as written (matched case-insensitively)
	Canonical string            // canonical key (lower case)
	Values    map[string]string // vendor value (lower case) -> canonical value
	Confirmed bool              // seen in the vendor's documentation
}

// Vendors spell encryption algorithms their own way; policy values written
// for a vendor key are translated to the canonical (S3) values the server
// puts in the context.
var (
	ossSSEValues = map[string]string{"kms": "aws:kms", "aes256": "AES256", "sm4": "SM4"}
	cosSSEValues = map[string]string{"cos/kms": "aws:kms", "kms": "aws:kms", "aes256": "AES256", "sm4": "SM4"}
	obsSSEValues = map[string]string{"kms": "aws:kms", "aes256": "AES256"}
)

// keyRows: vendor condition keys. OBS bucket policies write keys without a
// namespace ("SourceIp"); OBS IAM policies prefix them with "obs:" (and
// global ones with "g:").
var keyRows = []ConditionKeyMapping{
	{Name: "acs:SecureTransport", Canonical: KeySecureTransport, Confirmed: true},
	{Name: "cos:secure-transport", Canonical: KeySecureTransport, Confirmed: true},
	{Name: "SecureTransport", Canonical: KeySecureTransport, Confirmed: true},
	{Name: "obs:SecureTransport", Canonical: KeySecureTransport},

	{Name: "acs:SourceIp", Canonical: KeySourceIP, Confirmed: true},
	{Name: "qcs:ip", Canonical: KeySourceIP, Confirmed: true},
	{Name: "SourceIp", Canonical: KeySourceIP, Confirmed: true},
	{Name: "obs:SourceIp", Canonical: KeySourceIP, Confirmed: true},

	{Name: "acs:CurrentTime", Canonical: KeyCurrentTime},
	{Name: "qcs:current_time", Canonical: KeyCurrentTime},
	{Name: "CurrentTime", Canonical: KeyCurrentTime, Confirmed: true},
	{Name: "obs:CurrentTime", Canonical: KeyCurrentTime},
	{Name: "g:CurrentTime", Canonical: KeyCurrentTime},

	{Name: "EpochTime", Canonical: KeyEpochTime, Confirmed: true},
	{Name: "obs:EpochTime", Canonical: KeyEpochTime, Confirmed: true},

	{Name: "g:UserName", Canonical: KeyUsername, Confirmed: true},

	{Name: "acs:UserAgent", Canonical: KeyUserAgent},
	{Name: "UserAgent", Canonical: KeyUserAgent, Confirmed: true},
	{Name: "obs:UserAgent", Canonical: KeyUserAgent},
	{Name: "acs:Referer", Canonical: KeyReferer},
	{Name: "Referer", Canonical: KeyReferer, Confirmed: true},
	{Name: "obs:Referer", Canonical: KeyReferer},

	{Name: "oss:x-oss-server-side-encryption", Canonical: KeySSE, Values: ossSSEValues},
	{Name: "cos:x-cos-server-side-encryption", Canonical: KeySSE, Values: cosSSEValues},
	{Name: "x-obs-server-side-encryption", Canonical: KeySSE, Values: obsSSEValues, Confirmed: true},
	{Name: "obs:x-obs-server-side-encryption", Canonical: KeySSE, Values: obsSSEValues},

	{Name: "oss:x-oss-server-side-encryption-key-id", Canonical: KeySSEKMSKeyID},
	{Name: "cos:x-cos-server-side-encryption-cos-kms-key-id", Canonical: KeySSEKMSKeyID},
	{Name: "x-obs-server-side-encryption-kms-key-id", Canonical: KeySSEKMSKeyID},
	{Name: "obs:x-obs-server-side-encryption-kms-key-id", Canonical: KeySSEKMSKeyID},

	{Name: "cos:x-cos-server-side-encryption-customer-algorithm", Canonical: KeySSECustomerAlgorithm},
	{Name: "x-obs-server-side-encryption-customer-algorithm", Canonical: KeySSECustomerAlgorithm},
	{Name: "obs:x-obs-server-side-encryption-customer-algorithm", Canonical: KeySSECustomerAlgorithm},

	{Name: "oss:Prefix", Canonical: KeyPrefix},
	{Name: "cos:prefix", Canonical: KeyPrefix},
	{Name: "prefix", Canonical: KeyPrefix, Confirmed: true},
	{Name: "obs:prefix", Canonical: KeyPrefix},
	{Name: "oss:Delimiter", Canonical: KeyDelimiter},
	{Name: "cos:delimiter", Canonical: KeyDelimiter},
	{Name: "delimiter", Canonical: KeyDelimiter, Confirmed: true},
	{Name: "obs:delimiter", Canonical: KeyDelimiter},
	{Name: "cos:max-keys", Canonical: KeyMaxKeys},
	{Name: "max-keys", Canonical: KeyMaxKeys, Confirmed: true},
	{Name: "obs:max-keys", Canonical: KeyMaxKeys},

	{Name: "oss:x-oss-object-acl", Canonical: KeyACL},
	{Name: "cos:x-cos-acl", Canonical: KeyACL},
	{Name: "acl", Canonical: KeyACL, Confirmed: true},
	{Name: "obs:acl", Canonical: KeyACL},

	{Name: "oss:RequestObjectTagKeys", Canonical: KeyRequestObjectTagKeys},
	{Name: "RequestObjectTagKeys", Canonical: KeyRequestObjectTagKeys},
	{Name: "obs:RequestObjectTagKeys", Canonical: KeyRequestObjectTagKeys},

	{Name: "cos:versionid", Canonical: KeyVersionID, Confirmed: true},
	{Name: "VersionId", Canonical: KeyVersionID, Confirmed: true},
	{Name: "obs:VersionId", Canonical: KeyVersionID},
}

var keyAlias = func() map[string]*ConditionKeyMapping { // lower(name) -> row
	m := make(map[string]*ConditionKeyMapping, len(keyRows))
	for i := range keyRows {
		m[strings.ToLower(keyRows[i].Name)] = &keyRows[i]
	}
	return m
}()

// ConditionKeyMappings returns the vendor condition-key table. Keys not in
// it are used as written (lower-cased): "aws:SourceIp" is "aws:sourceip".
func ConditionKeyMappings() []ConditionKeyMapping {
	out := make([]ConditionKeyMapping, len(keyRows))
	for i, r := range keyRows {
		if r.Values != nil {
			v := make(map[string]string, len(r.Values))
			for k, x := range r.Values {
				v[k] = x
			}
			r.Values = v
		}
		out[i] = r
	}
	return out
}

// CanonicalConditionKey maps a condition key as written in a policy of any
// dialect to its canonical (lower-case) name.
func CanonicalConditionKey(key string) string {
	lc := strings.ToLower(key)
	if m, ok := keyAlias[lc]; ok {
		return m.Canonical
	}
	if k, ok := prefixAlias(lc); ok {
		return k
	}
	return lc
}

type kind uint8

const (
	kindString kind = iota
	kindNumeric
	kindDate
	kindBool
	kindIP
	kindARN
	kindNull
)

type cmp uint8

const (
	cmpEq cmp = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
	cmpLike
)

// operator is a base condition operator; negated ones match when the
// positive comparison matches none of the policy values.
type operator struct {
	name       string
	kind       kind
	cmp        cmp
	negated    bool
	ignoreCase bool
}

var operators = []operator{
	{"StringEquals", kindString, cmpEq, false, false},
	{"StringNotEquals", kindString, cmpEq, true, false},
	{"StringEqualsIgnoreCase", kindString, cmpEq, false, true},
	{"StringNotEqualsIgnoreCase", kindString, cmpEq, true, true},
	{"StringLike", kindString, cmpLike, false, false},
	{"StringNotLike", kindString, cmpLike, true, false},
	{"NumericEquals", kindNumeric, cmpEq, false, false},
	{"NumericNotEquals", kindNumeric, cmpEq, true, false},
	{"NumericLessThan", kindNumeric, cmpLt, false, false},
	{"NumericLessThanEquals", kindNumeric, cmpLe, false, false},
	{"NumericGreaterThan", kindNumeric, cmpGt, false, false},
	{"NumericGreaterThanEquals", kindNumeric, cmpGe, false, false},
	{"DateEquals", kindDate, cmpEq, false, false},
	{"DateNotEquals", kindDate, cmpEq, true, false},
	{"DateLessThan", kindDate, cmpLt, false, false},
	{"DateLessThanEquals", kindDate, cmpLe, false, false},
	{"DateGreaterThan", kindDate, cmpGt, false, false},
	{"DateGreaterThanEquals", kindDate, cmpGe, false, false},
	{"Bool", kindBool, cmpEq, false, false},
	{"IpAddress", kindIP, cmpEq, false, false},
	{"NotIpAddress", kindIP, cmpEq, true, false},
	{"ArnEquals", kindARN, cmpEq, false, false},
	{"ArnNotEquals", kindARN, cmpEq, true, false},
	{"ArnLike", kindARN, cmpLike, false, false},
	{"ArnNotLike", kindARN, cmpLike, true, false},
	{"Null", kindNull, cmpEq, false, false},
}

// Aliases: OBS short forms and COS (CAM) operator names.
var operatorAliases = map[string]string{
	"streq": "StringEquals", "strneq": "StringNotEquals",
	"streqi": "StringEqualsIgnoreCase", "strneqi": "StringNotEqualsIgnoreCase",
	"strl": "StringLike", "strnl": "StringNotLike",
	"numeq": "NumericEquals", "numneq": "NumericNotEquals",
	"numlt": "NumericLessThan", "numlteq": "NumericLessThanEquals",
	"numgt": "NumericGreaterThan", "numgteq": "NumericGreaterThanEquals",
	"dateeq": "DateEquals", "dateneq": "DateNotEquals",
	"datelt": "DateLessThan", "datelteq": "DateLessThanEquals",
	"dategt": "DateGreaterThan", "dategteq": "DateGreaterThanEquals",

	"string_equal": "StringEquals", "string_not_equal": "StringNotEquals",
	"string_equal_ignore_case": "StringEqualsIgnoreCase", "string_not_equal_ignore_case": "StringNotEqualsIgnoreCase",
	"string_like": "StringLike", "string_not_like": "StringNotLike",
	"numeric_equal": "NumericEquals", "numeric_not_equal": "NumericNotEquals",
	"numeric_less_than": "NumericLessThan", "numeric_less_than_equal": "NumericLessThanEquals",
	"numeric_greater_than": "NumericGreaterThan", "numeric_greater_than_equal": "NumericGreaterThanEquals",
	"date_equal": "DateEquals", "date_not_equal": "DateNotEquals",
	"date_less_than": "DateLessThan", "date_less_than_equal": "DateLessThanEquals",
	"date_greater_than": "DateGreaterThan", "date_greater_than_equal": "DateGreaterThanEquals",
	"bool_equal": "Bool", "ip_equal": "IpAddress", "ip_not_equal": "NotIpAddress",
	"null_equal": "Null",
}

var operatorByLC = func() map[string]*operator {
	m := make(map[string]*operator, len(operators)+len(operatorAliases))
	for i := range operators {
		m[strings.ToLower(operators[i].name)] = &operators[i]
	}
	for a, n := range operatorAliases {
		m[a] = m[strings.ToLower(n)]
	}
	return m
}()

type qualifier uint8

const (
	qualNone qualifier = iota
	qualAnyValue
	qualAllValues
)

// parseOperator splits "ForAnyValue:StringEqualsIfExists" (or COS
// "for_any_value:string_equal_if_exist") into its parts.
func parseOperator(name string) (op *operator, q qualifier, ifExists bool, err error) {
	lc := strings.ToLower(name)
	for _, p := range []struct {
		prefix string
		q      qualifier
	}{{"foranyvalue:", qualAnyValue}, {"for_any_value:", qualAnyValue}, {"forallvalues:", qualAllValues}, {"for_all_value:", qualAllValues}} {
		if strings.HasPrefix(lc, p.prefix) {
			lc, q = lc[len(p.prefix):], p.q
			break
		}
	}
	for _, s := range []string{"ifexists", "_if_exist"} {
		if strings.HasSuffix(lc, s) && len(lc) > len(s) {
			lc, ifExists = lc[:len(lc)-len(s)], true
			break
		}
	}
	op = operatorByLC[lc]
	if op == nil {
		return nil, 0, false, errorf("unknown operator %q", name)
	}
	if op.kind == kindNull && (ifExists || q != qualNone) {
		return nil, 0, false, errorf("operator %q: Null takes neither IfExists nor ForAnyValue/ForAllValues", name)
	}
	return op, q, ifExists, nil
}

// condition is one key of one operator block: values are ORed (NORed for
// negated operators).
type condition struct {
	op       *operator
	qual     qualifier
	ifExists bool
	key      string // canonical, lower case
	strs     []string
	nums     []float64
	dates    []time.Time
	prefixes []netip.Prefix
	arns     [][6]string
	bools    []bool // Bool and Null
}

// newCondition validates and pre-parses the policy values.
func newCondition(op *operator, q qualifier, ifExists bool, key string, values []string) (*condition, error) {
	c := &condition{op: op, qual: q, ifExists: ifExists}
	lc := strings.ToLower(key)
	c.key = lc
	if k, ok := prefixAlias(lc); ok {
		c.key = k
	}
	if m, ok := keyAlias[lc]; ok {
		c.key = m.Canonical
		if m.Values != nil {
			vs := make([]string, len(values))
			for i, v := range values {
				if t, ok := m.Values[strings.ToLower(v)]; ok {
					v = t
				}
				vs[i] = v
			}
			values = vs
		}
	}
	for _, v := range values {
		switch op.kind {
		case kindString:
			c.strs = append(c.strs, v)
		case kindNumeric:
			f, ok := parseNumber(v)
			if !ok {
				return nil, errorf("%q is not a number", v)
			}
			c.nums = append(c.nums, f)
		case kindDate:
			t, ok := parseDate(v)
			if !ok {
				return nil, errorf("%q is not a date (ISO 8601, e.g. 2026-01-02T15:04:05Z, or epoch seconds)", v)
			}
			c.dates = append(c.dates, t)
		case kindBool, kindNull:
			switch strings.ToLower(v) {
			case "true":
				c.bools = append(c.bools, true)
			case "false":
				c.bools = append(c.bools, false)
			default:
				return nil, errorf("%q is not true or false", v)
			}
		case kindIP:
			p, ok := parsePrefix(v)
			if !ok {
				return nil, errorf("%q is not an IP address or CIDR block", v)
			}
			c.prefixes = append(c.prefixes, p)
		case kindARN:
			a, ok := splitARN(v)
			if !ok {
				return nil, errorf("%q is not an ARN (arn:partition:service:region:account:resource)", v)
			}
			c.arns = append(c.arns, a)
		}
	}
	return c, nil
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02"}

func parseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	return time.Time{}, false
}

func parsePrefix(s string) (netip.Prefix, bool) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

func splitARN(s string) ([6]string, bool) {
	var a [6]string
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return a, false
		}
		a[i], s = s[:j], s[j+1:]
	}
	a[5] = s
	return a, true
}

// eval reports whether the condition holds for the request context,
// following AWS: a missing key makes ...IfExists and ForAllValues true,
// ForAnyValue false, negated operators true and all others false; Null
// tests presence. A key mapped to no values counts as missing.
func (c *condition) eval(ctx map[string][]string) bool {
	vals := ctx[c.key]
	present := len(vals) > 0
	if c.op.kind == kindNull {
		for _, want := range c.bools { // Null: true <=> key missing
			if want != present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.ifExists, c.qual == qualAllValues:
			return true
		case c.qual == qualAnyValue:
			return false
		}
		return c.op.negated
	}
	switch c.qual {
	case qualAnyValue:
		for _, v := range vals {
			if c.satisfied(v) {
				return true
			}
		}
		return false
	case qualAllValues:
		for _, v := range vals {
			if !c.satisfied(v) {
				return false
			}
		}
		return true
	}
	// No set qualifier: a positive operator needs some request value to
	// match; a negated one needs every request value to match none.
	if c.op.negated {
		for _, v := range vals {
			if !c.satisfied(v) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if c.satisfied(v) {
			return true
		}
	}
	return false
}

// satisfied reports whether one request value satisfies the operator. A
// value of the wrong type (not a number, date, address...) satisfies
// neither the operator nor its negation.
func (c *condition) satisfied(v string) bool {
	m, ok := c.matchAny(v)
	if !ok {
		return false
	}
	return m != c.op.negated
}

// matchAny applies the positive comparison of the operator to one request
// value against every policy value (ORed).
func (c *condition) matchAny(v string) (match, ok bool) {
	switch c.op.kind {
	case kindString:
		for _, p := range c.strs {
			switch {
			case c.op.cmp == cmpLike:
				if wildcard(p, v) {
					return true, true
				}
			case c.op.ignoreCase:
				if strings.EqualFold(p, v) {
					return true, true
				}
			default:
				if p == v {
					return true, true
				}
			}
		}
		return false, true
	case kindNumeric:
		f, ok := parseNumber(v)
		if !ok {
			return false, false
		}
		for _, p := range c.nums {
			if compare(c.op.cmp, cmpFloat(f, p)) {
				return true, true
			}
		}
		return false, true
	case kindDate:
		t, ok := parseDate(v)
		if !ok {
			return false, false
		}
		for _, p := range c.dates {
			if compare(c.op.cmp, t.Compare(p)) {
				return true, true
			}
		}
		return false, true
	case kindBool:
		var b bool
		switch {
		case strings.EqualFold(v, "true"):
			b = true
		case strings.EqualFold(v, "false"):
		default:
			return false, false
		}
		for _, p := range c.bools {
			if p == b {
				return true, true
			}
		}
		return false, true
	case kindIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false, false
		}
		a = a.Unmap().WithZone("")
		for _, p := range c.prefixes {
			if p.Contains(a) {
				return true, true
			}
		}
		return false, true
	case kindARN:
		a, ok := splitARN(v)
		if !ok {
			return false, false
		}
	next:
		for _, p := range c.arns {
			// ArnEquals and ArnLike alike match each of the six
			// components separately, with wildcards (as AWS documents).
			for i := range p {
				if !wildcard(p[i], a[i]) {
					continue next
				}
			}
			return true, true
		}
		return false, true
	}
	return false, false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compare(c cmp, r int) bool {
	switch c {
	case cmpEq:
		return r == 0
	case cmpLt:
		return r < 0
	case cmpLe:
		return r <= 0
	case cmpGt:
		return r > 0
	case cmpGe:
		return r >= 0
	}
	return false
}
