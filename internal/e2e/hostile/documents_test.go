package hostile

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// docFixture is a bucket with an object and an upload with one part, for
// the document-taking calls to act on.
type docFixture struct {
	c                *rawNode
	bucket, uploadID string
	partETag         string
}

func newDocFixture(t *testing.T, c *rawNode) *docFixture {
	t.Helper()
	f := &docFixture{c: c, bucket: c.bucket(t)}
	c.do(t, http.MethodPut, "/"+f.bucket+"/obj", "", []byte("data"), nil).want(t, "put obj", 200, "")
	r := c.do(t, http.MethodPost, "/"+f.bucket+"/mp", "uploads", nil, nil)
	r.want(t, "create upload", 200, "")
	var init struct{ UploadId string }
	if err := xml.Unmarshal(r.body, &init); err != nil || init.UploadId == "" {
		t.Fatalf("initiate: %v %s", err, r.body)
	}
	f.uploadID = init.UploadId
	r = c.do(t, http.MethodPut, "/"+f.bucket+"/mp", "partNumber=1&uploadId="+f.uploadID, []byte("part one"), nil)
	r.want(t, "upload part", 200, "")
	f.partETag = r.header.Get("ETag")
	return f
}

// docCall is one document-taking operation: how to send it, a document
// that would change something, the same content under another root, and
// how to tell that nothing changed.
type docCall struct {
	name          string
	method        string
	path, query   string
	valid, root   string
	tooLarge      int    // size of an oversized document
	malformedCode string // code for a malformed, wrongly rooted or oversized document
	unchanged     func(t *testing.T, f *docFixture)
}

