package origin

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// The OSS WebsiteConfiguration document (PutBucketWebsite /?website), as
// the OSS v2 SDK writes and reads it.
type ossWebsite struct {
	XMLName       xml.Name     `xml:"WebsiteConfiguration"`
	IndexDocument *ossIndex    `xml:"IndexDocument,omitempty"`
	ErrorDocument *ossErrorDoc `xml:"ErrorDocument,omitempty"`
	RoutingRules  *ossRuleList `xml:"RoutingRules,omitempty"`
}

type ossIndex struct {
	Suffix        string `xml:"Suffix,omitempty"`
	SupportSubDir *bool  `xml:"SupportSubDir,omitempty"`
	Type          *int64 `xml:"Type,omitempty"`
}

type ossErrorDoc struct {
	Key        string `xml:"Key,omitempty"`
	HttpStatus *int64 `xml:"HttpStatus,omitempty"`
}

type ossRuleList struct {
	Rules []ossRule `xml:"RoutingRule"`
}

type ossRule struct {
	RuleNumber *int64        `xml:"RuleNumber"`
	Condition  *ossCondition `xml:"Condition"`
	Redirect   *ossRedirect  `xml:"Redirect"`
}

type ossCondition struct {
	KeyPrefixEquals             *string `xml:"KeyPrefixEquals,omitempty"`
	KeySuffixEquals             *string `xml:"KeySuffixEquals,omitempty"`
	HttpErrorCodeReturnedEquals *int64  `xml:"HttpErrorCodeReturnedEquals,omitempty"`
}

type ossRedirect struct {
	RedirectType          string            `xml:"RedirectType,omitempty"`
	PassQueryString       *bool             `xml:"PassQueryString,omitempty"`
	MirrorURL             string            `xml:"MirrorURL,omitempty"`
	MirrorPassQueryString *bool             `xml:"MirrorPassQueryString,omitempty"`
	MirrorFollowRedirect  *bool             `xml:"MirrorFollowRedirect,omitempty"`
	MirrorCheckMd5        *bool             `xml:"MirrorCheckMd5,omitempty"`
	MirrorHeaders         *ossMirrorHeaders `xml:"MirrorHeaders,omitempty"`
	MirrorProxyPass       *bool             `xml:"MirrorProxyPass,omitempty"`
	Protocol              string            `xml:"Protocol,omitempty"`
	HostName              string            `xml:"HostName,omitempty"`
	HttpRedirectCode      *int64            `xml:"HttpRedirectCode,omitempty"`
	ReplaceKeyPrefixWith  *string           `xml:"ReplaceKeyPrefixWith,omitempty"`
	ReplaceKeyWith        string            `xml:"ReplaceKeyWith,omitempty"`
	EnableReplacePrefix   *bool             `xml:"EnableReplacePrefix,omitempty"`
}

type ossMirrorHeaders struct {
	PassAll *bool          `xml:"PassAll,omitempty"`
	Pass    []string       `xml:"Pass,omitempty"`
	Remove  []string       `xml:"Remove,omitempty"`
	Set     []ossHeaderSet `xml:"Set,omitempty"`
}

type ossHeaderSet struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// ParseOSSWebsite reads an OSS WebsiteConfiguration document.
func ParseOSSWebsite(data []byte) (*Website, error) {
	var doc ossWebsite
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if doc.IndexDocument == nil && doc.ErrorDocument == nil && doc.RoutingRules == nil {
		return nil, fmt.Errorf("%w: one of IndexDocument, ErrorDocument and RoutingRules is required", ErrMalformed)
	}
	w := &Website{}
	if d := doc.IndexDocument; d != nil {
		w.IndexSuffix, w.SupportSubDir, w.IndexType = d.Suffix, d.SupportSubDir, d.Type
	}
	if d := doc.ErrorDocument; d != nil {
		w.ErrorKey, w.ErrorStatus = d.Key, d.HttpStatus
	}
	if doc.RoutingRules != nil {
		for _, d := range doc.RoutingRules.Rules {
			if d.RuleNumber == nil || d.Condition == nil || d.Redirect == nil {
				return nil, fmt.Errorf("%w: RoutingRule needs RuleNumber, Condition and Redirect", ErrMalformed)
			}
			r := Rule{Priority: int(*d.RuleNumber)}
			c := d.Condition
			if c.KeyPrefixEquals != nil {
				r.Prefix = *c.KeyPrefixEquals
			}
			if c.KeySuffixEquals != nil {
				r.Suffix = *c.KeySuffixEquals
			}
			if c.HttpErrorCodeReturnedEquals != nil {
				r.StatusCode = fmt.Sprint(*c.HttpErrorCodeReturnedEquals)
			}
			x := d.Redirect
			switch x.RedirectType {
			case "Mirror":
				r.Type = Mirror
				if boolOf(x.MirrorProxyPass) {
					r.Type = Proxy
				}
				r.URL = x.MirrorURL
				if r.StatusCode == "" {
					r.StatusCode = "404"
				}
			case "External":
				r.Type = Redirect
				if x.HostName == "" {
					return nil, invalid("HostName is required for External")
				}
				r.Host, r.Protocol = x.HostName, strings.ToUpper(x.Protocol)
				if r.Protocol == "" {
					r.Protocol = "FOLLOW"
				}
			default:
				return nil, invalid("RedirectType %q is not supported", x.RedirectType)
			}
			r.PassQueryString = x.PassQueryString
			r.FollowQueryString = boolOf(x.PassQueryString)
			if x.MirrorPassQueryString != nil {
				r.FollowQueryString = *x.MirrorPassQueryString
				r.FollowQuerySet = true
			}
			// MirrorFollowRedirect defaults to true.
			r.FollowRedirect, r.FollowRedirectSet = x.MirrorFollowRedirect == nil || *x.MirrorFollowRedirect, x.MirrorFollowRedirect != nil
			r.CheckMD5 = boolOf(x.MirrorCheckMd5)
			if x.HttpRedirectCode != nil {
				r.RedirectCode = int(*x.HttpRedirectCode)
			}
			r.EnableReplacePrefix = x.EnableReplacePrefix
			if x.ReplaceKeyPrefixWith != nil {
				r.KeyPrefix, r.KeyPrefixSet = *x.ReplaceKeyPrefixWith, true
			}
			if x.ReplaceKeyWith != "" {
				if r.KeyPrefixSet {
					return nil, invalid("ReplaceKeyWith and ReplaceKeyPrefixWith are exclusive")
				}
				r.FixedFile = x.ReplaceKeyWith
			}
			if h := x.MirrorHeaders; h != nil {
				r.Headers.PassAll = boolOf(h.PassAll)
				r.FollowAllHeadersSet = h.PassAll != nil
				r.Headers.Pass, r.Headers.Remove = h.Pass, h.Remove
				for _, s := range h.Set {
					r.Headers.Set = append(r.Headers.Set, Header(s))
				}
			}
			w.Rules = append(w.Rules, r)
		}
	}
	if err := Validate(w.Rules); err != nil {
		return nil, err
	}
	return w, nil
}

