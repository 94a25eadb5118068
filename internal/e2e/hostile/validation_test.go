package hostile

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestValidationRefusals: input S3 refuses with its own code, which the
// server used to accept (and store, echo or silently drop).
func TestValidationRefusals(t *testing.T) {
	c := newRawNode(t)
	b := c.bucket(t)
	c.do(t, http.MethodPut, "/"+b+"/src", "", []byte("source"), nil).want(t, "put src", 200, "")
	upload := func(t *testing.T, key string) string {
		r := c.do(t, http.MethodPost, "/"+b+"/"+key, "uploads", nil, nil)
		var init struct{ UploadId string }
		xml.Unmarshal(r.body, &init)
		if r.status != 200 || init.UploadId == "" {
			t.Fatalf("initiate: %d %s", r.status, r.body)
		}
		return init.UploadId
	}
	createBucket := func(loc string) []byte {
		return []byte("<CreateBucketConfiguration><LocationConstraint>" + loc + "</LocationConstraint></CreateBucketConfiguration>")
	}
	twoRules := []byte(`<ServerSideEncryptionConfiguration>` + strings.Repeat(`<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>`, 2) + `</ServerSideEncryptionConfiguration>`)
	uid := upload(t, "parts")

	tests := []struct {
		name        string
		method      string
		path, query string
		body        []byte
		hdr         http.Header
		status      int
		code        string
	}{
		{"bucket xn--", http.MethodPut, "/xn--abc", "", nil, nil, 400, "InvalidBucketName"},
		{"bucket sthree-", http.MethodPut, "/sthree-abc", "", nil, nil, 400, "InvalidBucketName"},
		{"bucket -s3alias", http.MethodPut, "/abc-s3alias", "", nil, nil, 400, "InvalidBucketName"},
		{"bucket --ol-s3", http.MethodPut, "/abc--ol-s3", "", nil, nil, 400, "InvalidBucketName"},
		{"location unknown", http.MethodPut, "/" + randName("loc"), "", createBucket("mars-west-1"), nil, 400, "InvalidLocationConstraint"},
		{"location 5000 chars", http.MethodPut, "/" + randName("loc"), "", createBucket(strings.Repeat("a", 5000)), nil, 400, "InvalidLocationConstraint"},
		{"location markup", http.MethodPut, "/" + randName("loc"), "", createBucket("&lt;script&gt;alert(1)&lt;/script&gt;"), nil, 400, "InvalidLocationConstraint"},
		{"location known", http.MethodPut, "/" + randName("loc"), "", createBucket("eu-west-1"), nil, 200, ""},
		{"bucket object lock", http.MethodPut, "/" + randName("lock"), "", nil, http.Header{"X-Amz-Bucket-Object-Lock-Enabled": {"true"}}, 200, ""},
		{"encryption two rules", http.MethodPut, "/" + b, "encryption", twoRules, withMD5(twoRules), 400, "MalformedXML"},
		{"put storage class unknown", http.MethodPut, "/" + b + "/k", "", []byte("x"), http.Header{"X-Amz-Storage-Class": {"FAST"}}, 400, "InvalidStorageClass"},
		{"put storage class known", http.MethodPut, "/" + b + "/k", "", []byte("x"), http.Header{"X-Amz-Storage-Class": {"STANDARD_IA"}}, 200, ""},
		{"copy storage class unknown", http.MethodPut, "/" + b + "/k2", "", nil, http.Header{"X-Amz-Copy-Source": {"/" + b + "/src"}, "X-Amz-Storage-Class": {"FAST"}}, 400, "InvalidStorageClass"},
		{"initiate storage class unknown", http.MethodPost, "/" + b + "/k3", "uploads", nil, http.Header{"X-Amz-Storage-Class": {"FAST"}}, 400, "InvalidStorageClass"},
		// Object lock headers on a bucket without object lock.
		{"put object lock mode", http.MethodPut, "/" + b + "/l1", "", []byte("x"), http.Header{"X-Amz-Object-Lock-Mode": {"GOVERNANCE"}, "X-Amz-Object-Lock-Retain-Until-Date": {"2030-01-01T00:00:00Z"}, "Content-Md5": {md5b64([]byte("x"))}}, 400, "InvalidRequest"},
		{"put legal hold", http.MethodPut, "/" + b + "/l2", "", []byte("x"), http.Header{"X-Amz-Object-Lock-Legal-Hold": {"ON"}}, 400, "InvalidRequest"},
		{"copy object lock", http.MethodPut, "/" + b + "/l3", "", nil, http.Header{"X-Amz-Copy-Source": {"/" + b + "/src"}, "X-Amz-Object-Lock-Legal-Hold": {"ON"}}, 400, "InvalidRequest"},
		{"initiate object lock", http.MethodPost, "/" + b + "/l4", "uploads", nil, http.Header{"X-Amz-Object-Lock-Mode": {"COMPLIANCE"}}, 400, "InvalidRequest"},
		{"part-number-marker abc", http.MethodGet, "/" + b + "/parts", "uploadId=" + uid + "&part-number-marker=abc", nil, nil, 400, "InvalidArgument"},
		{"max-parts abc", http.MethodGet, "/" + b + "/parts", "uploadId=" + uid + "&max-parts=abc", nil, nil, 400, "InvalidArgument"},
		{"range bytes=-0", http.MethodGet, "/" + b + "/src", "", nil, http.Header{"Range": {"bytes=-0"}}, 416, "InvalidRange"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.do(t, tt.method, tt.path, tt.query, tt.body, tt.hdr).want(t, tt.name, tt.status, tt.code)
		})
	}
	// Nothing refused was stored.
	for _, key := range []string{"k2", "k3", "l1", "l2", "l3", "l4"} {
		c.do(t, http.MethodHead, "/"+b+"/"+key, "", nil, nil).want(t, key+" stored", 404, "")
	}
	r := c.do(t, http.MethodGet, "/"+b, "uploads", nil, nil)
	if bytes.Contains(r.body, []byte("<Key>k3</Key>")) || bytes.Contains(r.body, []byte("<Key>l4</Key>")) {
		t.Errorf("refused uploads were started: %s", r.body)
	}
	c.do(t, http.MethodGet, "/"+b, "encryption", nil, nil).want(t, "two-rule encryption stored", 404, "ServerSideEncryptionConfigurationNotFoundError")
}

