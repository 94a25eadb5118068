// Package origin is back-to-source (origin pull): the canonical model of a
// bucket's origin rules, whichever dialect's document carried them (COS
// `?origin`, OSS `PutBucketWebsite` mirror rules, the S3 dialect's
// `?x-strongroom-origin` extension), which rule a missed key matches, the
// URL it is fetched from, and the guarded HTTP client that fetches it. It
// decides and fetches; internal/service stores.
package origin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Config names in meta.Bucket.Config.
const (
	// ConfigName holds a bucket's origin rules (COS ?origin and the S3
	// extension), JSON-encoded Config.
	ConfigName = "origin"
	// WebsiteConfigName holds a bucket's OSS website configuration
	// (index and error documents plus its routing rules), JSON-encoded
	// Website.
	WebsiteConfigName = "website"
)

// Rule types.
const (
	// Mirror fetches the object from the origin, answers the client and
	// stores it.
	Mirror = "Mirror"
	// Proxy fetches and answers without storing (COS Proxy, OSS
	// MirrorProxyPass).
	Proxy = "Proxy"
	// Redirect answers 3xx with the origin URL as Location (COS
	// Redirect, OSS External).
	Redirect = "Redirect"
)

// Header is a header name and value a rule sets on origin requests.
type Header struct{ Key, Value string }

// Headers says which request headers an origin request carries.
type Headers struct {
	PassAll bool     `json:",omitempty"` // every header but the never-passed ones
	Pass    []string `json:",omitempty"` // these headers of the request
	Remove  []string `json:",omitempty"` // not these (with PassAll)
	Set     []Header `json:",omitempty"` // these values, whatever the request says
}

// Rule is one origin rule.
type Rule struct {
	// Priority orders the rules: the lowest number is tried first (COS
	// RulePriority, OSS RuleNumber).
	Priority int
	Type     string // Mirror, Proxy or Redirect
	// Prefix selects the keys (OriginCondition/Prefix, KeyPrefixEquals);
	// Suffix (OSS KeySuffixEquals) too.
	Prefix string `json:",omitempty"`
	Suffix string `json:",omitempty"`
	// StatusCode is the status that triggers the rule: only 404 (a
	// missing object) triggers a pull here.
	StatusCode string `json:",omitempty"`

	// Where: Host ("name[:port]", COS HostInfo/HostName) and Protocol
	// (COS "HTTP", "HTTPS" or "FOLLOW" the request's), or URL (OSS
	// MirrorURL, "http(s)://host[:port]/dir/"): the key follows.
	Host     string   `json:",omitempty"`
	Standby  []string `json:",omitempty"` // COS StandbyHostName_N, kept and echoed
	Weight   int64    `json:",omitempty"` // COS HostInfo/Weight, kept and echoed
	Protocol string   `json:",omitempty"`
	URL      string   `json:",omitempty"`

	// Key rewriting: KeyPrefix replaces Prefix in the origin path (COS
	// FileInfo PrefixConfiguration, OSS ReplaceKeyPrefixWith),
	// KeySuffix is appended (COS SuffixConfiguration), FixedFile
	// replaces the whole key (COS FixedFileConfiguration, OSS
	// ReplaceKeyWith, where "${key}" stands for the key).
	KeyPrefix    string `json:",omitempty"`
	KeyPrefixSet bool   `json:",omitempty"` // KeyPrefix given (even empty)
	KeySuffix    string `json:",omitempty"`
	FixedFile    string `json:",omitempty"`

	FollowQueryString bool    `json:",omitempty"`
	Headers           Headers `json:",omitempty"`
	// FollowRedirect: an origin 3xx is followed (up to 10 times); else
	// passed to the client as a redirect.
	FollowRedirect bool `json:",omitempty"`
	// RedirectCode is the status of a Redirect rule's answer (301, 302,
	// 307; 0: 302).
	RedirectCode int `json:",omitempty"`
	// CheckMD5 (OSS MirrorCheckMd5): an origin Content-MD5 must match
	// the body, or nothing is stored.
	CheckMD5 bool `json:",omitempty"`
	// CopyOriginData false (COS): a Mirror rule answers from the origin
	// without storing. TransparentErrorCode (COS): an origin error status
	// reaches the client as it is, instead of 424.
	CopyOriginData       *bool `json:",omitempty"`
	TransparentErrorCode *bool `json:",omitempty"`
	// Echoed document fields that change nothing here.
	FollowAllHeadersSet bool  `json:",omitempty"` // COS FollowAllHeaders given
	FollowRedirectSet   bool  `json:",omitempty"` // COS FollowRedirection / OSS MirrorFollowRedirect given
	FollowQuerySet      bool  `json:",omitempty"` // COS FollowQueryString given
	PassQueryString     *bool `json:",omitempty"` // OSS PassQueryString (MirrorPassQueryString wins)
	EnableReplacePrefix *bool `json:",omitempty"` // OSS
	// ID and Raw: an OBS rule's id and its JSON as sent, echoed.
	ID  string          `json:",omitempty"`
	Raw json.RawMessage `json:",omitempty"`
}

// Config is a bucket's origin rules.
type Config struct {
	Rules []Rule
}

