package e2evendors

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"

	"github.com/strongroom-dev/strongroom/internal/iam"
	"github.com/strongroom-dev/strongroom/internal/testnode"
)

const obsDomain = "obs.localhost" // pinned to the OBS dialect

// obsMode is one way the OBS SDK signs and addresses requests: AWS V2
// (its default) and V4 with x-amz-* headers on the node's OBS listener
// (path style), or the native OBS signature with x-obs-* headers on the
// OBS domain (virtual-hosted).
type obsMode struct {
	name   string
	sig    obs.SignatureType
	native bool
}

var obsModes = []obsMode{
	{"v2", obs.SignatureV2, false},
	{"v4", obs.SignatureV4, false},
	{"obs", obs.SignatureObs, true},
}

// eachOBSMode runs f per mode, in parallel, on one node with the given
// KMS keys.
func eachOBSMode(t *testing.T, kmsKeys []string, f func(t *testing.T, u *users, m obsMode)) {
	u := startUsers(t, testnode.Options{Dialects: []string{"obs"}, Domains: []string{"obs=" + obsDomain}})
	u.kmsKeys(t, kmsKeys...)
	for _, m := range obsModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f(t, u, m)
		})
	}
}

// obsEndpoint is what a user configures for mode m, and where it dials.
func obsEndpoint(u *users, m obsMode) (endpoint, addr string) {
	if m.native {
		_, port, _ := net.SplitHostPort(u.node.Addr)
		return "https://" + obsDomain + ":" + port, u.node.Addr
	}
	return u.node.DialectURL["obs"], u.node.DialectAddr["obs"]
}

// obsBucketURL is a bucket's URL in mode m's addressing, for unsigned
// requests.
func obsBucketURL(u *users, m obsMode, b string) string {
	ep, _ := obsEndpoint(u, m)
	if m.native {
		return strings.Replace(ep, "://", "://"+b+".", 1)
	}
	return ep + "/" + b
}

// obsClient is an OBS SDK client of user c in mode m, without retries.
// Every request it sends must carry the mode's signature (checked when the
// test ends), so a test cannot pass on another scheme.
func obsClient(t *testing.T, u *users, m obsMode, c *iam.Credentials) *obs.ObsClient {
	t.Helper()
	ep, addr := obsEndpoint(u, m)
	want := map[obs.SignatureType]string{obs.SignatureV2: "AWS ", obs.SignatureV4: "AWS4-HMAC-SHA256 ", obs.SignatureObs: "OBS "}[m.sig]
	var mu sync.Mutex
	var bad []string
	tr := dialTo(addr)
	tr.Proxy = func(r *http.Request) (*url.URL, error) {
		if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, want) {
			mu.Lock()
			bad = append(bad, fmt.Sprintf("%s %s (Authorization %.20q)", r.Method, r.URL, a))
			mu.Unlock()
		}
		return nil, nil
	}
	cl, err := obs.New(c.AccessKey, c.SecretKey, ep, obs.WithSignature(m.sig), obs.WithMaxRetryCount(0), obs.WithHttpTransport(tr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cl.Close()
		mu.Lock()
		defer mu.Unlock()
		if len(bad) > 0 {
			t.Errorf("requests not signed in mode %s: %s", m.name, strings.Join(bad, "; "))
		}
	})
	return cl
}

// wantOBSErr asserts an OBS error with status and code.
func wantOBSErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	var oe obs.ObsError
	if !errors.As(err, &oe) {
		t.Fatalf("got %v (%T); want OBS error %d %s", err, err, status, code)
	}
	if oe.StatusCode != status || oe.Code != code || oe.RequestId == "" {
		t.Fatalf("got OBS error %d %q (%s, request id %q); want %d %s", oe.StatusCode, oe.Code, oe.Message, oe.RequestId, status, code)
	}
}

