// Package lifecycle is the bucket lifecycle configuration: its canonical
// model, the documents that carry it (S3's LifecycleConfiguration, which
// COS and OBS share, and OSS's variant of it), validation with S3's errors,
// and the rules' evaluation against an object, a noncurrent version or an
// upload at a given time. It decides; internal/service acts.
package lifecycle

import (
	"strings"
	"time"
)

// ConfigName is the bucket configuration entry (meta.Bucket.Config) that
// holds a bucket's lifecycle, JSON-encoded Config.
const ConfigName = "lifecycle"

// MaxRules is S3's limit of rules per configuration.
const MaxRules = 1000

// Config is a bucket's lifecycle configuration.
type Config struct {
	Rules []Rule
}

// Rule is one lifecycle rule.
type Rule struct {
	ID      string
	Enabled bool
	Filter  Filter
	// LegacyPrefix: the rule selected by a rule-level Prefix rather than a
	// Filter, and is rendered the same way.
	LegacyPrefix bool `json:",omitempty"`
	// Expiration of current versions (nil: none).
	Expiration *Expiration `json:",omitempty"`
	// NoncurrentExpiration of noncurrent versions (nil: none).
	NoncurrentExpiration *NoncurrentExpiration `json:",omitempty"`
	// AbortIncompleteDays aborts uploads this many days after initiation
	// (0: never).
	AbortIncompleteDays int `json:",omitempty"`
	// AbortCreatedBefore aborts uploads initiated before it (OSS's
	// AbortMultipartUpload/CreatedBeforeDate; zero: none).
	AbortCreatedBefore time.Time `json:",omitzero"`
}

// Filter selects the objects a rule applies to; every set field must match.
type Filter struct {
	Prefix string `json:",omitempty"`
	Tags   []Tag  `json:",omitempty"`
	// SizeGreaterThan and SizeLessThan bound the object's size, strictly
	// (0: no bound).
	SizeGreaterThan int64 `json:",omitempty"`
	SizeLessThan    int64 `json:",omitempty"`
}

// Tag is an object tag a filter requires.
type Tag struct{ Key, Value string }

// Expiration expires current versions.
type Expiration struct {
	Days int       `json:",omitempty"` // days after creation, rounded up to midnight UTC
	Date time.Time `json:",omitzero"`  // every matching object from this date on
	// CreatedBefore expires objects last modified before it (OSS's
	// Expiration/CreatedBeforeDate).
	CreatedBefore time.Time `json:",omitzero"`
	// ExpiredObjectDeleteMarker removes a delete marker that is the only
	// version left of its key.
	ExpiredObjectDeleteMarker bool `json:",omitempty"`
}

// NoncurrentExpiration expires noncurrent versions.
type NoncurrentExpiration struct {
	Days int // days after the version became noncurrent
	// NewerNoncurrentVersions keeps this many newer noncurrent versions
	// (0: none kept).
	NewerNoncurrentVersions int `json:",omitempty"`
}

// Object is what evaluation needs of an object version.
type Object struct {
	Key          string
	Size         int64
	LastModified time.Time
	Tags         map[string]string
}

// Matches reports whether the filter selects o.
func (f *Filter) Matches(o Object) bool {
	if !strings.HasPrefix(o.Key, f.Prefix) {
		return false
	}
	if f.SizeGreaterThan > 0 && o.Size <= f.SizeGreaterThan {
		return false
	}
	if f.SizeLessThan > 0 && o.Size >= f.SizeLessThan {
		return false
	}
	for _, t := range f.Tags {
		if v, ok := o.Tags[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	return true
}

// afterDays is S3's expiry arithmetic: t plus days, rounded up to the next
// midnight UTC.
func afterDays(t time.Time, days int) time.Time {
	d := t.UTC().AddDate(0, 0, days)
	m := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	if m.Before(d) {
		m = m.AddDate(0, 0, 1)
	}
	return m
}

// Expiry returns when the current version o expires under the enabled
// rules, and the rule that decides it: the earliest date wins. ok is false
// when no rule expires o.
func (c *Config) Expiry(o Object) (at time.Time, ruleID string, ok bool) {
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.Enabled || r.Expiration == nil || !r.Filter.Matches(o) {
			continue
		}
		var t time.Time
		switch e := r.Expiration; {
		case e.Days > 0:
			t = afterDays(o.LastModified, e.Days)
		case !e.Date.IsZero():
			t = e.Date
		case !e.CreatedBefore.IsZero() && o.LastModified.Before(e.CreatedBefore):
			t = e.CreatedBefore
		default:
			continue
		}
		if !ok || t.Before(at) {
			at, ruleID, ok = t, r.ID, true
		}
	}
	return at, ruleID, ok
}

// Expired reports whether the current version o has expired at now.
func (c *Config) Expired(o Object, now time.Time) bool {
	at, _, ok := c.Expiry(o)
	return ok && !now.Before(at)
}

// NoncurrentExpired reports whether a noncurrent version expires at now:
// it became noncurrent at since, and newer is the number of noncurrent
// versions of its key newer than it.
func (c *Config) NoncurrentExpired(o Object, since time.Time, newer int, now time.Time) bool {
	for i := range c.Rules {
		r := &c.Rules[i]
		n := r.NoncurrentExpiration
		if !r.Enabled || n == nil || !r.Filter.Matches(o) {
			continue
		}
		if newer >= n.NewerNoncurrentVersions && !now.Before(afterDays(since, n.Days)) {
			return true
		}
	}
	return false
}

// DeleteMarkerExpired reports whether a delete marker that is the only
// version left of key is to be removed.
func (c *Config) DeleteMarkerExpired(key string) bool {
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.Enabled && r.Expiration != nil && r.Expiration.ExpiredObjectDeleteMarker &&
			strings.HasPrefix(key, r.Filter.Prefix) {
			return true
		}
	}
	return false
}

// UploadExpired reports whether an incomplete upload of key initiated at
// initiated is to be aborted at now.
func (c *Config) UploadExpired(key string, initiated, now time.Time) bool {
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.Enabled || !strings.HasPrefix(key, r.Filter.Prefix) {
			continue
		}
		if r.AbortIncompleteDays > 0 && !now.Before(afterDays(initiated, r.AbortIncompleteDays)) {
			return true
		}
		if !r.AbortCreatedBefore.IsZero() && initiated.Before(r.AbortCreatedBefore) {
			return true
		}
	}
	return false
}

// HasUploadRules reports whether any enabled rule aborts uploads.
func (c *Config) HasUploadRules() bool {
	for _, r := range c.Rules {
		if r.Enabled && (r.AbortIncompleteDays > 0 || !r.AbortCreatedBefore.IsZero()) {
			return true
		}
	}
	return false
}
