// Package policy is strongroom's access-policy language: it parses bucket
// policies and user (identity) policies written in the AWS policy grammar,
// or in the OSS, COS and OBS variants of it, and evaluates requests against
// them. It does no I/O.
//
// Every dialect's names are mapped at parse time to one canonical set: S3
// action names (ActionMappings), canonical S3 ARNs for resources
// (CanonicalResource) and AWS/S3 condition keys (ConditionKeyMappings). A
// policy written in one dialect's names therefore governs requests arriving
// through any dialect, provided the server describes each request with
// canonical names (the Action*, Key* and S3ARNPrefix constants).
//
// Evaluation follows AWS: an explicit Deny in any applicable statement
// wins, then any Allow, else the policy does not apply. Condition keys are
// case-insensitive, values case-sensitive except for the ...IgnoreCase
// operators; several keys in one operator block, and several operators,
// are ANDed; several values of one key are ORed (a negated operator
// matches when the request value matches none of them). A key missing from
// the request makes a ...IfExists operator and ForAllValues true,
// ForAnyValue false, a negated operator (StringNotEquals, StringNotLike,
// NumericNotEquals, DateNotEquals, NotIpAddress, ArnNotEquals, ArnNotLike)
// true and every other operator false; Null tests presence.
//
// A parsed Policy is immutable and safe for concurrent use.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// MaxPolicySize is the largest policy document accepted, in bytes (the
// AWS and OBS limit for a bucket policy).
const MaxPolicySize = 20 * 1024

// Decision is the outcome of evaluating a request.
type Decision int

const (
	// NotApplicable: no statement applies (the caller's default decides:
	// the bucket owner is allowed, everyone else denied).
	NotApplicable Decision = iota
	// Allow: an Allow statement applies and no Deny does.
	Allow
	// Deny: an explicit Deny statement applies.
	Deny
)