// obsSetup is one mode's clients of alice and bob and a bucket of alice's.
func obsSetup(t *testing.T, u *users, m obsMode, prefix string) (b string, alice, bob *obs.ObsClient) {
	t.Helper()
	alice, bob = obsClient(t, u, m, u.alice), obsClient(t, u, m, u.bob)
	b = prefix + "-" + m.name
	if _, err := alice.CreateBucket(&obs.CreateBucketInput{Bucket: b}); err != nil {
		t.Fatalf("create bucket %s: %v", b, err)
	}
	return b, alice, bob
}

// TestOBSPolicyGrantsEncryptionConfig: bob gets 403 AccessDenied on
// Get/Put/DeleteBucketEncryption until alice grants them with an OBS
// bucket policy (an ID principal, OBS action names — its
// PutEncryptionConfiguration covers the delete — and a bare bucket
// resource) put with SetBucketPolicy; then they succeed; GetBucketPolicy
// returns the document; DeleteBucketPolicy takes the grant away; a
// malformed policy is MalformedPolicy.
func TestOBSPolicyGrantsEncryptionConfig(t *testing.T) {
	t.Parallel()
	eachOBSMode(t, nil, func(t *testing.T, u *users, m obsMode) {
		b, alice, bob := obsSetup(t, u, m, "encpolicy")
		ops := []struct {
			name string
			do   func() error
		}{
			{"SetBucketEncryption", func() error {
				_, err := bob.SetBucketEncryption(&obs.SetBucketEncryptionInput{Bucket: b,
					BucketEncryptionConfiguration: obs.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"}})
				return err
			}},
			{"GetBucketEncryption", func() error {
				out, err := bob.GetBucketEncryption(b)
				if err == nil && out.SSEAlgorithm != "AES256" {
					return fmt.Errorf("GetBucketEncryption: %+v", out.BucketEncryptionConfiguration)
				}
				return err
			}},
			{"DeleteBucketEncryption", func() error {
				_, err := bob.DeleteBucketEncryption(b)
				return err
			}},
		}
		for _, op := range ops {
			wantOBSErr(t, op.do(), http.StatusForbidden, "AccessDenied")
		}
		policy := `{"Statement":[{"Sid":"bob-encryption","Effect":"Allow","Principal":{"ID":["domain/strongroom:user/bob"]},` +
			`"Action":["GetEncryptionConfiguration","PutEncryptionConfiguration"],"Resource":["` + b + `"]}]}`
		_, err := bob.SetBucketPolicy(&obs.SetBucketPolicyInput{Bucket: b, Policy: policy})
		wantOBSErr(t, err, http.StatusForbidden, "AccessDenied")
		if _, err := alice.SetBucketPolicy(&obs.SetBucketPolicyInput{Bucket: b, Policy: policy}); err != nil {
			t.Fatalf("SetBucketPolicy: %v", err)
		}
		got, err := alice.GetBucketPolicy(b)
		if err != nil || got.Policy != policy {
			t.Fatalf("GetBucketPolicy = %+v, %v; want the document set", got, err)
		}
		for _, op := range ops {
			if err := op.do(); err != nil {
				t.Fatalf("bob's %s after the grant: %v", op.name, err)
			}
		}
		// Only the named actions: bob still may not list.
		_, err = bob.ListObjects(&obs.ListObjectsInput{Bucket: b})
		wantOBSErr(t, err, http.StatusForbidden, "AccessDenied")

		if _, err := alice.DeleteBucketPolicy(b); err != nil {
			t.Fatal(err)
		}
		for _, op := range ops {
			wantOBSErr(t, op.do(), http.StatusForbidden, "AccessDenied")
		}
		_, err = alice.GetBucketPolicy(b)
		wantOBSErr(t, err, http.StatusNotFound, "NoSuchBucketPolicy")

		for _, bad := range []string{
			strings.Replace(policy, `"GetEncryptionConfiguration"`, `"GetEncryptionConfig"`, 1), // unknown action
			strings.Replace(policy, `"domain/strongroom:user/bob"`, `"bob"`, 1),                 // not an OBS principal
			strings.Replace(policy, `"Allow"`, `"Permit"`, 1),
			`{"Statement":`,
		} {
			_, err := alice.SetBucketPolicy(&obs.SetBucketPolicyInput{Bucket: b, Policy: bad})
			wantOBSErr(t, err, http.StatusBadRequest, "MalformedPolicy")
		}
	})
}

// TestOBSDenyUnencryptedPut: the deny-unencrypted-PUT policy with OBS's
// bucket-policy condition keys (x-obs-server-side-encryption "kms", the
// key by x-obs-server-side-encryption-kms-key-id) refuses plain, SSE-OBS
// and other-key writes and lets SSE-KMS with the key through, including
// the parts of a multipart upload initiated with it. In the S3-compatible
// modes the SDK sends x-amz-server-side-encryption: aws:kms; the keys
// govern those requests too.
func TestOBSDenyUnencryptedPut(t *testing.T) {
	t.Parallel()
	eachOBSMode(t, []string{"key-x", "key-y"}, func(t *testing.T, u *users, m obsMode) {
		b, alice, _ := obsSetup(t, u, m, "kmsonly")
		policy := `{"Statement":[
		 {"Sid":"DenyNotKMS","Effect":"Deny","Principal":{"ID":["*"]},"Action":["PutObject"],"Resource":["` + b + `/*"],
		  "Condition":{"StringNotEquals":{"x-obs-server-side-encryption":"kms"}}},
		 {"Sid":"DenyOtherKey","Effect":"Deny","Principal":{"ID":["*"]},"Action":["PutObject"],"Resource":["` + b + `/*"],
		  "Condition":{"StringNotEqualsIfExists":{"x-obs-server-side-encryption-kms-key-id":"key-x"}}}]}`
		if _, err := alice.SetBucketPolicy(&obs.SetBucketPolicyInput{Bucket: b, Policy: policy}); err != nil {
			t.Fatal(err)
		}
		put := func(key string, h obs.ISseHeader) error {
			in := &obs.PutObjectInput{Body: strings.NewReader("data")}
			in.Bucket, in.Key, in.SseHeader, in.ContentLength = b, key, h, 4
			_, err := alice.PutObject(in)
			return err
		}
		for _, tc := range []struct {
			name string
			sse  obs.ISseHeader
			ok   bool
		}{
			{"plain", nil, false},
			{"SSE-OBS", obs.SseKmsHeader{Encryption: "AES256"}, false},
			{"kms default key", obs.SseKmsHeader{Encryption: obs.DEFAULT_SSE_KMS_ENCRYPTION_OBS}, false},
			{"kms key-y", obs.SseKmsHeader{Encryption: obs.DEFAULT_SSE_KMS_ENCRYPTION_OBS, Key: "key-y"}, false},
			{"kms key-x", obs.SseKmsHeader{Encryption: obs.DEFAULT_SSE_KMS_ENCRYPTION_OBS, Key: "key-x"}, true},
		} {
			err := put("obj", tc.sse)
			if tc.ok && err != nil {
				t.Fatalf("PUT %s: %v", tc.name, err)
			}
			if !tc.ok {
				wantOBSErr(t, err, http.StatusForbidden, "AccessDenied")
			}
		}
		multipart := func(key string, h obs.ISseHeader) error {
			ini := &obs.InitiateMultipartUploadInput{}
			ini.Bucket, ini.Key, ini.SseHeader = b, key, h
			up, err := alice.InitiateMultipartUpload(ini)
			if err != nil {
				return err
			}
			parts := [][]byte{randBytes(100 * KiB), []byte("tail")} // OBS parts: 100 KB but the last
			var done []obs.Part
			for i, p := range parts {
				pr, err := alice.UploadPart(&obs.UploadPartInput{Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: i + 1, Body: bytes.NewReader(p)})
				if err != nil {
					return fmt.Errorf("UploadPart %d: %w", i+1, err)
				}
				done = append(done, obs.Part{PartNumber: i + 1, ETag: pr.ETag})
			}
			_, err = alice.CompleteMultipartUpload(&obs.CompleteMultipartUploadInput{Bucket: b, Key: key, UploadId: up.UploadId, Parts: done})
			if err != nil {
				return fmt.Errorf("CompleteMultipartUpload: %w", err)
			}
			out, err := alice.GetObjectMetadata(&obs.GetObjectMetadataInput{Bucket: b, Key: key})
			if err != nil {
				return err
			}
			if kms, ok := out.SseHeader.(obs.SseKmsHeader); !ok || kms.Key != "key-x" {
				return fmt.Errorf("the completed upload's encryption: %+v", out.SseHeader)
			}
			return nil
		}
		wantOBSErr(t, multipart("mp-plain", nil), http.StatusForbidden, "AccessDenied")
		if err := multipart("mp", obs.SseKmsHeader{Encryption: obs.DEFAULT_SSE_KMS_ENCRYPTION_OBS, Key: "key-x"}); err != nil {
			t.Fatalf("multipart upload with kms key-x: %v", err)
		}
		if _, err := alice.DeleteBucketPolicy(b); err != nil {
			t.Fatal(err)
		}
		if err := put("obj", nil); err != nil {
			t.Fatalf("plain PUT without the policy: %v", err)
		}
	})
}

// TestOBSPublicRead: an object written with the public-read canned ACL
// (x-obs-acl natively, x-amz-acl in the S3-compatible modes), and one made
// public-read with an ACL document through SetObjectAcl (OBS's
// <Canned>Everyone</Canned> natively, S3's AllUsers group otherwise), are
// readable with unsigned requests; nothing else is; GetObjectAcl and
// GetBucketAcl report the ACLs in the mode's document form;
// SetObjectAcl private closes the object.
func TestOBSPublicRead(t *testing.T) {
	t.Parallel()
	eachOBSMode(t, nil, func(t *testing.T, u *users, m obsMode) {
		b, alice, bob := obsSetup(t, u, m, "public")
		for _, o := range []struct {
			key string
			acl obs.AclType
		}{{"open", obs.AclPublicRead}, {"closed", ""}, {"later", ""}} {
			in := &obs.PutObjectInput{Body: strings.NewReader("hello " + o.key)}
			in.Bucket, in.Key, in.ACL, in.ContentLength = b, o.key, o.acl, int64(len("hello "+o.key))
			if _, err := alice.PutObject(in); err != nil {
				t.Fatal(err)
			}
		}
		_, addr := obsEndpoint(u, m)
		anon := &http.Client{Transport: dialTo(addr)}
		base := obsBucketURL(u, m, b)
		checkPublicRead(t, anon, base)

		// The SDK's view of the ACL: the owner's FULL_CONTROL and a READ
		// grant to everyone. Natively the SDK's object ACL parser has no
		// field for <Canned>, so that grantee reads empty; the raw
		// document (a presigned GET ?acl in the mode's signature) shows
		// what was sent.
		everyone := func(g obs.Grant) bool {
			if m.native {
				return g.Grantee.ID == "" && g.Grantee.URI == ""
			}
			return g.Grantee.URI == "http://acs.amazonaws.com/groups/global/AllUsers"
		}
		aclOf := func(key string) []obs.Grant {
			t.Helper()
			out, err := alice.GetObjectAcl(&obs.GetObjectAclInput{Bucket: b, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			if out.Owner.ID != "alice" {
				t.Fatalf("GetObjectAcl %s owner %+v", key, out.Owner)
			}
			return out.Grants
		}
		isPublic := func(gs []obs.Grant) bool {
			owner, read := false, false
			for _, g := range gs {
				owner = owner || g.Grantee.ID == "alice" && g.Permission == obs.PermissionFullControl
				read = read || everyone(g) && g.Permission == obs.PermissionRead
			}
			if !owner || len(gs) > 2 {
				t.Fatalf("ACL grants %+v", gs)
			}
			return read
		}
		if !isPublic(aclOf("open")) || isPublic(aclOf("closed")) {
			t.Fatalf("GetObjectAcl: open %+v, closed %+v", aclOf("open"), aclOf("closed"))
		}
		signed, err := alice.CreateSignedUrl(&obs.CreateSignedUrlInput{Method: obs.HttpMethodGet, Bucket: b, Key: "open", SubResource: obs.SubResourceAcl, Expires: 300})
		if err != nil {
			t.Fatal(err)
		}
		st, raw := anonymous(t, anon, http.MethodGet, signed.SignedUrl)
		wantRaw := "<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>"
		if m.native {
			wantRaw = "<Canned>Everyone</Canned>"
		}
		if st != http.StatusOK || !bytes.Contains(raw, []byte(wantRaw)) {
			t.Fatalf("GET ?acl presigned in mode %s: %d %s; want %s", m.name, st, raw, wantRaw)
		}
		_, err = bob.GetObjectAcl(&obs.GetObjectAclInput{Bucket: b, Key: "open"})
		wantOBSErr(t, err, http.StatusForbidden, "AccessDenied")

		// SetObjectAcl with a document in the mode's form.
		doc := obs.AccessControlPolicy{Owner: obs.Owner{ID: "alice"}, Grants: []obs.Grant{
			{Grantee: obs.Grantee{ID: "alice"}, Permission: obs.PermissionFullControl},
			{Grantee: obs.Grantee{URI: obs.GroupAllUsers}, Permission: obs.PermissionRead},
		}}
		if _, err := alice.SetObjectAcl(&obs.SetObjectAclInput{Bucket: b, Key: "later", AccessControlPolicy: doc}); err != nil {
			t.Fatalf("SetObjectAcl with an everyone-READ document: %v", err)
		}
		if st, body := anonymous(t, anon, http.MethodGet, base+"/later"); st != http.StatusOK || string(body) != "hello later" {
			t.Fatalf("anonymous GET after SetObjectAcl public-read: %d %q", st, body)
		}
		if _, err := alice.SetObjectAcl(&obs.SetObjectAclInput{Bucket: b, Key: "open", ACL: obs.AclPrivate}); err != nil {
			t.Fatal(err)
		}
		if isPublic(aclOf("open")) {
			t.Fatalf("GetObjectAcl after SetObjectAcl private: %+v", aclOf("open"))
		}
		if st, _ := anonymous(t, anon, http.MethodGet, base+"/open"); st != http.StatusForbidden {
			t.Fatalf("anonymous GET after SetObjectAcl private: %d", st)
		}

		// The bucket ACL: public-read opens the listing, not the objects
		// (OBS objects written without an ACL are private).
		if _, err := alice.SetBucketAcl(&obs.SetBucketAclInput{Bucket: b, ACL: obs.AclPublicRead}); err != nil {
			t.Fatal(err)
		}
		ba, err := alice.GetBucketAcl(b)
		if err != nil {
			t.Fatal(err)
		}
		read := false
		for _, g := range ba.Grants {
			read = read || g.Permission == obs.PermissionRead && (g.Grantee.URI == obs.GroupAllUsers || g.Grantee.URI == "http://acs.amazonaws.com/groups/global/AllUsers")
		}
		if !read || ba.Owner.ID != "alice" {
			t.Fatalf("GetBucketAcl of a public-read bucket: %+v", ba.AccessControlPolicy)
		}
		if st, body := anonymous(t, anon, http.MethodGet, base+"/"); st != http.StatusOK || !bytes.Contains(body, []byte("<Key>closed</Key>")) {
			t.Fatalf("anonymous listing of a public-read bucket: %d %s", st, body)
		}
		if st, _ := anonymous(t, anon, http.MethodGet, base+"/closed"); st != http.StatusForbidden {
			t.Fatalf("anonymous GET of a private object in a public-read bucket: %d", st)
		}
		// OBS's "-delivered" ACLs (the bucket's grants passed on to its
		// objects) have no strongroom equivalent.
		_, err = alice.SetBucketAcl(&obs.SetBucketAclInput{Bucket: b, ACL: obs.AclPublicReadDelivery})
		wantOBSErr(t, err, http.StatusBadRequest, "InvalidArgument")
	})
}
