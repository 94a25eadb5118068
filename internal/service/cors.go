package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// CORS actions (S3: DeleteBucketCors needs s3:PutBucketCORS).
const (
	ActGetBucketCORS = "s3:GetBucketCORS"
	ActPutBucketCORS = "s3:PutBucketCORS"
)

const configCORS = "cors"

// MaxCORSRules is S3's limit on rules per configuration.
const MaxCORSRules = 100

// CORSRule is one rule of a bucket's CORS configuration.
type CORSRule struct {
	ID             string   `json:",omitempty"`
	AllowedOrigins []string // "*" wildcards, at most one each
	AllowedMethods []string // GET, PUT, HEAD, POST, DELETE
	AllowedHeaders []string `json:",omitempty"` // matched case-insensitively, "*" wildcards
	ExposeHeaders  []string `json:",omitempty"`
	MaxAgeSeconds  *int     `json:",omitempty"`
}

// CORSConfig is a bucket's CORS configuration.
type CORSConfig struct {
	Rules []CORSRule
	// ResponseVary (OSS, COS) makes every response to a request with an
	// Origin carry Vary: Origin, matched or not.
	ResponseVary bool `json:",omitempty"`
}

var corsMethods = []string{"GET", "PUT", "HEAD", "POST", "DELETE"}

// Validate checks a configuration as S3 does.
func (c *CORSConfig) Validate() error {
	if len(c.Rules) == 0 {
		return errs.MalformedXML
	}
	if len(c.Rules) > MaxCORSRules {
		return errs.MalformedXML.WithMessage(fmt.Sprintf("The CORS configuration must not have more than %d rules.", MaxCORSRules))
	}
	for _, r := range c.Rules {
		if len(r.AllowedOrigins) == 0 || len(r.AllowedMethods) == 0 {
			return errs.MalformedXML
		}
		for _, m := range r.AllowedMethods {
			if !slices.Contains(corsMethods, m) {
				return errs.InvalidRequest.WithMessage("Found unsupported HTTP method in CORS config. Unsupported method is " + m)
			}
		}
		for _, o := range r.AllowedOrigins {
			if strings.Count(o, "*") > 1 {
				return errs.InvalidRequest.WithMessage(fmt.Sprintf("AllowedOrigin %q can not have more than one wildcard.", o))
			}
		}
		for _, h := range r.AllowedHeaders {
			if strings.Count(h, "*") > 1 {
				return errs.InvalidRequest.WithMessage(fmt.Sprintf("AllowedHeader %q can not have more than one wildcard.", h))
			}
		}
		if r.MaxAgeSeconds != nil && *r.MaxAgeSeconds < 0 {
			return errs.MalformedXML
		}
	}
	return nil
}

// Match returns the first rule that allows origin to make a request with
// method and headers (lower case), and the AllowedOrigin that matched; nil
// when none does.
func (c *CORSConfig) Match(origin, method string, headers []string) (*CORSRule, string) {
	for i := range c.Rules {
		r := &c.Rules[i]
		if !slices.Contains(r.AllowedMethods, method) {
			continue
		}
		allowed := ""
		for _, o := range r.AllowedOrigins {
			if wildcardMatch(o, origin) {
				allowed = o
				break
			}
		}
		if allowed == "" {
			continue
		}
		ok := true
		for _, h := range headers {
			if !slices.ContainsFunc(r.AllowedHeaders, func(p string) bool { return wildcardMatch(strings.ToLower(p), h) }) {
				ok = false
				break
			}
		}
		if ok {
			return r, allowed
		}
	}
	return nil, ""
}

// wildcardMatch matches s against a pattern with at most one '*'.
func wildcardMatch(pattern, s string) bool {
	pre, post, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == s
	}
	return len(s) >= len(pre)+len(post) && strings.HasPrefix(s, pre) && strings.HasSuffix(s, post)
}

// PutBucketCORS stores a bucket's CORS configuration.
func (s *Service) PutBucketCORS(ctx context.Context, p Principal, bucket string, c *CORSConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	doc, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.setBucketConfig(ctx, p, ActPutBucketCORS, bucket, configCORS, doc)
}

// GetBucketCORS returns a bucket's CORS configuration, or
// NoSuchCORSConfiguration.
func (s *Service) GetBucketCORS(ctx context.Context, p Principal, bucket string) (*CORSConfig, error) {
	doc, err := s.bucketConfig(ctx, p, ActGetBucketCORS, bucket, configCORS)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, errs.NoSuchCORSConfiguration
	}
	return decodeCORS(bucket, doc)
}

// DeleteBucketCORS removes a bucket's CORS configuration.
func (s *Service) DeleteBucketCORS(ctx context.Context, p Principal, bucket string) error {
	return s.setBucketConfig(ctx, p, ActPutBucketCORS, bucket, configCORS, nil)
}

// BucketCORS returns a bucket's CORS configuration (nil: none) without
// authorization: browsers send preflights unsigned, and the configuration
// only decides which response headers a request gets.
func (s *Service) BucketCORS(ctx context.Context, bucket string) (*CORSConfig, error) {
	b, err := s.meta.GetBucket(ctx, bucket)
	if err != nil {
		return nil, mapMeta(err)
	}
	doc := b.Config[configCORS]
	if doc == nil {
		return nil, nil
	}
	return decodeCORS(bucket, doc)
}

func decodeCORS(bucket string, doc []byte) (*CORSConfig, error) {
	var c CORSConfig
	if err := json.Unmarshal(doc, &c); err != nil {
		return nil, fmt.Errorf("bucket %s cors: %w", bucket, err)
	}
	return &c, nil
}
