package obs

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/service"
)

func TestNative(t *testing.T) {
	for _, tc := range []struct {
		target string
		h      http.Header
		want   bool
	}{
		{"/b?acl", hdr("Authorization", "OBS AK:sig"), true},
		{"/b?acl", hdr("Authorization", "AWS AK:sig"), false},
		{"/b?acl", hdr("Authorization", "AWS4-HMAC-SHA256 Credential=AK/..."), false},
		{"/b?acl&AccessKeyId=AK&Expires=1&Signature=s", hdr(), true},
		{"/b?acl&AWSAccessKeyId=AK&Expires=1&Signature=s", hdr(), false},
		{"/b?acl&X-Amz-Credential=c&X-Amz-Signature=s", hdr(), false},
		{"/b?acl", hdr("x-obs-date", "d"), true},
		{"/b?acl", hdr(), false},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://obs.test"+tc.target, nil)
		for k, v := range tc.h {
			r.Header[k] = v
		}
		if got := native(r); got != tc.want {
			t.Errorf("native(%s %v) = %v", tc.target, tc.h, got)
		}
	}
}

// Natively signed requests get OBS's document; it reads back, as S3's
// does, to the canned ACL.
func TestACLDocuments(t *testing.T) {
	d := Dialect{}
	nativeReq := httptest.NewRequest(http.MethodGet, "http://b.obs.test/k?acl", nil)
	nativeReq.Header.Set("Authorization", "OBS AK:sig")
	s3Req := httptest.NewRequest(http.MethodGet, "http://obs.test/b/k?acl", nil)
	s3Req.Header.Set("Authorization", "AWS AK:sig")
	for _, tc := range []struct {
		acl    string
		object bool
		native []string // substrings of the native document
	}{
		{service.ACLPrivate, true, []string{"<ID>alice</ID>", "<Delivered>false</Delivered><AccessControlList>", "<Permission>FULL_CONTROL</Permission></Grant>"}},
		{service.ACLPublicRead, true, []string{"<Grantee><Canned>Everyone</Canned></Grantee><Permission>READ</Permission></Grant>"}},
		{service.ACLPublicRead, false, []string{"<Grantee><Canned>Everyone</Canned></Grantee><Permission>READ</Permission><Delivered>false</Delivered></Grant>"}},
		{service.ACLPublicReadWrite, false, []string{"<Permission>WRITE</Permission><Delivered>false</Delivered>"}},
		{service.ACLAuthenticatedRead, false, []string{"AuthenticatedUsers</URI>"}},
		{service.ACLDefault, true, []string{"<Delivered>true</Delivered>"}},
	} {
		nb, err := xml.Marshal(d.ACLDocumentFor(nativeReq, "alice", tc.acl, tc.object))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range append(tc.native, `<AccessControlPolicy xmlns="`+NS+`"><Owner><ID>alice</ID></Owner>`) {
			if !strings.Contains(string(nb), s) {
				t.Errorf("%q native document lacks %s: %s", tc.acl, s, nb)
			}
		}
		if strings.Contains(string(nb), "xsi") || strings.Contains(string(nb), "DisplayName") {
			t.Errorf("%q native document has S3 elements: %s", tc.acl, nb)
		}
		sb, err := xml.Marshal(d.ACLDocumentFor(s3Req, "alice", tc.acl, tc.object))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(sb), "Canned") || !strings.Contains(string(sb), "CanonicalUser") {
			t.Errorf("%q S3-mode document: %s", tc.acl, sb)
		}
		if tc.acl == service.ACLDefault {
			continue
		}
		for _, b := range [][]byte{nb, sb} {
			if got, err := d.ParseACL(b, tc.object); err != nil || got != tc.acl {
				t.Errorf("ParseACL(%s) = %q, %v; want %q", b, got, err, tc.acl)
			}
		}
	}
	// What the SDK sends natively for a grant to another user: refused.
	other := `<AccessControlPolicy><Owner><ID>alice</ID></Owner><AccessControlList><Grant><Grantee><ID>bob</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>`
	if _, err := d.ParseACL([]byte(other), true); errs.As(err) == nil || errs.As(err).Code != errs.NotImplemented.Code {
		t.Errorf("grant to another user: %v", err)
	}
}

func TestCannedACLDelivered(t *testing.T) {
	d := Dialect{}
	for _, v := range []string{"public-read-delivered", "public-read-write-delivered"} {
		if _, present, err := d.CannedACL(hdr("x-obs-acl", v), false); !present || errs.As(err) == nil || errs.As(err).Code != errs.InvalidArgument.Code {
			t.Errorf("%s: %v", v, err)
		}
	}
	if acl, present, err := d.CannedACL(hdr("x-amz-acl", "public-read"), true); err != nil || !present || acl != service.ACLPublicRead {
		t.Errorf("x-amz-acl public-read: %q %v %v", acl, present, err)
	}
	w := httptest.NewRecorder()
	d.WriteError(w, httptest.NewRequest(http.MethodPut, "http://obs.test/b?policy", nil), errs.MalformedPolicy.WithMessage("Statement[0]: missing Effect"), "/b", "RID")
	if w.Code != http.StatusBadRequest || w.Header().Get("x-obs-error-code") != "MalformedPolicy" || !strings.Contains(w.Body.String(), "missing Effect") {
		t.Errorf("MalformedPolicy: %d %v %s", w.Code, w.Header(), w.Body)
	}
}