// OSSDocument renders w as an OSS WebsiteConfiguration.
func (w *Website) OSSDocument() any {
	doc := ossWebsite{}
	if w.IndexSuffix != "" || w.SupportSubDir != nil || w.IndexType != nil {
		doc.IndexDocument = &ossIndex{Suffix: w.IndexSuffix, SupportSubDir: w.SupportSubDir, Type: w.IndexType}
	}
	if w.ErrorKey != "" || w.ErrorStatus != nil {
		doc.ErrorDocument = &ossErrorDoc{Key: w.ErrorKey, HttpStatus: w.ErrorStatus}
	}
	if len(w.Rules) > 0 {
		doc.RoutingRules = &ossRuleList{}
	}
	for _, r := range w.Rules {
		d := ossRule{RuleNumber: ptr(int64(r.Priority)), Condition: &ossCondition{}, Redirect: &ossRedirect{}}
		if r.Prefix != "" {
			d.Condition.KeyPrefixEquals = ptr(r.Prefix)
		}
		if r.Suffix != "" {
			d.Condition.KeySuffixEquals = ptr(r.Suffix)
		}
		if r.StatusCode != "" {
			var n int64
			fmt.Sscan(r.StatusCode, &n)
			d.Condition.HttpErrorCodeReturnedEquals = &n
		}
		x := d.Redirect
		switch r.Type {
		case Mirror, Proxy:
			x.RedirectType, x.MirrorURL = "Mirror", r.URL
			if r.Type == Proxy {
				x.MirrorProxyPass = ptr(true)
			}
		case Redirect:
			x.RedirectType, x.HostName = "External", r.Host
			if r.Protocol != "FOLLOW" {
				x.Protocol = strings.ToLower(r.Protocol)
			}
		}
		x.PassQueryString = r.PassQueryString
		if r.FollowQuerySet {
			x.MirrorPassQueryString = ptr(r.FollowQueryString)
		}
		if r.FollowRedirectSet {
			x.MirrorFollowRedirect = ptr(r.FollowRedirect)
		}
		if r.CheckMD5 {
			x.MirrorCheckMd5 = ptr(true)
		}
		if r.RedirectCode != 0 {
			x.HttpRedirectCode = ptr(int64(r.RedirectCode))
		}
		x.EnableReplacePrefix = r.EnableReplacePrefix
		if r.KeyPrefixSet {
			x.ReplaceKeyPrefixWith = ptr(r.KeyPrefix)
		}
		x.ReplaceKeyWith = r.FixedFile
		if r.FollowAllHeadersSet || len(r.Headers.Pass)+len(r.Headers.Remove)+len(r.Headers.Set) > 0 {
			h := &ossMirrorHeaders{Pass: r.Headers.Pass, Remove: r.Headers.Remove}
			if r.FollowAllHeadersSet {
				h.PassAll = ptr(r.Headers.PassAll)
			}
			for _, s := range r.Headers.Set {
				h.Set = append(h.Set, ossHeaderSet(s))
			}
			x.MirrorHeaders = h
		}
		doc.RoutingRules.Rules = append(doc.RoutingRules.Rules, d)
	}
	return doc
}
