package service

import (
	"errors"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

func TestNormalizeTags(t *testing.T) {
	tag := func(k, v string) meta.Tag { return meta.Tag{Key: k, Value: v} }
	many := func(n int) []meta.Tag {
		var ts []meta.Tag
		for i := 0; i < n; i++ {
			ts = append(ts, tag(strings.Repeat("k", i+1), ""))
		}
		return ts
	}
	for _, tc := range []struct {
		name string
		tags []meta.Tag
		max  int
		want error
	}{
		{"sorted", []meta.Tag{tag("b", "2"), tag("a", "1")}, MaxObjectTags, nil},
		{"ten", many(10), MaxObjectTags, nil},
		{"eleven", many(11), MaxObjectTags, errs.BadRequest},
		{"fifty one on a bucket", many(51), MaxBucketTags, errs.InvalidTag},
		{"unicode letters and space", []meta.Tag{tag("Größe 大", "Wert_.:/=+-@ 1")}, MaxObjectTags, nil},
		{"128 UTF-16 units", []meta.Tag{tag(strings.Repeat("𝒜", 64), "")}, MaxObjectTags, nil},
		{"130 UTF-16 units", []meta.Tag{tag(strings.Repeat("𝒜", 65), "")}, MaxObjectTags, errs.InvalidTag},
		{"value 256", []meta.Tag{tag("k", strings.Repeat("v", 256))}, MaxObjectTags, nil},
		{"value 257", []meta.Tag{tag("k", strings.Repeat("v", 257))}, MaxObjectTags, errs.InvalidTag},
		{"empty key", []meta.Tag{tag("", "v")}, MaxObjectTags, errs.InvalidTag},
		{"duplicate", []meta.Tag{tag("k", "1"), tag("k", "2")}, MaxObjectTags, errs.InvalidTag},
		{"aws prefix any case", []meta.Tag{tag("AWS:x", "1")}, MaxObjectTags, errs.InvalidTag},
		{"bad key character", []meta.Tag{tag("a*b", "1")}, MaxObjectTags, errs.InvalidTag},
		{"control character", []meta.Tag{tag("a", "\n")}, MaxObjectTags, errs.InvalidTag},
		{"invalid UTF-8", []meta.Tag{tag("a\xff", "1")}, MaxObjectTags, errs.InvalidTag},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeTags(tc.tags, tc.max)
			if !errors.Is(err, tc.want) && (err != nil || tc.want != nil) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			for i := 1; err == nil && i < len(got); i++ {
				if got[i-1].Key >= got[i].Key {
					t.Fatalf("not sorted: %v", got)
				}
			}
		})
	}
}

func TestCORSMatch(t *testing.T) {
	age := 5
	c := &CORSConfig{Rules: []CORSRule{
		{ID: "app", AllowedOrigins: []string{"https://app.example"}, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"X-Amz-*", "content-type"}, MaxAgeSeconds: &age},
		{ID: "sub", AllowedOrigins: []string{"https://*.example.org"}, AllowedMethods: []string{"GET"}},
		{ID: "any", AllowedOrigins: []string{"*"}, AllowedMethods: []string{"HEAD"}, AllowedHeaders: []string{"*"}},
	}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		origin, method string
		headers        []string
		want, allowed  string
	}{
		{"https://app.example", "PUT", []string{"x-amz-date", "content-type"}, "app", "https://app.example"},
		{"https://app.example", "PUT", []string{"authorization"}, "", ""},
		{"https://app.example", "DELETE", nil, "", ""},
		{"https://a.b.example.org", "GET", nil, "sub", "https://*.example.org"},
		{"https://example.org", "GET", nil, "", ""},
		{"http://x", "HEAD", []string{"anything"}, "any", "*"},
		{"https://APP.example", "GET", nil, "", ""},
	} {
		r, allowed := c.Match(tc.origin, tc.method, tc.headers)
		got := ""
		if r != nil {
			got = r.ID
		}
		if got != tc.want || allowed != tc.allowed {
			t.Errorf("Match(%q, %q, %q) = %q %q, want %q %q", tc.origin, tc.method, tc.headers, got, allowed, tc.want, tc.allowed)
		}
	}
	for _, bad := range []CORSConfig{
		{},
		{Rules: []CORSRule{{AllowedOrigins: []string{"*"}}}},
		{Rules: []CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"get"}}}},
		{Rules: []CORSRule{{AllowedOrigins: []string{"**"}, AllowedMethods: []string{"GET"}}}},
		{Rules: make([]CORSRule, MaxCORSRules+1)},
	} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) passed", bad)
		}
	}
}
