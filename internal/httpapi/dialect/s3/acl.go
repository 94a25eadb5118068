package s3

import (
	"encoding/xml"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// CannedACL reads x-amz-acl. An object written without one is private, as
// in S3 (it does not follow the bucket's ACL).
func (Dialect) CannedACL(h http.Header, object bool) (string, bool, error) {
	v := names.Get(h, "acl")
	if v == "" {
		if object {
			return service.ACLPrivate, false, nil
		}
		return "", false, nil
	}
	switch v {
	case service.ACLPrivate, service.ACLPublicRead, service.ACLPublicReadWrite, service.ACLAuthenticatedRead:
		return v, true, nil
	case "bucket-owner-read", "bucket-owner-full-control":
		// The writer owns the bucket's objects here: private is exact.
		return service.ACLPrivate, true, nil
	}
	return "", true, errs.InvalidArgument.WithMessage("The canned ACL " + v + " is not supported.")
}

// Grant types of the S3 ACL document.
const (
	groupAllUsers  = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	xsiNS          = "http://www.w3.org/2001/XMLSchema-instance"
)

// AccessControlPolicy is the S3 ACL document.
type AccessControlPolicy struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	NS      string   `xml:"xmlns,attr,omitempty"`
	Owner   struct {
		ID          string
		DisplayName string `xml:",omitempty"`
	}
	Grants []Grant `xml:"AccessControlList>Grant"`
}

// Grant is one grant of an ACL.
type Grant struct {
	Grantee struct {
		XSI         string `xml:"xmlns:xsi,attr,omitempty"`
		Type        string `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
		ID          string `xml:",omitempty"`
		DisplayName string `xml:",omitempty"`
		URI         string `xml:",omitempty"`
	}
	Permission string
}

func grant(typ, id, uri, perm string) Grant {
	var g Grant
	g.Grantee.XSI, g.Grantee.Type, g.Grantee.ID, g.Grantee.URI, g.Permission = xsiNS, typ, id, uri, perm
	if id != "" {
		g.Grantee.DisplayName = id
	}
	return g
}

// ACLDocument expresses a canned ACL as S3 grants.
func (Dialect) ACLDocument(owner, acl string, object bool) any {
	doc := AccessControlPolicy{NS: NS}
	doc.Owner.ID, doc.Owner.DisplayName = owner, owner
	doc.Grants = append(doc.Grants, grant("CanonicalUser", owner, "", "FULL_CONTROL"))
	switch acl {
	case service.ACLPublicRead:
		doc.Grants = append(doc.Grants, grant("Group", "", groupAllUsers, "READ"))
	case service.ACLPublicReadWrite:
		doc.Grants = append(doc.Grants, grant("Group", "", groupAllUsers, "READ"), grant("Group", "", groupAllUsers, "WRITE"))
	case service.ACLAuthenticatedRead:
		doc.Grants = append(doc.Grants, grant("Group", "", groupAuthUsers, "READ"))
	}
	return doc
}

// ParseACL maps an ACL document back to the canned ACL it expresses; grant
// sets no canned ACL expresses are not supported.
func (Dialect) ParseACL(body []byte, object bool) (string, error) {
	var doc AccessControlPolicy
	if err := xml.Unmarshal(body, &doc); err != nil {
		return "", errs.MalformedXML
	}
	read, write, authRead := false, false, false
	for _, g := range doc.Grants {
		switch {
		case g.Grantee.Type == "CanonicalUser" && g.Permission == "FULL_CONTROL":
		case g.Grantee.URI == groupAllUsers && g.Permission == "READ":
			read = true
		case g.Grantee.URI == groupAllUsers && g.Permission == "WRITE":
			write = true
		case g.Grantee.URI == groupAuthUsers && g.Permission == "READ":
			authRead = true
		default:
			return "", errs.NotImplemented.WithMessage("Only grants that a canned ACL expresses are supported.")
		}
	}
	switch {
	case read && write && !authRead:
		return service.ACLPublicReadWrite, nil
	case read && !write && !authRead:
		return service.ACLPublicRead, nil
	case authRead && !read && !write:
		return service.ACLAuthenticatedRead, nil
	case !read && !write && !authRead:
		return service.ACLPrivate, nil
	}
	return "", errs.NotImplemented.WithMessage("Only grants that a canned ACL expresses are supported.")
}
