package origin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// The OBS back-to-source by mirroring document (PUT/GET
// /?mirrorBackToSource, JSON), as the OBS Go SDK's
// SetBucketMirrorBackToSource sends it (the SDK passes the caller's JSON
// through).
type obsDocument struct {
	Rules []json.RawMessage `json:"rules"`
}

type obsRule struct {
	ID        string `json:"id"`
	Condition *struct {
		HTTPErrorCode *int   `json:"httpErrorCodeReturnedEquals"`
		Prefix        string `json:"objectKeyPrefixEquals"`
	} `json:"condition"`
	Redirect *struct {
		PublicSource *struct {
			SourceEndpoint *struct {
				Master []string `json:"master"`
				Slave  []string `json:"slave"`
			} `json:"sourceEndpoint"`
		} `json:"publicSource"`
		PassQueryString      *bool `json:"passQueryString"`
		MirrorFollowRedirect *bool `json:"mirrorFollowRedirect"`
		MirrorHTTPHeader     *struct {
			PassAll bool     `json:"passAll"`
			Pass    []string `json:"pass"`
			Remove  []string `json:"remove"`
			Set     []struct {
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"set"`
		} `json:"mirrorHttpHeader"`
		ReplaceKeyWith       string  `json:"replaceKeyWith"`
		ReplaceKeyPrefixWith *string `json:"replaceKeyPrefixWith"`
	} `json:"redirect"`
}

// MaxOBSRules is OBS's bound on back-to-source rules per bucket.
const MaxOBSRules = 10

// ParseOBS reads an OBS mirrorBackToSource document. Each rule keeps its
// JSON to be echoed as sent (OBS fields without an effect here, such as
// agency and retryConditions, included).
func ParseOBS(data []byte) (*Config, error) {
	var doc obsDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(doc.Rules) == 0 || len(doc.Rules) > MaxOBSRules {
		return nil, invalid("rules must hold 1 to %d rules", MaxOBSRules)
	}
	c := &Config{}
	for i, raw := range doc.Rules {
		var d obsRule
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if d.ID == "" || d.Condition == nil || d.Redirect == nil || d.Redirect.PublicSource == nil ||
			d.Redirect.PublicSource.SourceEndpoint == nil || len(d.Redirect.PublicSource.SourceEndpoint.Master) == 0 {
			return nil, invalid("a rule needs id, condition and redirect.publicSource.sourceEndpoint.master")
		}
		if d.Condition.HTTPErrorCode == nil || *d.Condition.HTTPErrorCode != 404 {
			return nil, invalid("httpErrorCodeReturnedEquals must be 404")
		}
		master := d.Redirect.PublicSource.SourceEndpoint.Master[0]
		if u, err := url.Parse(master); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, invalid("master endpoint %q is not an http(s) URL", master)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		r := Rule{
			ID:       d.ID,
			Priority: i + 1, // OBS rules' prefixes may not overlap: order is moot
			Type:     Mirror,
			Prefix:   d.Condition.Prefix, StatusCode: "404",
			URL:               strings.TrimSuffix(master, "/") + "/",
			Standby:           d.Redirect.PublicSource.SourceEndpoint.Slave,
			FollowQueryString: boolOf(d.Redirect.PassQueryString),
			FollowRedirect:    d.Redirect.MirrorFollowRedirect == nil || *d.Redirect.MirrorFollowRedirect,
			FixedFile:         d.Redirect.ReplaceKeyWith,
			Raw:               compact.Bytes(),
		}
		if p := d.Redirect.ReplaceKeyPrefixWith; p != nil {
			r.KeyPrefix, r.KeyPrefixSet = *p, true
		}
		if h := d.Redirect.MirrorHTTPHeader; h != nil {
			r.Headers = Headers{PassAll: h.PassAll, Pass: h.Pass, Remove: h.Remove}
			for _, s := range h.Set {
				r.Headers.Set = append(r.Headers.Set, Header{Key: s.Key, Value: s.Value})
			}
		}
		c.Rules = append(c.Rules, r)
	}
	if err := Validate(c.Rules); err != nil {
		return nil, err
	}
	return c, nil
}

// OBSDocument renders c as an OBS mirrorBackToSource document: rules set
// through OBS as they were sent, others from the model.
func (c *Config) OBSDocument() ([]byte, error) {
	doc := obsDocument{}
	for _, r := range c.Rules {
		if r.Raw != nil {
			doc.Rules = append(doc.Rules, r.Raw)
			continue
		}
		target := r.URL
		if target == "" {
			scheme := "http"
			if strings.EqualFold(r.Protocol, "HTTPS") {
				scheme = "https"
			}
			target = scheme + "://" + r.Host
		}
		m := map[string]any{
			"id":        fmt.Sprint(r.Priority),
			"condition": map[string]any{"httpErrorCodeReturnedEquals": 404, "objectKeyPrefixEquals": r.Prefix},
			"redirect": map[string]any{
				"publicSource":         map[string]any{"sourceEndpoint": map[string]any{"master": []string{target}}},
				"passQueryString":      r.FollowQueryString,
				"mirrorFollowRedirect": r.FollowRedirect,
			},
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		doc.Rules = append(doc.Rules, b)
	}
	return json.Marshal(doc)
}