func (d Decision) String() string {
	switch d {
	case NotApplicable:
		return "NotApplicable"
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "Decision(" + strconv.Itoa(int(d)) + ")"
}

// Request is what a policy is evaluated against, in canonical names.
type Request struct {
	Principal string // user name; "" = anonymous
	Account   string // account ID used in principal ARNs, e.g. "strongroom"
	Action    string // canonical action, e.g. ActionGetObject
	Resource  string // "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key"
	// Context maps canonical condition keys (lower case, e.g. KeySourceIP)
	// to the request's values. A key absent from the map, or mapped to no
	// values, is missing.
	Context map[string][]string
}

// Policy is a parsed, validated policy document.
type Policy struct {
	raw      []byte
	version  string
	id       string
	identity bool
	stmts    []statement
}

type statement struct {
	source       string // Sid, or "Statement[i]"
	deny         bool
	principal    *principals // nil in identity policies
	notPrincipal bool
	allActions   bool
	actions      map[string]struct{}
	notAction    bool
	anyResource  bool // identity policy without Resource / NotResource
	resources    []resource
	notResource  bool
	conds        []*condition
}

// Parse parses a bucket (resource) policy: every statement names its
// principals with Principal or NotPrincipal. Errors are
// errs.MalformedPolicy with a message that points at the problem.
//
// Accepted on top of the AWS grammar, so that the vendors' documented
// policies parse: element names in any letter case (COS writes them in
// lower case), Effect "allow"/"deny", Version "1" (OSS), "2.0" (COS) and
// "1.1" (OBS IAM), Principal as an array of IDs (OSS; [] means everyone),
// {"qcs": ...} (COS) and {"ID": ...} (OBS) principals, and the dialects'
// action, resource, condition-key and operator spellings.
func Parse(doc []byte) (*Policy, error) { return parse(doc, false) }

// ParseIdentity parses a user (identity) policy: it names no principal
// (Principal and NotPrincipal are rejected) and applies to the user it is
// attached to. A statement without Resource or NotResource applies to every
// resource.
func ParseIdentity(doc []byte) (*Policy, error) { return parse(doc, true) }

// JSON returns the policy document as it was given.
func (p *Policy) JSON() []byte { return bytes.Clone(p.raw) }

// Version returns the document's Version ("" if absent).
func (p *Policy) Version() string { return p.version }

// ID returns the document's Id ("" if absent).
func (p *Policy) ID() string { return p.id }

// Evaluate returns Deny if any applicable statement denies, else Allow if
// any applicable statement allows, else NotApplicable.
func (p *Policy) Evaluate(r *Request) Decision {
	d, _ := p.Explain(r)
	return d
}

// Explain is Evaluate that also names the deciding statement (its Sid, or
// "Statement[i]"), for audit logs. The source is "" for NotApplicable.
func (p *Policy) Explain(r *Request) (Decision, string) {
	if p == nil || r == nil {
		return NotApplicable, ""
	}
	allow := -1
	for i := range p.stmts {
		s := &p.stmts[i]
		if !s.deny && allow >= 0 {
			continue // already allowed: only a Deny can change the outcome
		}
		if !s.applies(r) {
			continue
		}
		if s.deny {
			return Deny, s.source
		}
		allow = i
	}
	if allow >= 0 {
		return Allow, p.stmts[allow].source
	}
	return NotApplicable, ""
}

// Evaluate evaluates r against several policies (a bucket policy and the
// user's identity policies, say): an explicit Deny in any of them wins,
// then an Allow in any of them, else NotApplicable. Nil policies are
// skipped.
func Evaluate(r *Request, policies ...*Policy) Decision {
	out := NotApplicable
	for _, p := range policies {
		switch p.Evaluate(r) {
		case Deny:
			return Deny
		case Allow:
			out = Allow
		}
	}
	return out
}

func (s *statement) applies(r *Request) bool {
	if s.principal != nil && s.principal.match(r.Principal, r.Account) == s.notPrincipal {
		return false
	}
	if s.matchAction(r.Action) == s.notAction {
		return false
	}
	if s.matchResource(r.Resource) == s.notResource {
		return false
	}
	for _, c := range s.conds {
		if !c.eval(r.Context) {
			return false
		}
	}
	return true
}

func (s *statement) matchAction(a string) bool {
	if s.allActions {
		return true
	}
	if _, ok := s.actions[a]; ok {
		return true
	}
	if _, ok := canonicalExact[a]; ok {
		return false
	}
	// Not a canonical name as written: try it case-insensitively.
	if c, ok := canonicalByLC[strings.ToLower(a)]; ok && c != a {
		_, ok = s.actions[c]
		return ok
	}
	return false
}

func (s *statement) matchResource(arn string) bool {
	if s.anyResource {
		return true
	}
	for i := range s.resources {
		if s.resources[i].match(arn) {
			return true
		}
	}
	return false
}

// ---- parsing ----

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

func malformed(path string, err error) error {
	if path == "" {
		return errs.MalformedPolicy.WithMessage(err.Error())
	}
	return errs.MalformedPolicy.WithMessage(path + ": " + err.Error())
}

var versions = map[string]bool{"2012-10-17": true, "2008-10-17": true, "1": true, "2.0": true, "1.1": true}

func parse(doc []byte, identity bool) (*Policy, error) {
	if len(doc) > MaxPolicySize {
		return nil, malformed("", errorf("policy document is %d bytes, more than the %d allowed", len(doc), MaxPolicySize))
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, malformed("", errorf("empty policy document"))
	}
	if !json.Valid(doc) {
		return nil, malformed("", errorf("policy is not valid JSON"))
	}
	ms, ok := members(doc)
	if !ok {
		return nil, malformed("", errorf("policy must be a JSON object"))
	}
	p := &Policy{raw: bytes.Clone(doc), identity: identity}
	var stmtRaw json.RawMessage
	seen := map[string]bool{}
	for _, m := range ms {
		lk := strings.ToLower(m.key)
		if seen[lk] {
			return nil, malformed("", errorf("duplicate key %q", m.key))
		}
		seen[lk] = true
		switch lk {
		case "version":
			v, err := jsonString(m.val)
			if err != nil {
				return nil, malformed("Version", err)
			}
			if !versions[v] {
				return nil, malformed("Version", errorf("unsupported version %q (use \"2012-10-17\")", v))
			}
			p.version = v
		case "id":
			v, err := jsonString(m.val)
			if err != nil {
				return nil, malformed("Id", err)
			}
			p.id = v
		case "statement":
			stmtRaw = m.val
		default:
			return nil, malformed("", errorf("unknown top-level key %q", m.key))
		}
	}
	if stmtRaw == nil {
		return nil, malformed("Statement", errorf("missing"))
	}
	var raws []json.RawMessage
	switch kindOf(stmtRaw) {
	case '{':
		raws = []json.RawMessage{stmtRaw}
	case '[':
		if err := json.Unmarshal(stmtRaw, &raws); err != nil {
			return nil, malformed("Statement", err)
		}
		if len(raws) == 0 {
			return nil, malformed("Statement", errorf("no statements"))
		}
	default:
		return nil, malformed("Statement", errorf("must be an object or an array of objects"))
	}
	p.stmts = make([]statement, 0, len(raws))
	for i, raw := range raws {
		s, err := parseStatement(raw, "Statement["+strconv.Itoa(i)+"]", identity)
		if err != nil {
			return nil, err
		}
		p.stmts = append(p.stmts, s)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage, path string, identity bool) (statement, error) {
	s := statement{source: path}
	ms, ok := members(raw)
	if !ok {
		return s, malformed(path, errorf("must be an object"))
	}
	got := map[string]json.RawMessage{}
	for _, m := range ms {
		lk := strings.ToLower(m.key)
		switch lk {
		case "sid", "effect", "principal", "notprincipal", "action", "notaction", "resource", "notresource", "condition":
		default:
			return s, malformed(path, errorf("unknown key %q", m.key))
		}
		if _, dup := got[lk]; dup {
			return s, malformed(path, errorf("duplicate key %q", m.key))
		}
		got[lk] = m.val
	}

	if v, ok := got["sid"]; ok {
		sid, err := jsonString(v)
		if err != nil {
			return s, malformed(path+".Sid", err)
		}
		if sid != "" {
			s.source = sid
		}
	}

	eff, ok := got["effect"]
	if !ok {
		return s, malformed(path, errorf("missing Effect"))
	}
	e, err := jsonString(eff)
	if err != nil {
		return s, malformed(path+".Effect", err)
	}
	switch strings.ToLower(e) {
	case "allow":
	case "deny":
		s.deny = true
	default:
		return s, malformed(path+".Effect", errorf("must be \"Allow\" or \"Deny\", not %q", e))
	}

	// Principal / NotPrincipal
	pr, hasP := got["principal"]
	npr, hasNP := got["notprincipal"]
	switch {
	case identity && (hasP || hasNP):
		name := "Principal"
		if !hasP {
			name = "NotPrincipal"
		}
		return s, malformed(path, errorf("%s is not allowed in a user (identity) policy", name))
	case hasP && hasNP:
		return s, malformed(path, errorf("both Principal and NotPrincipal"))
	case !identity && !hasP && !hasNP:
		return s, malformed(path, errorf("missing Principal or NotPrincipal"))
	case hasP:
		if s.principal, err = parsePrincipals(pr); err != nil {
			return s, malformed(path+".Principal", err)
		}
	case hasNP:
		s.notPrincipal = true
		if s.principal, err = parsePrincipals(npr); err != nil {
			return s, malformed(path+".NotPrincipal", err)
		}
	}

	// Action / NotAction
	act, hasA := got["action"]
	nact, hasNA := got["notaction"]
	switch {
	case hasA && hasNA:
		return s, malformed(path, errorf("both Action and NotAction"))
	case !hasA && !hasNA:
		return s, malformed(path, errorf("missing Action or NotAction"))
	case hasNA:
		s.notAction, act = true, nact
	}
	apath := path + ".Action"
	if s.notAction {
		apath = path + ".NotAction"
	}
	names, err := stringList(act)
	if err != nil {
		return s, malformed(apath, err)
	}
	s.actions = map[string]struct{}{}
	for _, n := range names {
		set, all, err := resolveAction(n)
		if err != nil {
			return s, malformed(apath, err)
		}
		if all {
			s.allActions = true
		}
		for a := range set {
			s.actions[a] = struct{}{}
		}
	}

	// Resource / NotResource
	res, hasR := got["resource"]
	nres, hasNR := got["notresource"]
	switch {
	case hasR && hasNR:
		return s, malformed(path, errorf("both Resource and NotResource"))
	case !hasR && !hasNR:
		if !identity {
			return s, malformed(path, errorf("missing Resource or NotResource"))
		}
		s.anyResource = true
	case hasNR:
		s.notResource, res = true, nres
	}
	if !s.anyResource {
		rpath := path + ".Resource"
		if s.notResource {
			rpath = path + ".NotResource"
		}
		names, err := stringList(res)
		if err != nil {
			return s, malformed(rpath, err)
		}
		for _, n := range names {
			r, err := parseResource(n)
			if err != nil {
				return s, malformed(rpath, err)
			}
			s.resources = append(s.resources, r)
		}
	}

	if c, ok := got["condition"]; ok {
		if s.conds, err = parseConditions(c, path+".Condition"); err != nil {
			return s, err
		}
	}
	return s, nil
}

// parsePrincipals parses "*", an OSS-style array of IDs, or an object
// {"AWS"|"CanonicalUser"|"qcs"|"ID"|"Service"|"Federated": string | [string]}.
func parsePrincipals(raw json.RawMessage) (*principals, error) {
	p := &principals{}
	switch kindOf(raw) {
	case '"':
		v, _ := jsonString(raw)
		if v != "*" {
			return nil, errorf("must be \"*\" or an object such as {\"AWS\": [...]}, not %q", v)
		}
		p.anyone = true
		return p, nil
	case '[':
		// OSS: an array of IDs; an empty array means everyone.
		vs, err := stringList(raw)
		if err != nil {
			var empty []json.RawMessage
			if json.Unmarshal(raw, &empty) == nil && len(empty) == 0 {
				p.anyone = true
				return p, nil
			}
			return nil, err
		}
		for _, v := range vs {
			if err := p.addAWS(v); err != nil {
				return nil, err
			}
		}
		return p, nil
	case '{':
	default:
		return nil, errorf("must be \"*\" or an object such as {\"AWS\": [...]}")
	}
	ms, _ := members(raw)
	if len(ms) == 0 {
		return nil, errorf("names no principal")
	}
	seen := map[string]bool{}
	for _, m := range ms {
		lk := strings.ToLower(m.key)
		if seen[lk] {
			return nil, errorf("duplicate key %q", m.key)
		}
		seen[lk] = true
		var add func(string) error
		switch lk {
		case "aws":
			add = p.addAWS
		case "canonicaluser":
			add = p.addCanonical
		case "qcs":
			add = p.addQCS
		case "id":
			add = p.addOBS
		case "service", "federated":
			// Valid, but no such principal exists in strongroom.
			add = func(v string) error {
				if v == "" {
					return errorf("empty principal")
				}
				return nil
			}
		default:
			return nil, errorf("unknown principal type %q (want AWS, CanonicalUser, qcs or ID)", m.key)
		}
		vs, err := stringList(m.val)
		if err != nil {
			return nil, errorf("%s: %v", m.key, err)
		}
		for _, v := range vs {
			if err := add(v); err != nil {
				return nil, errorf("%s: %v", m.key, err)
			}
		}
	}
	return p, nil
}

func parseConditions(raw json.RawMessage, path string) ([]*condition, error) {
	ops, ok := members(raw)
	if !ok {
		return nil, malformed(path, errorf("must be an object"))
	}
	var out []*condition
	seenOp := map[string]bool{}
	for _, o := range ops {
		lo := strings.ToLower(o.key)
		if seenOp[lo] {
			return nil, malformed(path, errorf("duplicate operator %q", o.key))
		}
		seenOp[lo] = true
		op, q, ifExists, err := parseOperator(o.key)
		if err != nil {
			return nil, malformed(path, err)
		}
		opath := path + "." + o.key
		keys, ok := members(o.val)
		if !ok {
			return nil, malformed(opath, errorf("must be an object of condition keys"))
		}
		if len(keys) == 0 {
			return nil, malformed(opath, errorf("no condition keys"))
		}
		seenKey := map[string]bool{}
		for _, k := range keys {
			kpath := opath + "[" + strconv.Quote(k.key) + "]"
			lk := strings.ToLower(k.key)
			if lk == "" {
				return nil, malformed(kpath, errorf("empty condition key"))
			}
			if seenKey[lk] {
				return nil, malformed(opath, errorf("duplicate condition key %q", k.key))
			}
			seenKey[lk] = true
			vals, err := conditionValues(k.val)
			if err != nil {
				return nil, malformed(kpath, err)
			}
			c, err := newCondition(op, q, ifExists, k.key, vals)
			if err != nil {
				return nil, malformed(kpath, err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// ---- JSON helpers ----

type member struct {
	key string
	val json.RawMessage
}

// members returns an object's members in document order (duplicates
// included, so that callers can reject them), or false if raw is not an
// object.
func members(raw []byte) ([]member, bool) {
	if kindOf(raw) != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, ok := t.(string)
		if !ok {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, member{k, v})
	}
	return out, true
}

// kindOf returns the first byte of a JSON value: '{', '[', '"', 't', 'f',
// 'n', or a digit / '-' for numbers (0 if empty).
func kindOf(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func jsonString(raw json.RawMessage) (string, error) {
	if kindOf(raw) != '"' {
		return "", errorf("must be a string")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errorf("must be a string")
	}
	return s, nil
}

// stringList accepts a string or a non-empty array of non-empty strings.
func stringList(raw json.RawMessage) ([]string, error) {
	switch kindOf(raw) {
	case '"':
		s, err := jsonString(raw)
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, errorf("empty string")
		}
		return []string{s}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, errorf("must be a string or an array of strings")
		}
		if len(items) == 0 {
			return nil, errorf("empty array")
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, err := jsonString(it)
			if err != nil {
				return nil, errorf("must be a string or an array of strings")
			}
			if s == "" {
				return nil, errorf("empty string")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, errorf("must be a string or an array of strings")
}

// conditionValues accepts a string, number or boolean, or a non-empty
// array of them; numbers keep their literal text.
func conditionValues(raw json.RawMessage) ([]string, error) {
	scalar := func(r json.RawMessage) (string, bool) {
		switch k := kindOf(r); {
		case k == '"':
			s, err := jsonString(r)
			return s, err == nil
		case k == 't' || k == 'f' || k == '-' || (k >= '0' && k <= '9'):
			return string(bytes.TrimSpace(r)), true
		}
		return "", false
	}
	if kindOf(raw) == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, errorf("values must be strings, numbers or booleans")
		}
		if len(items) == 0 {
			return nil, errorf("no values")
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, ok := scalar(it)
			if !ok {
				return nil, errorf("values must be strings, numbers or booleans")
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, ok := scalar(raw)
	if !ok {
		return nil, errorf("values must be strings, numbers or booleans")
	}
	return []string{s}, nil
}
