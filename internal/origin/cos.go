package origin

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
)

// The COS OriginConfiguration document (PUT/GET /?origin), as
// cos-go-sdk-v5 (bucket_origin.go) writes and reads it. The S3 dialect's
// ?x-strongroom-origin extension takes the same document.
type cosConfiguration struct {
	XMLName xml.Name  `xml:"OriginConfiguration"`
	Rules   []cosRule `xml:"OriginRule"`
}

type cosRule struct {
	RulePriority    int           `xml:"RulePriority,omitempty"`
	OriginType      string        `xml:"OriginType,omitempty"`
	OriginCondition *cosCondition `xml:"OriginCondition,omitempty"`
	OriginParameter *cosParameter `xml:"OriginParameter,omitempty"`
	OriginInfo      *cosInfo      `xml:"OriginInfo,omitempty"`
}

type cosCondition struct {
	HTTPStatusCode string `xml:"HTTPStatusCode,omitempty"`
	Prefix         string `xml:"Prefix,omitempty"`
}

type cosParameter struct {
	Protocol             string         `xml:"Protocol,omitempty"`
	TransparentErrorCode *bool          `xml:"TransparentErrorCode,omitempty"`
	FollowQueryString    *bool          `xml:"FollowQueryString,omitempty"`
	HttpHeader           *cosHttpHeader `xml:"HttpHeader,omitempty"`
	FollowRedirection    *bool          `xml:"FollowRedirection,omitempty"`
	HttpRedirectCode     string         `xml:"HttpRedirectCode,omitempty"`
	CopyOriginData       *bool          `xml:"CopyOriginData,omitempty"`
}

type cosHttpHeader struct {
	FollowAllHeaders    *bool       `xml:"FollowAllHeaders,omitempty"`
	NewHttpHeaders      []cosHeader `xml:"NewHttpHeaders>Header,omitempty"`
	FollowHttpHeaders   []cosHeader `xml:"FollowHttpHeaders>Header,omitempty"`
	ForbidFollowHeaders []cosHeader `xml:"ForbidFollowHeaders>Header,omitempty"`
}

type cosHeader struct {
	Key   string `xml:"Key,omitempty"`
	Value string `xml:"Value,omitempty"`
}

type cosInfo struct {
	HostInfo *cosHostInfo `xml:"HostInfo,omitempty"`
	FileInfo *cosFileInfo `xml:"FileInfo,omitempty"`
}

// cosHostInfo holds HostName, Weight and StandbyHostName_1..N (numbered
// element names, so read as any elements).
type cosHostInfo struct {
	Elements []cosElement `xml:",any"`
}

type cosElement struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

type cosFileInfo struct {
	PrefixDirective        bool           `xml:"PrefixDirective,omitempty"`
	Prefix                 string         `xml:"Prefix,omitempty"`
	Suffix                 string         `xml:"Suffix,omitempty"`
	PrefixConfiguration    *cosPrefixConf `xml:"PrefixConfiguration,omitempty"`
	SuffixConfiguration    *cosSuffixConf `xml:"SuffixConfiguration,omitempty"`
	FixedFileConfiguration *cosFixedConf  `xml:"FixedFileConfiguration,omitempty"`
}

type cosPrefixConf struct {
	Prefix string `xml:"Prefix,omitempty"`
}
type cosSuffixConf struct {
	Suffix string `xml:"Suffix,omitempty"`
}
type cosFixedConf struct {
	FixedFilePath string `xml:"FixedFilePath,omitempty"`
}

func boolOf(p *bool) bool { return p != nil && *p }

func headerKeys(hs []cosHeader) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Key)
	}
	return out
}

