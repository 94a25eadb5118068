package cos

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// The ACL document names COS's groups, and reads back to the canned ACL.
func TestACLDocuments(t *testing.T) {
	d := Dialect{}
	for _, tc := range []struct {
		acl    string
		object bool
		groups []string // "URI PERMISSION"
	}{
		{service.ACLPrivate, false, nil},
		{service.ACLPublicRead, true, []string{groupAllUsers + " READ"}},
		{service.ACLPublicReadWrite, false, []string{groupAllUsers + " READ", groupAllUsers + " WRITE"}},
		{service.ACLAuthenticatedRead, false, []string{groupAuthUsers + " READ"}},
		{service.ACLDefault, true, nil},
	} {
		b, err := xml.Marshal(d.ACLDocument("alice", tc.acl, tc.object))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Owner  struct{ ID string }
			Grants []struct {
				Grantee struct {
					Type string `xml:"type,attr"`
					ID   string
					URI  string
				}
				Permission string
			} `xml:"AccessControlList>Grant"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		var groups []string
		for _, g := range doc.Grants[1:] {
			groups = append(groups, g.Grantee.URI+" "+g.Permission)
		}
		if doc.Owner.ID != "alice" || doc.Grants[0].Grantee.ID != "alice" || doc.Grants[0].Permission != "FULL_CONTROL" ||
			strings.Join(groups, ",") != strings.Join(tc.groups, ",") || strings.Contains(string(b), "amazonaws") {
			t.Errorf("%q: %s", tc.acl, b)
		}
		if tc.acl == service.ACLDefault {
			continue
		}
		if got, err := d.ParseACL(b, tc.object); err != nil || got != tc.acl {
			t.Errorf("ParseACL of the %q document: %q, %v", tc.acl, got, err)
		}
	}
	// qcs::cam::anyone:anyone is everyone too; other grants are refused.
	anyone := `<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>qcs::cam::anyone:anyone</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`
	if got, err := d.ParseACL([]byte(anyone), true); err != nil || got != service.ACLPublicRead {
		t.Errorf("anyone READ: %q, %v", got, err)
	}
	for body, want := range map[string]*errs.Error{
		strings.Replace(anyone, "READ", "READ_ACP", 1):                                 errs.NotImplemented,
		strings.Replace(anyone, "qcs::cam::anyone:anyone", "qcs::cam::uin/1:uin/2", 1): errs.NotImplemented,
		"<AccessControlPolicy": errs.MalformedXML,
	} {
		if _, err := d.ParseACL([]byte(body), false); errs.As(err) == nil || errs.As(err).Code != want.Code {
			t.Errorf("ParseACL(%s) = %v, want %s", body, err, want.Code)
		}
	}
	rw := strings.Replace(anyone, "</AccessControlList>", `<Grant><Grantee><URI>`+groupAllUsers+`</URI></Grantee><Permission>WRITE</Permission></Grant></AccessControlList>`, 1)
	if _, err := d.ParseACL([]byte(rw), true); errs.As(err) == nil || errs.As(err).Code != errs.InvalidArgument.Code {
		t.Errorf("public-read-write object document: %v", err)
	}
	w := httptest.NewRecorder()
	d.WriteError(w, httptest.NewRequest(http.MethodPut, "http://b-1250000000.cos.test/?policy", nil), errs.MalformedPolicy, "/b-1250000000", "RID")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "<Code>InvalidPolicyDocument</Code>") {
		t.Errorf("MalformedPolicy: %d %s", w.Code, w.Body)
	}
}