// TestCompletePartOrderFirst: parts [2,1] are InvalidPartOrder, not
// EntityTooSmall for the (too small, not last) part 2 met first.
func TestCompletePartOrderFirst(t *testing.T) {
	c := newRawNode(t)
	b := c.bucket(t)
	r := c.do(t, http.MethodPost, "/"+b+"/mp", "uploads", nil, nil)
	var init struct{ UploadId string }
	xml.Unmarshal(r.body, &init)
	etags := map[int]string{}
	for n := 1; n <= 2; n++ {
		r := c.do(t, http.MethodPut, "/"+b+"/mp", fmt.Sprintf("partNumber=%d&uploadId=%s", n, init.UploadId), []byte("small"), nil)
		r.want(t, "upload part", 200, "")
		etags[n] = r.header.Get("ETag")
	}
	doc := []byte(fmt.Sprintf(`<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>`, etags[2], etags[1]))
	c.do(t, http.MethodPost, "/"+b+"/mp", "uploadId="+init.UploadId, doc, nil).want(t, "complete [2,1]", 400, "InvalidPartOrder")
}

// TestSigV4Region: a credential scope for another region than the
// bucket's or the server's is AuthorizationHeaderMalformed naming the
// region to sign for.
func TestSigV4Region(t *testing.T) {
	c := newRawNode(t)
	b := c.bucket(t)
	eu := randName("eu")
	c.do(t, http.MethodPut, "/"+eu, "", []byte("<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"), nil).want(t, "create eu bucket", 200, "")
	tests := []struct {
		signed, bucket string
		wantRegion     string // "" when accepted
	}{
		{"us-east-1", b, ""},
		{"eu-central-1", b, "us-east-1"},
		{"eu-central-1", "", "us-east-1"},
		{"eu-west-1", eu, ""},
		{"us-east-1", eu, ""},
		{"ap-south-1", eu, "eu-west-1"},
	}
	for _, tt := range tests {
		c.region = tt.signed
		r := c.do(t, http.MethodGet, "/"+tt.bucket, "", nil, nil)
		what := fmt.Sprintf("signed for %s on /%s", tt.signed, tt.bucket)
		if tt.wantRegion == "" {
			r.want(t, what, 200, "")
			continue
		}
		r.want(t, what, 400, "AuthorizationHeaderMalformed")
		if r.err.Region != tt.wantRegion {
			t.Errorf("%s: Region %q, want %q", what, r.err.Region, tt.wantRegion)
		}
	}
}