func docCalls(f *docFixture) []docCall {
	b := "/" + f.bucket
	newBucket := randName("nb")
	aclPublic := `<AccessControlPolicy><Owner><ID>root</ID></Owner><AccessControlList>` +
		`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>` +
		`</AccessControlList></AccessControlPolicy>`
	notPublic := func(path string) func(t *testing.T, f *docFixture) {
		return func(t *testing.T, f *docFixture) {
			r := f.c.do(t, http.MethodGet, path, "acl", nil, nil)
			if r.status != 200 || bytes.Contains(r.body, []byte("AllUsers")) {
				t.Errorf("ACL of %s changed: %d %s", path, r.status, r.body)
			}
		}
	}
	return []docCall{
		{
			name: "CreateBucket", method: http.MethodPut, path: "/" + newBucket,
			valid:    `<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`,
			root:     `<BucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></BucketConfiguration>`,
			tooLarge: 4<<20 + 1, malformedCode: "MalformedXML",
			unchanged: func(t *testing.T, f *docFixture) {
				f.c.do(t, http.MethodHead, "/"+newBucket, "", nil, nil).want(t, "bucket created", 404, "")
			},
		},
		{
			name: "PutBucketEncryption", method: http.MethodPut, path: b, query: "encryption",
			valid:    `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>`,
			root:     `<EncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></EncryptionConfiguration>`,
			tooLarge: 4<<20 + 1, malformedCode: "MalformedXML",
			unchanged: func(t *testing.T, f *docFixture) {
				f.c.do(t, http.MethodGet, b, "encryption", nil, nil).want(t, "encryption set", 404, "ServerSideEncryptionConfigurationNotFoundError")
			},
		},
		{
			name: "PutBucketOrigin (x-strongroom-origin)", method: http.MethodPut, path: b, query: "x-strongroom-origin",
			valid:    `<OriginConfiguration><OriginRule><RulePriority>1</RulePriority><OriginType>Mirror</OriginType><OriginInfo><HostInfo><HostName>origin.example</HostName></HostInfo></OriginInfo></OriginRule></OriginConfiguration>`,
			root:     `<OriginRules><OriginRule><RulePriority>1</RulePriority><OriginType>Mirror</OriginType><OriginInfo><HostInfo><HostName>origin.example</HostName></HostInfo></OriginInfo></OriginRule></OriginRules>`,
			tooLarge: 64<<10 + 1, malformedCode: "MalformedXML",
			unchanged: func(t *testing.T, f *docFixture) {
				f.c.do(t, http.MethodGet, b, "x-strongroom-origin", nil, nil).want(t, "origin set", 404, "NoSuchOriginConfiguration")
			},
		},
		{
			name: "PutBucketPolicy", method: http.MethodPut, path: b, query: "policy",
			valid:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + f.bucket + `/*"}]}`,
			root:     `["Version","2012-10-17"]`,
			tooLarge: 20<<10 + 1, malformedCode: "MalformedPolicy",
			unchanged: func(t *testing.T, f *docFixture) {
				f.c.do(t, http.MethodGet, b, "policy", nil, nil).want(t, "policy set", 404, "NoSuchBucketPolicy")
			},
		},
		{
			name: "PutBucketAcl", method: http.MethodPut, path: b, query: "acl",
			valid: aclPublic, root: strings.ReplaceAll(aclPublic, "AccessControlPolicy>", "AccessControlList2>"),
			tooLarge: 4<<20 + 1, malformedCode: "MalformedXML", unchanged: notPublic(b),
		},
		{
			name: "PutObjectAcl", method: http.MethodPut, path: b + "/obj", query: "acl",
			valid: aclPublic, root: strings.ReplaceAll(aclPublic, "AccessControlPolicy>", "AccessControlList2>"),
			tooLarge: 4<<20 + 1, malformedCode: "MalformedXML", unchanged: notPublic(b + "/obj"),
		},
		{
			name: "DeleteObjects", method: http.MethodPost, path: b, query: "delete",
			valid:    `<Delete><Object><Key>obj</Key></Object></Delete>`,
			root:     `<DeleteObjects><Object><Key>obj</Key></Object></DeleteObjects>`,
			tooLarge: 4<<20 + 1, malformedCode: "MalformedXML",
			unchanged: func(t *testing.T, f *docFixture) {
				f.c.do(t, http.MethodHead, b+"/obj", "", nil, nil).want(t, "object deleted", 200, "")
			},
		},
		{
			name: "PutBucketVersioning", method: http.MethodPut, path: b, query: "versioning",
			valid:    `<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`,
			root:     `<Versioning><Status>Enabled</Status></Versioning>`,
			tooLarge: 4<<20 + 1, malformedCode: "MalformedXML",
			unchanged: func(t *testing.T, f *docFixture) {
				r := f.c.do(t, http.MethodGet, b, "versioning", nil, nil)
				if r.status != 200 || bytes.Contains(r.body, []byte("Enabled")) {
					t.Errorf("versioning changed: %d %s", r.status, r.body)
				}
			},
		},
		{
			name: "PutObjectLockConfiguration", method: http.MethodPut, path: b, query: "object-lock",
			valid:    `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>`,
			root:     `<LockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></LockConfiguration>`,
			tooLarge: 4<<20 + 1, malformedCode: "MalformedXML",
			unchanged: func(t *testing.T, f *docFixture) {
				f.c.do(t, http.MethodGet, b, "object-lock", nil, nil).want(t, "object lock set", 404, "ObjectLockConfigurationNotFoundError")
			},
		},
		{
			name: "PutObjectLegalHold", method: http.MethodPut, path: b + "/obj", query: "legal-hold",
			valid:    `<LegalHold><Status>ON</Status></LegalHold>`,
			root:     `<Hold><Status>ON</Status></Hold>`,
			tooLarge: 4<<20 + 1, malformedCode: "MalformedXML",
			unchanged: func(t *testing.T, f *docFixture) {
				// The bucket has no object lock: nothing to read back.
				f.c.do(t, http.MethodGet, b+"/obj", "legal-hold", nil, nil).want(t, "legal hold", 400, "InvalidRequest")
			},
		},
		{
			name: "CompleteMultipartUpload", method: http.MethodPost, path: b + "/mp", query: "uploadId=" + f.uploadID,
			valid:    `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>` + f.partETag + `</ETag></Part></CompleteMultipartUpload>`,
			root:     `<CompleteUpload><Part><PartNumber>1</PartNumber><ETag>` + f.partETag + `</ETag></Part></CompleteUpload>`,
			tooLarge: 4<<20 + 1, malformedCode: "MalformedXML",
			unchanged: func(t *testing.T, f *docFixture) {
				f.c.do(t, http.MethodHead, b+"/mp", "", nil, nil).want(t, "upload completed", 404, "")
				f.c.do(t, http.MethodGet, b+"/mp", "uploadId="+f.uploadID, nil, nil).want(t, "upload gone", 200, "")
			},
		},
	}
}