// Website is an OSS website configuration: its documents, kept and
// echoed, and its routing rules, of which the mirror and external ones
// act on missed keys.
type Website struct {
	IndexSuffix   string `json:",omitempty"`
	SupportSubDir *bool  `json:",omitempty"`
	IndexType     *int64 `json:",omitempty"`
	ErrorKey      string `json:",omitempty"`
	ErrorStatus   *int64 `json:",omitempty"`
	Rules         []Rule `json:",omitempty"`
}

// ErrInvalid wraps a document's invalid content (the dialect answers
// InvalidArgument with the message).
var ErrInvalid = errors.New("invalid origin configuration")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// MaxRules bounds the rules of one configuration (OSS allows 20).
const MaxRules = 20

// Validate checks the rules' shape: types, the trigger status, the origin.
func Validate(rules []Rule) error {
	if len(rules) > MaxRules {
		return invalid("at most %d rules", MaxRules)
	}
	for i := range rules {
		r := &rules[i]
		switch r.Type {
		case Mirror, Proxy:
			if r.StatusCode != "" && r.StatusCode != "404" {
				return invalid("HTTPStatusCode must be 404 for %s", r.Type)
			}
		case Redirect:
		default:
			return invalid("unknown OriginType %q", r.Type)
		}
		switch r.RedirectCode {
		case 0, 301, 302, 307:
		default:
			return invalid("HttpRedirectCode must be 301, 302 or 307")
		}
		switch strings.ToUpper(r.Protocol) {
		case "", "HTTP", "HTTPS", "FOLLOW":
		default:
			return invalid("Protocol must be HTTP, HTTPS or FOLLOW")
		}
		if r.URL != "" {
			u, err := url.Parse(r.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.HasSuffix(r.URL, "/") {
				return invalid("MirrorURL must start with http:// or https:// and end with /")
			}
		} else if r.Host == "" || strings.ContainsAny(r.Host, "/?#@ ") {
			return invalid("the origin HostName is missing or not a host")
		}
		for _, h := range r.Headers.Set {
			if h.Key == "" || strings.ContainsAny(h.Value, "\r\n") || strings.ContainsAny(h.Key, "\r\n: ") {
				return invalid("invalid header %q", h.Key)
			}
		}
	}
	return nil
}

// Match returns the rule a missed key triggers: the first by priority
// whose prefix and suffix the key has; nil when none does.
func Match(rules []Rule, key string) *Rule {
	order := make([]*Rule, len(rules))
	for i := range rules {
		order[i] = &rules[i]
	}
	slices.SortStableFunc(order, func(a, b *Rule) int { return a.Priority - b.Priority })
	for _, r := range order {
		if r.StatusCode != "" && r.StatusCode != "404" {
			continue
		}
		if strings.HasPrefix(key, r.Prefix) && strings.HasSuffix(key, r.Suffix) {
			return r
		}
	}
	return nil
}

// Target returns the origin URL of key under r: query is the request's
// raw query (without its signature and sub-resource parameters), https
// whether the request came over TLS (Protocol FOLLOW).
func (r *Rule) Target(key, query string, https bool) (*url.URL, error) {
	path := key
	switch {
	case r.FixedFile != "":
		path = strings.ReplaceAll(strings.TrimPrefix(r.FixedFile, "/"), "${key}", key)
	case r.KeyPrefixSet || r.KeyPrefix != "":
		path = r.KeyPrefix + strings.TrimPrefix(key, r.Prefix)
	}
	path += r.KeySuffix
	var u *url.URL
	if r.URL != "" {
		base, err := url.Parse(r.URL)
		if err != nil {
			return nil, err
		}
		u = base
		u.Path = base.Path + path
	} else {
		scheme := "http"
		switch strings.ToUpper(r.Protocol) {
		case "HTTPS":
			scheme = "https"
		case "FOLLOW":
			if https {
				scheme = "https"
			}
		}
		u = &url.URL{Scheme: scheme, Host: r.Host, Path: "/" + path}
	}
	u.RawQuery = ""
	if r.FollowQueryString && query != "" {
		u.RawQuery = query
	}
	return u, nil
}

// Status is the status of a Redirect rule's answer.
func (r *Rule) Status() int {
	if r.RedirectCode == 0 {
		return http.StatusFound
	}
	return r.RedirectCode
}

// neverPassed are request headers an origin request never carries: the
// request's own credentials and framing, and vendor headers.
var neverPassed = []string{"authorization", "authorization2", "host", "content-length", "range", "date",
	"connection", "keep-alive", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
	"expect", "cookie", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "accept-encoding"}

var neverPassedPrefixes = []string{"x-amz-", "x-oss-", "x-cos-", "x-obs-", "oss-", "x-drs-"}

func passable(name string) bool {
	n := strings.ToLower(name)
	if slices.Contains(neverPassed, n) {
		return false
	}
	for _, p := range neverPassedPrefixes {
		if strings.HasPrefix(n, p) {
			return false
		}
	}
	return true
}

// RequestHeaders returns the headers of the origin request for a client
// request's headers h.
func (r *Rule) RequestHeaders(h http.Header) http.Header {
	out := http.Header{}
	has := func(list []string, name string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, name) })
	}
	for name, vs := range h {
		if !passable(name) {
			continue
		}
		if (r.Headers.PassAll && !has(r.Headers.Remove, name)) || has(r.Headers.Pass, name) {
			out[name] = slices.Clone(vs)
		}
	}
	for _, s := range r.Headers.Set {
		out.Set(s.Key, s.Value)
	}
	return out
}
