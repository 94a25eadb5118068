package oss

import (
	"encoding/xml"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// aclDefault is OSS's object ACL "inherit the bucket's".
const aclDefault = "default"

// CannedACL reads x-oss-acl (bucket) or x-oss-object-acl (object). An
// object written without one follows its bucket's ACL, as in OSS.
func (Dialect) CannedACL(h http.Header, object bool) (string, bool, error) {
	name := "acl"
	if object {
		name = "object-acl"
	}
	v := names.Get(h, name)
	switch v {
	case "":
		return service.ACLDefault, false, nil
	case aclDefault:
		if object {
			return service.ACLDefault, true, nil
		}
	case service.ACLPrivate, service.ACLPublicRead, service.ACLPublicReadWrite:
		return v, true, nil
	}
	return "", true, errs.InvalidArgument.WithMessage("no such bucket access control exists")
}

// AccessControlPolicy is the OSS ACL document: the canned ACL itself is
// the grant.
type AccessControlPolicy struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   Owner
	Grant   string `xml:"AccessControlList>Grant"`
}

// ACLDocument renders GetBucketAcl / GetObjectAcl ("default" for an object
// that follows its bucket).
func (Dialect) ACLDocument(owner, acl string, object bool) any {
	if acl == service.ACLDefault {
		acl = service.ACLPrivate
		if object {
			acl = aclDefault
		}
	}
	return AccessControlPolicy{Owner: Owner{ID: owner, DisplayName: owner}, Grant: acl}
}

// ParseACL: OSS sets ACLs through the x-oss-acl / x-oss-object-acl header
// only; there is no document form.
func (Dialect) ParseACL(body []byte, object bool) (string, error) {
	name := "x-oss-acl"
	if object {
		name = "x-oss-object-acl"
	}
	return "", errs.InvalidArgument.WithMessage("The " + name + " header is required.")
}