// ParseCOS reads a COS OriginConfiguration document.
func ParseCOS(data []byte) (*Config, error) {
	var doc cosConfiguration
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(doc.Rules) == 0 {
		return nil, invalid("OriginRule is required")
	}
	c := &Config{}
	for _, d := range doc.Rules {
		r := Rule{Priority: d.RulePriority, Type: d.OriginType}
		if d.OriginCondition != nil {
			r.StatusCode, r.Prefix = d.OriginCondition.HTTPStatusCode, d.OriginCondition.Prefix
		}
		if p := d.OriginParameter; p != nil {
			r.Protocol = p.Protocol
			r.TransparentErrorCode = p.TransparentErrorCode
			r.FollowQueryString, r.FollowQuerySet = boolOf(p.FollowQueryString), p.FollowQueryString != nil
			r.FollowRedirect, r.FollowRedirectSet = boolOf(p.FollowRedirection), p.FollowRedirection != nil
			r.CopyOriginData = p.CopyOriginData
			if p.HttpRedirectCode != "" {
				n, err := strconv.Atoi(p.HttpRedirectCode)
				if err != nil {
					return nil, invalid("HttpRedirectCode must be 301, 302 or 307")
				}
				if r.Type == Mirror {
					return nil, invalid("HttpRedirectCode is only for Redirect and Proxy")
				}
				r.RedirectCode = n
			}
			if h := p.HttpHeader; h != nil {
				r.Headers.PassAll, r.FollowAllHeadersSet = boolOf(h.FollowAllHeaders), h.FollowAllHeaders != nil
				r.Headers.Pass = headerKeys(h.FollowHttpHeaders)
				r.Headers.Remove = headerKeys(h.ForbidFollowHeaders)
				for _, s := range h.NewHttpHeaders {
					r.Headers.Set = append(r.Headers.Set, Header(s))
				}
			}
		}
		if in := d.OriginInfo; in != nil {
			if hi := in.HostInfo; hi != nil {
				standby := map[int]string{}
				for _, e := range hi.Elements {
					v := strings.TrimSpace(e.Value)
					switch n := e.XMLName.Local; {
					case n == "HostName":
						r.Host = v
					case n == "Weight":
						w, err := strconv.ParseInt(v, 10, 64)
						if err != nil {
							return nil, invalid("Weight must be a number")
						}
						r.Weight = w
					case strings.HasPrefix(n, "StandbyHostName_"):
						i, err := strconv.Atoi(strings.TrimPrefix(n, "StandbyHostName_"))
						if err != nil || i < 1 || i > MaxRules {
							return nil, invalid("bad element %s", n)
						}
						standby[i] = v
					}
				}
				for i := 1; i <= len(standby); i++ {
					r.Standby = append(r.Standby, standby[i])
				}
			}
			if fi := in.FileInfo; fi != nil {
				switch {
				case fi.FixedFileConfiguration != nil:
					r.FixedFile = fi.FixedFileConfiguration.FixedFilePath
				case fi.PrefixConfiguration != nil:
					r.KeyPrefix, r.KeyPrefixSet = fi.PrefixConfiguration.Prefix, true
				case fi.PrefixDirective:
					r.KeyPrefix, r.KeyPrefixSet = fi.Prefix, true
				}
				if fi.SuffixConfiguration != nil {
					r.KeySuffix = fi.SuffixConfiguration.Suffix
				} else if fi.PrefixDirective {
					r.KeySuffix = fi.Suffix
				}
			}
		}
		c.Rules = append(c.Rules, r)
	}
	if err := Validate(c.Rules); err != nil {
		return nil, err
	}
	return c, nil
}

// ErrMalformed wraps a document that is not well-formed XML or JSON.
var ErrMalformed = fmt.Errorf("malformed origin document")

// COSDocument renders c as a COS OriginConfiguration.
func (c *Config) COSDocument() any {
	doc := cosConfiguration{}
	for _, r := range c.Rules {
		d := cosRule{RulePriority: r.Priority, OriginType: r.Type}
		if r.StatusCode != "" || r.Prefix != "" {
			d.OriginCondition = &cosCondition{HTTPStatusCode: r.StatusCode, Prefix: r.Prefix}
		}
		p := &cosParameter{Protocol: r.Protocol, TransparentErrorCode: r.TransparentErrorCode, CopyOriginData: r.CopyOriginData}
		if r.FollowQuerySet {
			p.FollowQueryString = ptr(r.FollowQueryString)
		}
		if r.FollowRedirectSet {
			p.FollowRedirection = ptr(r.FollowRedirect)
		}
		if r.RedirectCode != 0 {
			p.HttpRedirectCode = strconv.Itoa(r.RedirectCode)
		}
		if r.FollowAllHeadersSet || len(r.Headers.Pass)+len(r.Headers.Remove)+len(r.Headers.Set) > 0 {
			h := &cosHttpHeader{}
			if r.FollowAllHeadersSet {
				h.FollowAllHeaders = ptr(r.Headers.PassAll)
			}
			for _, k := range r.Headers.Pass {
				h.FollowHttpHeaders = append(h.FollowHttpHeaders, cosHeader{Key: k})
			}
			for _, k := range r.Headers.Remove {
				h.ForbidFollowHeaders = append(h.ForbidFollowHeaders, cosHeader{Key: k})
			}
			for _, s := range r.Headers.Set {
				h.NewHttpHeaders = append(h.NewHttpHeaders, cosHeader(s))
			}
			p.HttpHeader = h
		}
		d.OriginParameter = p
		info := &cosInfo{HostInfo: &cosHostInfo{}}
		add := func(name, v string) {
			info.HostInfo.Elements = append(info.HostInfo.Elements, cosElement{XMLName: xml.Name{Local: name}, Value: v})
		}
		add("HostName", r.Host)
		if r.Weight != 0 {
			add("Weight", strconv.FormatInt(r.Weight, 10))
		}
		for i, s := range r.Standby {
			add(fmt.Sprintf("StandbyHostName_%d", i+1), s)
		}
		if r.FixedFile != "" || r.KeyPrefixSet || r.KeySuffix != "" {
			fi := &cosFileInfo{}
			if r.FixedFile != "" {
				fi.FixedFileConfiguration = &cosFixedConf{FixedFilePath: r.FixedFile}
			} else if r.KeyPrefixSet {
				fi.PrefixConfiguration = &cosPrefixConf{Prefix: r.KeyPrefix}
			}
			if r.KeySuffix != "" {
				fi.SuffixConfiguration = &cosSuffixConf{Suffix: r.KeySuffix}
			}
			info.FileInfo = fi
		}
		d.OriginInfo = info
		doc.Rules = append(doc.Rules, d)
	}
	return doc
}

func ptr[T any](v T) *T { return &v }
