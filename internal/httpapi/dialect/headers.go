package dialect

import (
	"net/http"
	"strings"
)

// Headers reads and sets a dialect's headers by the names the code spells
// them with, without the prefix ("server-side-encryption" for
// x-amz-server-side-encryption). The names it is built with are made
// canonical once: h.Get(prefix + name) joined and canonicalized two
// strings per lookup, and a request looks up a dozen names or so (about
// twenty strings per encrypted one). A name not listed still works, at
// that price.
type Headers struct {
	prefix string
	canon  map[string]string
}

// RequestHeaders are the names, without a prefix, that the handlers read
// through Dialect.Header: every dialect lists them.
var RequestHeaders = []string{
	"copy-source", "copy-source-range", "copy-source-if-match", "copy-source-if-none-match",
	"copy-source-if-modified-since", "copy-source-if-unmodified-since",
	"metadata-directive", "tagging-directive", "tagging", "storage-class", "acl",
	"checksum-algorithm", "checksum-mode", "object-lock-legal-hold", "object-lock-mode",
	"object-lock-retain-until-date", "bypass-governance-retention", "bucket-object-lock-enabled",
}

// SSEHeaders are the encryption header names most dialects share (each
// adds its own): the mode, the data algorithm, and the SSE-C headers of
// the object and of a copy's source.
var SSEHeaders = []string{
	"server-side-encryption", "server-side-data-encryption",
	ObjectCustomer.Algorithm, ObjectCustomer.Key, ObjectCustomer.KeyMD5,
	"server-side-encryption-customer-key-MD5", // as responses spell it
	CopySourceCustomer.Algorithm, CopySourceCustomer.Key, CopySourceCustomer.KeyMD5,
}

// NewHeaders names headers under prefix (lower case, e.g. "x-amz-").
func NewHeaders(prefix string, names ...[]string) *Headers {
	x := &Headers{prefix: prefix, canon: map[string]string{}}
	for _, ns := range names {
		for _, n := range ns {
			x.canon[n] = http.CanonicalHeaderKey(prefix + n)
		}
	}
	return x
}

// Key is http.CanonicalHeaderKey(prefix + name).
func (x *Headers) Key(name string) string {
	if k, ok := x.canon[name]; ok {
		return k
	}
	return http.CanonicalHeaderKey(x.prefix + name)
}

// Get is h.Get(prefix + name).
func (x *Headers) Get(h http.Header, name string) string {
	if v := h[x.Key(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set is h.Set(prefix+name, v).
func (x *Headers) Set(h http.Header, name, v string) { h[x.Key(name)] = []string{v} }

// Any reports whether a header of h is named prefix + part + anything, in
// any case: a request with none skips the lookups of those names.
func (x *Headers) Any(h http.Header, part string) bool {
	n := len(x.prefix) + len(part)
	for k := range h {
		if len(k) >= n && strings.EqualFold(k[:len(x.prefix)], x.prefix) && strings.EqualFold(k[len(x.prefix):n], part) {
			return true
		}
	}
	return false
}