// TestPartNumberReads: GET/HEAD ?partNumber returns that part's bytes of a
// multipart object (decrypted), the whole of a single-part object as part
// 1, and InvalidPartNumber (416) for a part that does not exist.
func TestPartNumberReads(t *testing.T) {
	c := newRawNode(t)
	b := c.bucket(t)
	sse := http.Header{"X-Amz-Server-Side-Encryption": {"AES256"}}
	r := c.do(t, http.MethodPost, "/"+b+"/mp", "uploads", nil, sse)
	var init struct{ UploadId string }
	xml.Unmarshal(r.body, &init)
	part1 := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16)
	part2 := []byte("the tail part")
	var etags []string
	for i, p := range [][]byte{part1, part2} {
		r := c.do(t, http.MethodPut, "/"+b+"/mp", fmt.Sprintf("partNumber=%d&uploadId=%s", i+1, init.UploadId), p, nil)
		r.want(t, "upload part", 200, "")
		etags = append(etags, r.header.Get("ETag"))
	}
	doc := []byte(fmt.Sprintf(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part><Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>`, etags[0], etags[1]))
	c.do(t, http.MethodPost, "/"+b+"/mp", "uploadId="+init.UploadId, doc, nil).want(t, "complete", 200, "")
	whole := c.do(t, http.MethodHead, "/"+b+"/mp", "", nil, nil)
	size := len(part1) + len(part2)
	// As S3: the part count only answers a read of a part.
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, hdr := range []http.Header{nil, {"Range": {"bytes=0-3"}}} {
			r := c.do(t, method, "/"+b+"/mp", "", nil, hdr)
			if got := r.header.Get("X-Amz-Mp-Parts-Count"); got != "" {
				t.Errorf("%s without partNumber (%v): x-amz-mp-parts-count %q, want none", method, hdr, got)
			}
		}
	}

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r := c.do(t, method, "/"+b+"/mp", "partNumber=2", nil, nil)
		r.want(t, method+" part 2", 206, "")
		wantRange := fmt.Sprintf("bytes %d-%d/%d", len(part1), size-1, size)
		if got := r.header.Get("Content-Range"); got != wantRange {
			t.Errorf("%s part 2: Content-Range %q, want %q", method, got, wantRange)
		}
		if got := r.header.Get("Content-Length"); got != strconv.Itoa(len(part2)) && method == http.MethodHead {
			t.Errorf("HEAD part 2: Content-Length %s, want %d", got, len(part2))
		}
		if method == http.MethodGet && !bytes.Equal(r.body, part2) {
			t.Errorf("GET part 2: %q, want %q", r.body, part2)
		}
		if got := r.header.Get("X-Amz-Mp-Parts-Count"); got != "2" {
			t.Errorf("%s part 2: x-amz-mp-parts-count %q", method, got)
		}
		if got := r.header.Get("ETag"); got != whole.header.Get("ETag") {
			t.Errorf("%s part 2: ETag %s, want the object's %s", method, got, whole.header.Get("ETag"))
		}
		c.do(t, method, "/"+b+"/mp", "partNumber=3", nil, nil).want(t, method+" part 3 of 2", 416, map[string]string{http.MethodGet: "InvalidPartNumber"}[method])
	}
	r = c.do(t, http.MethodGet, "/"+b+"/mp", "partNumber=1", nil, nil)
	if r.status != 206 || !bytes.Equal(r.body, part1) {
		t.Errorf("GET part 1: %d, %d bytes", r.status, len(r.body))
	}

	c.do(t, http.MethodPut, "/"+b+"/single", "", []byte("single"), nil).want(t, "put single", 200, "")
	r = c.do(t, http.MethodGet, "/"+b+"/single", "partNumber=1", nil, nil)
	if r.status != 206 || string(r.body) != "single" || r.header.Get("Content-Range") != "bytes 0-5/6" {
		t.Errorf("GET part 1 of a single-part object: %d %q %q", r.status, r.body, r.header.Get("Content-Range"))
	}
	c.do(t, http.MethodGet, "/"+b+"/single", "partNumber=2", nil, nil).want(t, "part 2 of a single-part object", 416, "InvalidPartNumber")
	c.do(t, http.MethodGet, "/"+b+"/single", "partNumber=0", nil, nil).want(t, "part 0", 400, "InvalidArgument")
	c.do(t, http.MethodGet, "/"+b+"/single", "partNumber=1", nil, http.Header{"Range": {"bytes=0-1"}}).want(t, "part and range", 400, "InvalidRequest")
}

// TestUploadPartRepeatsUploadSSE: the upload's own encryption headers on
// UploadPart and Complete are accepted (SDKs and tools send them again);
// other encryption headers are InvalidArgument and store nothing.
func TestUploadPartRepeatsUploadSSE(t *testing.T) {
	c := newRawNode(t)
	b := c.bucket(t)
	for _, init := range []http.Header{
		{"X-Amz-Server-Side-Encryption": {"AES256"}},
		{"X-Amz-Server-Side-Encryption": {"aws:kms"}},
	} {
		mode := init.Get("X-Amz-Server-Side-Encryption")
		t.Run(mode, func(t *testing.T) {
			r := c.do(t, http.MethodPost, "/"+b+"/mp", "uploads", nil, init)
			var u struct{ UploadId string }
			xml.Unmarshal(r.body, &u)
			keyID := r.header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
			part := func(n int, hdr http.Header) reply {
				return c.do(t, http.MethodPut, "/"+b+"/mp", fmt.Sprintf("partNumber=%d&uploadId=%s", n, u.UploadId), []byte("part"), hdr)
			}
			r = part(1, init)
			r.want(t, "part with the upload's headers", 200, "")
			etag := r.header.Get("ETag")
			if got := r.header.Get("X-Amz-Server-Side-Encryption"); got != mode {
				t.Errorf("part response encryption %q", got)
			}
			other := "aws:kms"
			if mode == "aws:kms" {
				other = "AES256"
				part(3, http.Header{"X-Amz-Server-Side-Encryption": {"aws:kms"}, "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": {keyID}}).want(t, "part with the upload's key id", 200, "")
				part(4, http.Header{"X-Amz-Server-Side-Encryption": {"aws:kms"}, "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": {"another-key"}}).want(t, "part with another key id", 400, "InvalidArgument")
			}
			part(2, http.Header{"X-Amz-Server-Side-Encryption": {other}}).want(t, "part with another mode", 400, "InvalidArgument")
			r = c.do(t, http.MethodGet, "/"+b+"/mp", "uploadId="+u.UploadId, nil, nil)
			if bytes.Contains(r.body, []byte("<PartNumber>2</PartNumber>")) || bytes.Contains(r.body, []byte("<PartNumber>4</PartNumber>")) {
				t.Errorf("refused parts were stored: %s", r.body)
			}
			doc := []byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>` + etag + `</ETag></Part></CompleteMultipartUpload>`)
			c.do(t, http.MethodPost, "/"+b+"/mp", "uploadId="+u.UploadId, doc, http.Header{"X-Amz-Server-Side-Encryption": {other}}).want(t, "complete with another mode", 400, "InvalidArgument")
			c.do(t, http.MethodPost, "/"+b+"/mp", "uploadId="+u.UploadId, doc, init).want(t, "complete with the upload's headers", 200, "")
		})
	}
}
