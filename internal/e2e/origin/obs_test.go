package e2eorigin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

func wantOBSErr(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var oe obs.ObsError
	if !errors.As(err, &oe) {
		t.Fatalf("%s: %v, want OBS error %d %s", what, err, status, code)
	}
	if oe.StatusCode != status || (code != "" && oe.Code != code) {
		t.Fatalf("%s: %d %s (%s), want %d %s", what, oe.StatusCode, oe.Code, oe.Message, status, code)
	}
}

func TestOBSMirrorBackToSource(t *testing.T) {
	n := startNode(t)
	org := newOrigin(t)
	c, err := obs.New(n.AccessKey, n.SecretKey, n.DialectURL["obs"], obs.WithSignature(obs.SignatureV2), obs.WithMaxRetryCount(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	bucket := fmt.Sprintf("origin-obs-%d", uniq.Add(1))
	if _, err := c.CreateBucket(&obs.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetBucketEncryption(&obs.SetBucketEncryptionInput{Bucket: bucket,
		BucketEncryptionConfiguration: obs.BucketEncryptionConfiguration{SSEAlgorithm: "AES256"}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketMirrorBackToSource(bucket)
	wantOBSErr(t, "get before set", err, 404, "")

	rules := `{"rules":[{"id":"r1","condition":{"httpErrorCodeReturnedEquals":404,"objectKeyPrefixEquals":"video/"},` +
		`"redirect":{"agency":"agency","publicSource":{"sourceEndpoint":{"master":["http://` + org.host() + `"],"slave":["http://standby.example"]}},` +
		`"retryConditions":["5XX"],"passQueryString":true,"mirrorFollowRedirect":true,` +
		`"mirrorHttpHeader":{"passAll":false,"pass":["x-pass"],"remove":[],"set":[{"key":"x-origin-set","value":"v3"}]},"replaceKeyPrefixWith":"src/"}}]}`
	out, err := c.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: bucket, Rules: rules})
	if err != nil || out.StatusCode != http.StatusCreated {
		t.Fatalf("set: %v %+v", err, out)
	}
	out, err = c.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: bucket, Rules: rules})
	if err != nil || out.StatusCode != http.StatusOK {
		t.Fatalf("set again (idempotent): %v %+v", err, out)
	}
	// The SDK's GetBucketMirrorBackToSource answers 200 but never fills
	// Rules (it looks for a type name with a typo); the document is read
	// through a URL the SDK signs.
	if _, err := c.GetBucketMirrorBackToSource(bucket); err != nil {
		t.Fatalf("get: %v", err)
	}
	su, err := c.CreateSignedUrl(&obs.CreateSignedUrlInput{Method: obs.HttpMethodGet, Bucket: bucket, SubResource: obs.SubResourceMirrorBackToSource, Expires: 300})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(su.SignedUrl)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" ||
		!strings.Contains(string(doc), `"agency":"agency"`) || !strings.Contains(string(doc), `"master":["http://`+org.host()+`"]`) {
		t.Fatalf("get document: %d %s", resp.StatusCode, doc)
	}
	_, err = c.SetBucketMirrorBackToSource(&obs.SetBucketMirrorBackToSourceInput{Bucket: bucket, Rules: `{"rules":[{"id":"x","condition":{"httpErrorCodeReturnedEquals":403},"redirect":{"publicSource":{"sourceEndpoint":{"master":["http://a"]}}}}]}`})
	wantOBSErr(t, "403 condition", err, 400, "InvalidArgument")

	data := canary(90 << 10)
	org.set("/src/clip.mp4", originObject{body: data, contentType: "video/mp4"})
	got, err := c.GetObject(&obs.GetObjectInput{GetObjectMetadataInput: obs.GetObjectMetadataInput{Bucket: bucket, Key: "video/clip.mp4"}})
	if err != nil {
		t.Fatalf("GET of a miss: %v", err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(body, data) || got.ContentType != "video/mp4" {
		t.Fatalf("GET of a miss: %d bytes, %q", len(body), got.ContentType)
	}
	if sh, ok := got.SseHeader.(obs.SseKmsHeader); !ok || sh.Encryption != "AES256" {
		t.Errorf("GET of a miss: SSE header %#v, want AES256 (the bucket default)", got.SseHeader)
	}
	if o := stored(t, n, bucket, "video/clip.mp4"); o == nil || o.Encryption == nil || o.Encryption.Algorithm != "AES256" {
		t.Fatalf("stored record: %+v", o)
	}
	if h := org.hitsOf("/src/clip.mp4"); h != 1 {
		t.Errorf("origin hits %d", h)
	}

	if _, err := c.DeleteBucketMirrorBackToSource(bucket); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketMirrorBackToSource(bucket)
	wantOBSErr(t, "get after delete", err, 404, "")
}
