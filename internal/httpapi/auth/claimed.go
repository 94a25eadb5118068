package auth

import (
	"net/http"
	"net/url"
	"strings"
)

// maxClaimedKey bounds the claimed access key ID kept for logs: it comes
// from the client, verified or not.
const maxClaimedKey = 128

// ClaimedAccessKey returns the access key ID a request names, whatever
// its scheme and whether or not its signature verifies, for logging
// authentication failures ("" when it names none). Never a secret: the
// ID is the public half of a credential.
func ClaimedAccessKey(r *http.Request) string {
	id := claimedAccessKey(r)
	if len(id) > maxClaimedKey {
		id = id[:maxClaimedKey]
	}
	return id
}

func claimedAccessKey(r *http.Request) string {
	authz := r.Header.Get("Authorization")
	credential := func(s string) string { // "AK/date/region/service/request"
		ak, _, _ := strings.Cut(s, "/")
		return ak
	}
	field := func(list, name, sep string) string {
		for _, part := range strings.Split(list, sep) {
			if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == name {
				return v
			}
		}
		return ""
	}
	beforeColon := func(s string) string {
		ak, _, _ := strings.Cut(s, ":")
		return strings.TrimSpace(ak)
	}
	switch {
	case strings.HasPrefix(authz, v4Algorithm+" "):
		return credential(field(authz[len(v4Algorithm)+1:], "Credential", ","))
	case strings.HasPrefix(authz, "OSS4-HMAC-SHA256 "):
		return credential(field(authz[len("OSS4-HMAC-SHA256 "):], "Credential", ","))
	case strings.HasPrefix(authz, "AWS "), strings.HasPrefix(authz, "OSS "), strings.HasPrefix(authz, "OBS "):
		return beforeColon(authz[4:])
	case strings.HasPrefix(authz, "q-sign-algorithm="):
		return field(authz, "q-ak", "&")
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	for _, name := range []string{"X-Amz-Credential", "x-oss-credential"} {
		if v := q.Get(name); v != "" {
			return credential(v)
		}
	}
	for _, name := range []string{"AWSAccessKeyId", "OSSAccessKeyId", "q-ak", "AccessKeyId"} {
		if v := q.Get(name); v != "" {
			return v
		}
	}
	return ""
}