// oversized pads a valid document past n bytes (whitespace inside the root
// for XML, a long string for JSON), so only its size is wrong.
func oversized(valid string, n int) string {
	if strings.HasPrefix(valid, "{") {
		return `{"Pad":"` + strings.Repeat("a", n) + `",` + valid[1:]
	}
	i := strings.Index(valid, ">") + 1
	return valid[:i] + strings.Repeat(" ", n) + valid[i:]
}

// TestDocumentsBadInput sends every document-taking call a malformed
// document, one with the wrong root element, an oversized one and one
// whose Content-MD5 does not match: each is refused with S3's code, and
// nothing stored changes.
func TestDocumentsBadInput(t *testing.T) {
	c := newRawNode(t)
	f := newDocFixture(t, c)
	for _, call := range docCalls(f) {
		t.Run(call.name, func(t *testing.T) {
			cases := []struct {
				kind string
				doc  string
				hdr  func(doc []byte) http.Header
				code string
			}{
				{"malformed", call.valid[:len(call.valid)/2], withMD5, call.malformedCode},
				{"wrong root", call.root, withMD5, call.malformedCode},
				{"oversized", oversized(call.valid, call.tooLarge), withMD5, call.malformedCode},
				{"wrong Content-MD5", call.valid, func([]byte) http.Header { return withMD5([]byte("other")) }, "BadDigest"},
				{"bad x-amz-checksum-crc32", call.valid, func([]byte) http.Header {
					return http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}}
				}, "BadDigest"},
			}
			for _, tc := range cases {
				doc := []byte(tc.doc)
				r := c.do(t, call.method, call.path, call.query, doc, tc.hdr(doc))
				r.want(t, tc.kind, 400, tc.code)
				call.unchanged(t, f)
			}
		})
	}
}

// TestDocumentsNeedIntegrity: S3 takes DeleteObjects and
// PutBucketEncryption only with a Content-MD5 or a flexible checksum.
func TestDocumentsNeedIntegrity(t *testing.T) {
	c := newRawNode(t)
	f := newDocFixture(t, c)
	for _, call := range docCalls(f) {
		if call.name != "DeleteObjects" && call.name != "PutBucketEncryption" {
			continue
		}
		r := c.do(t, call.method, call.path, call.query, []byte(call.valid), nil)
		r.want(t, call.name+" without Content-MD5", 400, "InvalidRequest")
		if r.err.Message != "Missing required header for this request: Content-MD5" {
			t.Errorf("%s: message %q", call.name, r.err.Message)
		}
		call.unchanged(t, f)
	}
	// A flexible checksum instead (what aws-sdk-go-v2 sends) is enough.
	doc := []byte(`<Delete><Object><Key>obj</Key></Object></Delete>`)
	c.do(t, http.MethodPost, "/"+f.bucket, "delete", doc, http.Header{"X-Amz-Checksum-Sha256": {sha256b64(doc)}}).want(t, "delete with checksum", 200, "")
	c.do(t, http.MethodHead, "/"+f.bucket+"/obj", "", nil, nil).want(t, "deleted object", 404, "")
}

// TestDocumentsAuthorizedBeforeRead: an anonymous caller who may not act
// is refused before its document is read. Each request announces 4 MiB
// and sends none of it: a server that reads first never answers.
func TestDocumentsAuthorizedBeforeRead(t *testing.T) {
	c := newRawNode(t)
	f := newDocFixture(t, c)
	for _, call := range docCalls(f) {
		t.Run(call.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", c.n.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			target := call.path
			if call.query != "" {
				target += "?" + call.query
			}
			fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nContent-Type: application/xml\r\n\r\n", call.method, target, c.n.Addr, 4<<20)
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer before the body was sent: %v", err)
			}
			defer resp.Body.Close()
			var e errDoc
			xml.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != http.StatusForbidden || e.Code != "AccessDenied" {
				t.Errorf("anonymous %s: %d %q, want 403 AccessDenied", call.name, resp.StatusCode, e.Code)
			}
		})
	}
}
