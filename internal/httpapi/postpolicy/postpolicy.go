// Package postpolicy evaluates the policy document of a browser form upload
// (S3 POST Object and the vendors' PostObject): its expiration, the exact
// and prefix conditions on form fields, the content-length range, and that
// every form field is named by a condition. The same document format serves
// every dialect; the signature over it is checked by package auth.
//
// Errors are errs values with S3's codes and wording: a malformed document
// is InvalidPolicyDocument, a form the policy does not allow AccessDenied
// ("Invalid according to Policy: ...").
package postpolicy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// Policy is a decoded policy document.
type Policy struct {
	Expiration time.Time
	conditions []condition
	// MinLength and MaxLength bound the file's size (content-length-range;
	// several ranges intersect). MaxLength is -1 without a range.
	MinLength, MaxLength int64
}

// condition is one eq or starts-with condition.
type condition struct {
	op    string // "eq" or "starts-with"
	field string // lowercase form field name, '$' removed; "" never holds
	value string
	text  string // as S3 quotes it in its error message
}

func invalid(detail string) error {
	return errs.InvalidPolicyDocument.WithMessage("Invalid Policy: " + detail)
}

var errJSON = invalid("Invalid JSON.")

func denied(detail string) error {
	return errs.AccessDenied.WithMessage("Invalid according to Policy: " + detail)
}

// expirationLayout is ISO 8601 in UTC; fractional seconds are accepted.
const expirationLayout = "2006-01-02T15:04:05Z"

// Parse decodes the base64 policy field of a form.
func Parse(encoded string) (*Policy, error) {
	doc, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return nil, errJSON
	}
	return ParseDocument(doc)
}

// ParseDocument decodes a policy document (JSON).
func ParseDocument(doc []byte) (*Policy, error) {
	var top map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(dropTrailingCommas(doc)))
	d.UseNumber()
	if err := d.Decode(&top); err != nil || top == nil {
		return nil, errJSON
	}
	p := &Policy{MaxLength: -1}
	var exp string
	raw, ok := top["expiration"]
	if !ok {
		return nil, invalid("Policy missing expiration.")
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		return nil, invalid("Invalid 'expiration' value: '" + string(raw) + "'")
	}
	t, err := time.Parse(expirationLayout, exp)
	if err != nil {
		return nil, invalid("Invalid 'expiration' value: '" + exp + "'")
	}
	p.Expiration = t
	raw, ok = top["conditions"]
	if !ok {
		return nil, invalid("Policy missing conditions.")
	}
	var conds []json.RawMessage
	if err := json.Unmarshal(raw, &conds); err != nil {
		return nil, invalid("Invalid 'conditions' value.")
	}
	for _, c := range conds {
		if err := p.addCondition(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// dropTrailingCommas removes a comma that closes a list or an object (",]"
// or ",}" outside strings): the OBS SDK's CreateBrowserBasedSignature ends
// its conditions so, and OBS accepts it. The signature covers the policy
// as sent, so this leniency changes no signed meaning.
func dropTrailingCommas(doc []byte) []byte {
	out := make([]byte, 0, len(doc))
	inString, escaped := false, false
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			out = append(out, c)
			continue
		}
		if c == '"' {
			inString = true
		}
		if c == ',' {
			j := i + 1
			for j < len(doc) && (doc[j] == ' ' || doc[j] == '\t' || doc[j] == '\r' || doc[j] == '\n') {
				j++
			}
			if j < len(doc) && (doc[j] == ']' || doc[j] == '}') {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

func (p *Policy) addCondition(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return errJSON
		}
		if len(m) != 1 {
			return invalid("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
		}
		for name, v := range m {
			var value string
			if err := json.Unmarshal(v, &value); err != nil {
				return invalid("Invalid Simple-Condition: value must be a string.")
			}
			p.conditions = append(p.conditions, newCondition("eq", "$"+name, value))
		}
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		return invalid("Invalid condition: " + string(raw))
	}
	var op string
	if err := json.Unmarshal(list[0], &op); err != nil {
		return invalid("Invalid condition: " + string(raw))
	}
	switch strings.ToLower(op) {
	case "eq", "starts-with":
		var name, value string
		if len(list) != 3 || json.Unmarshal(list[1], &name) != nil || json.Unmarshal(list[2], &value) != nil {
			return invalid("Invalid condition: " + string(raw))
		}
		p.conditions = append(p.conditions, newCondition(strings.ToLower(op), name, value))
	case "content-length-range":
		if len(list) != 3 {
			return invalid("Invalid content-length-range: " + string(raw))
		}
		lo, ok1 := size(list[1])
		hi, ok2 := size(list[2])
		if !ok1 || !ok2 {
			return invalid("Invalid content-length-range: " + string(raw))
		}
		p.MinLength = max(p.MinLength, lo)
		if p.MaxLength < 0 || hi < p.MaxLength {
			p.MaxLength = hi
		}
	default:
		return invalid("Invalid condition: " + string(raw))
	}
	return nil
}

// size reads a non-negative integer given as a JSON number or string.
func size(raw json.RawMessage) (int64, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return 0, false
		}
		s = n.String()
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return v, err == nil && v >= 0 && v < math.MaxInt64
}

func newCondition(op, name, value string) condition {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	shown := value
	if strings.Contains(strings.ToLower(name), "customer-key") {
		shown = "***" // an SSE-C key (or its MD5) never goes into an error
	}
	c := condition{op: op, value: value, text: "[" + q(op) + ", " + q(name) + ", " + q(shown) + "]"}
	// A field is named "$name"; without the '$' the condition never holds.
	if f, ok := strings.CutPrefix(name, "$"); ok {
		c.field = strings.ToLower(f)
	}
	return c
}

// Check evaluates the policy against a form at time now. fields are the
// form fields by lowercase name, the bucket included as "bucket"; exempt
// reports the fields that need no condition (the signature fields, the
// policy itself, x-ignore-*). The content-length range is not checked
// here: the file is checked while it streams.
func (p *Policy) Check(now time.Time, fields map[string]string, exempt func(name string) bool) error {
	if !now.Before(p.Expiration) {
		return denied("Policy expired.")
	}
	covered := map[string]bool{}
	for _, c := range p.conditions {
		if c.field != "" {
			covered[c.field] = true
		}
		if !c.holds(fields) {
			return denied("Policy Condition failed: " + c.text)
		}
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		if !covered[name] && !exempt(name) {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		slices.Sort(names)
		return denied("Extra input fields: " + strings.Join(names, ", "))
	}
	return nil
}

func (c condition) holds(fields map[string]string) bool {
	if c.field == "" {
		return false
	}
	v, ok := fields[c.field]
	if c.op == "eq" {
		return ok && v == c.value
	}
	if c.value == "" {
		return true // starts-with "" allows any value, or none
	}
	if !ok {
		return false
	}
	if c.field == "content-type" {
		// A list of content types: each must start with the prefix.
		for t := range strings.SplitSeq(v, ",") {
			if !strings.HasPrefix(strings.TrimSpace(t), c.value) {
				return false
			}
		}
		return true
	}
	return strings.HasPrefix(v, c.value)
}

// LengthError is the error for a file of n bytes outside [lo, hi].
func LengthError(n, lo, hi int64) error {
	if n < lo {
		return fmt.Errorf("postpolicy: %d bytes, minimum %d: %w", n, lo, errs.EntityTooSmall.WithMessage("Your proposed upload is smaller than the minimum allowed size"))
	}
	return fmt.Errorf("postpolicy: more than %d bytes: %w", hi, errs.EntityTooLarge.WithMessage("Your proposed upload exceeds the maximum allowed size"))
}
