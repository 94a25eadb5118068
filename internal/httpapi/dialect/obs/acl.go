package obs

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect"
	"github.com/strongroom-dev/strongroom/internal/httpapi/dialect/s3"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// ACLs. The canned values are S3's, under OBS's header prefix (x-obs-acl,
// and x-amz-acl in the S3-compatible modes); OBS's "-delivered" values
// (the bucket's grants passed on to its objects) have no strongroom
// equivalent and are refused.
//
// The ACL document depends on how the request is signed, as in OBS: the
// S3-compatible signatures get S3's document, the native OBS signature
// OBS's own (grantees by ID only, everyone as <Canned>Everyone</Canned>,
// Delivered flags; the SDK parses it only in that mode). Documents sent
// with Put(Bucket|Object)Acl are read in either form.

var _ dialect.RequestACLDocument = Dialect{}

func (d Dialect) CannedACL(h http.Header, object bool) (string, bool, error) {
	v := d.Header(h, "acl")
	if strings.HasSuffix(v, "-delivered") {
		return "", true, errs.InvalidArgument.WithMessage("The canned ACL " + v + " is not supported: the -delivered ACLs (bucket grants passed on to objects) are not implemented.")
	}
	hh := http.Header{}
	if v != "" {
		hh.Set("x-amz-acl", v)
	}
	return s3.Dialect{}.CannedACL(hh, object)
}

// ACLDocument is S3's document (the S3-compatible modes).
func (Dialect) ACLDocument(owner, acl string, object bool) any {
	return s3.Dialect{}.ACLDocument(owner, acl, object)
}

// ACLDocumentFor answers OBS's document to natively signed requests and
// S3's to the others.
func (d Dialect) ACLDocumentFor(r *http.Request, owner, acl string, object bool) any {
	if !native(r) {
		return d.ACLDocument(owner, acl, object)
	}
	return nativeACLDocument(owner, acl, object)
}

// native reports whether r speaks OBS's own protocol: the OBS signature
// (header or presigned URL), or, unsigned, x-obs-* headers.
func native(r *http.Request) bool {
	if a := r.Header.Get("Authorization"); a != "" {
		return strings.HasPrefix(a, "OBS ")
	}
	if q := r.URL.Query(); q.Has("Signature") || q.Has("X-Amz-Signature") {
		return q.Has("AccessKeyId") // V2 presigned URLs carry AWSAccessKeyId
	}
	for k := range r.Header {
		if strings.HasPrefix(strings.ToLower(k), prefix) {
			return true
		}
	}
	return false
}

// Native ACL document (GET /?acl and GET /key?acl).
type nativeACL struct {
	XMLName xml.Name    `xml:"AccessControlPolicy"`
	NS      string      `xml:"xmlns,attr,omitempty"`
	Owner   nativeOwner `xml:"Owner"`
	// Delivered (objects): whether the object follows its bucket's ACL.
	Delivered *bool         `xml:"Delivered,omitempty"`
	Grants    []nativeGrant `xml:"AccessControlList>Grant"`
}

type nativeOwner struct {
	ID string `xml:"ID"`
}

type nativeGrant struct {
	Grantee    nativeGrantee `xml:"Grantee"`
	Permission string        `xml:"Permission"`
	// Delivered (buckets): whether the grant is passed on to the objects.
	Delivered *bool `xml:"Delivered,omitempty"`
}

type nativeGrantee struct {
	ID     string `xml:"ID,omitempty"`
	Canned string `xml:"Canned,omitempty"`
	// URI is S3's group (authenticated-read, which OBS has no native
	// form for); parsing also takes S3-mode grantees.
	URI  string `xml:"URI,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

const (
	cannedEveryone = "Everyone"
	awsAllUsers    = "http://acs.amazonaws.com/groups/global/AllUsers"
	awsAuthUsers   = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
)

func nativeACLDocument(owner, acl string, object bool) nativeACL {
	no := false
	doc := nativeACL{NS: NS, Owner: nativeOwner{ID: owner}}
	add := func(g nativeGrantee, perm string) {
		ng := nativeGrant{Grantee: g, Permission: perm}
		if !object {
			ng.Delivered = &no
		}
		doc.Grants = append(doc.Grants, ng)
	}
	if object {
		follows := acl == service.ACLDefault
		doc.Delivered = &follows
	}
	add(nativeGrantee{ID: owner}, "FULL_CONTROL")
	switch acl {
	case service.ACLPublicRead:
		add(nativeGrantee{Canned: cannedEveryone}, "READ")
	case service.ACLPublicReadWrite:
		add(nativeGrantee{Canned: cannedEveryone}, "READ")
		add(nativeGrantee{Canned: cannedEveryone}, "WRITE")
	case service.ACLAuthenticatedRead:
		add(nativeGrantee{URI: awsAuthUsers}, "READ")
	}
	return doc
}

var errGrants = errs.NotImplemented.WithMessage("Only grants that a canned ACL expresses are supported.")

// ParseACL maps a Put(Bucket|Object)Acl document, in OBS's form or S3's,
// back to the canned ACL it expresses: everyone is <Canned>Everyone</Canned>
// or S3's AllUsers group; a FULL_CONTROL grant to an ID is the owner's.
// Delivered flags are ignored.
func (Dialect) ParseACL(body []byte, object bool) (string, error) {
	var doc nativeACL
	if err := xml.Unmarshal(body, &doc); err != nil {
		return "", errs.MalformedXML
	}
	read, write, authRead := false, false, false
	for _, g := range doc.Grants {
		all := g.Grantee.Canned == cannedEveryone || g.Grantee.URI == awsAllUsers
		auth := g.Grantee.URI == awsAuthUsers
		switch {
		case all && g.Permission == "READ":
			read = true
		case all && g.Permission == "WRITE":
			write = true
		case auth && g.Permission == "READ":
			authRead = true
		case !all && !auth && g.Grantee.URI == "" && g.Grantee.Canned == "" && g.Grantee.ID != "" && g.Permission == "FULL_CONTROL":
		default:
			return "", errGrants
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
	return "", errGrants
}
