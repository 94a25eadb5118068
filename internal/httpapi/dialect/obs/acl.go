package obs

import (
	"net/http"

	"strongroom/internal/httpapi/dialect/s3"
)

// ACLs: OBS speaks S3's ACL document and canned values, under its own
// header prefix (x-obs-acl, and x-amz-acl in the S3-compatible modes).

func (d Dialect) CannedACL(h http.Header, object bool) (string, bool, error) {
	hh := http.Header{}
	if v := d.Header(h, "acl"); v != "" {
		hh.Set("x-amz-acl", v)
	}
	return s3.Dialect{}.CannedACL(hh, object)
}

func (Dialect) ACLDocument(owner, acl string, object bool) any {
	return s3.Dialect{}.ACLDocument(owner, acl, object)
}

func (Dialect) ParseACL(body []byte, object bool) (string, error) {
	return s3.Dialect{}.ParseACL(body, object)
}
