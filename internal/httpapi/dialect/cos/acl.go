package cos

import (
	"encoding/xml"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/s3"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// COS ACL documents have S3's shape, but COS names its groups with its own
// URIs (and the anonymous user "qcs::cam::anyone:anyone"). The COS SDK
// recognizes only these when it derives the canned ACL it reports
// (x-cos-acl on the response of Bucket/Object.GetACL), so S3's URIs would
// read as private.
const (
	groupAllUsers  = "http://cam.qcloud.com/groups/global/AllUsers"
	groupAuthUsers = "http://cam.qcloud.com/groups/global/AuthenticatedUsers"
	idAnyone       = "qcs::cam::anyone:anyone"

	awsAllUsers  = "http://acs.amazonaws.com/groups/global/AllUsers"
	awsAuthUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	xsiNS        = "http://www.w3.org/2001/XMLSchema-instance"
)

func grant(typ, id, uri, perm string) s3.Grant {
	var g s3.Grant
	g.Grantee.XSI, g.Grantee.Type, g.Grantee.ID, g.Grantee.DisplayName, g.Grantee.URI, g.Permission = xsiNS, typ, id, id, uri, perm
	return g
}

// ACLDocument expresses a canned ACL as COS grants: the owner's
// FULL_CONTROL and the group grants of the ACL. An object that follows its
// bucket's ACL ("default") shows the owner's grant only. Owner IDs are
// strongroom user names, as in every other strongroom response.
func (Dialect) ACLDocument(owner, acl string, object bool) any {
	var doc s3.AccessControlPolicy
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

var errGrants = errs.NotImplemented.WithMessage("Only grants that a canned ACL (x-cos-acl) expresses are supported.")

// ParseACL maps a PUT Bucket/Object acl document back to the canned ACL it
// expresses. AllUsers is COS's group URI or qcs::cam::anyone:anyone (S3's
// group URIs are accepted too); a FULL_CONTROL grant to a user is the
// owner's. Other grant sets are not supported.
func (Dialect) ParseACL(body []byte, object bool) (string, error) {
	var doc s3.AccessControlPolicy
	if err := xml.Unmarshal(body, &doc); err != nil {
		return "", errs.MalformedXML
	}
	read, write, authRead := false, false, false
	for _, g := range doc.Grants {
		all := g.Grantee.URI == groupAllUsers || g.Grantee.URI == awsAllUsers || g.Grantee.ID == idAnyone
		auth := g.Grantee.URI == groupAuthUsers || g.Grantee.URI == awsAuthUsers
		switch {
		case all && g.Permission == "READ":
			read = true
		case all && g.Permission == "WRITE":
			write = true
		case auth && g.Permission == "READ":
			authRead = true
		case !all && !auth && g.Grantee.URI == "" && g.Grantee.ID != "" && g.Permission == "FULL_CONTROL":
		default:
			return "", errGrants
		}
	}
	switch {
	case read && write && !authRead && object:
		return "", errs.InvalidArgument.WithMessage("Objects take no public-read-write ACL (x-cos-acl: default, private, public-read).")
	case read && write && !authRead:
		return service.ACLPublicReadWrite, nil
	case read && !write && !authRead:
		return service.ACLPublicRead, nil
	case authRead && !read && !write:
		return service.ACLAuthenticatedRead, nil
	case !read && !write && !authRead:
		return service.ACLPrivate, nil
	}
	return "", errGrants
}
