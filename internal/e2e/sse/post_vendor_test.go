package e2esse

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/huaweicloud/huaweicloud-sdk-go-obs/obs"
)

// Browser form uploads in the vendors' dialects: each vendor's form
// fields and signature (OSS V1 and V4, COS q-sign, OBS through its SDK's
// CreateBrowserBasedSignature), each vendor's encryption fields, read
// back through S3 on the main listener.

// vendorPolicy is a policy document (base64 and JSON) expiring in an hour.
func vendorPolicy(conds ...any) (b64 string, doc []byte) {
	conds = append(conds, []any{"starts-with", "$key", ""})
	doc, err := json.Marshal(map[string]any{"expiration": time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"), "conditions": conds})
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(doc), doc
}

func (e *env) headSSE(t *testing.T, bucket, key string) (string, string) {
	t.Helper()
	h := must(e.c.HeadObject(e.ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}))(t)
	return string(h.ServerSideEncryption), aws.ToString(h.SSEKMSKeyId)
}

func TestPostObjectVendors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{dialects: []string{"oss", "cos", "obs"}})
	e.kmsKey("key-1")
	bucket := e.bucket("post-vendors")
	ak, sk := e.node.AccessKey, e.node.SecretKey
	hmacSHA1 := func(key, msg string) []byte {
		m := hmac.New(sha1.New, []byte(key))
		m.Write([]byte(msg))
		return m.Sum(nil)
	}

	t.Run("oss v1, SSE-KMS, 201", func(t *testing.T) {
		policy, _ := vendorPolicy(map[string]string{"bucket": bucket})
		fields := []field{
			{"key", "oss/v1-${filename}"}, {"success_action_status", "201"}, {"x-oss-meta-origin", "form"},
			{"x-oss-server-side-encryption", "KMS"}, {"x-oss-server-side-encryption-key-id", "key-1"},
			{"OSSAccessKeyId", ak}, {"policy", policy}, {"Signature", base64.StdEncoding.EncodeToString(hmacSHA1(sk, policy))},
		}
		resp, body := post(t, e.node.Client, e.node.DialectURL["oss"], bucket, fields, "a.txt", strings.NewReader("oss v1"))
		var pr struct{ Bucket, Key, ETag string }
		if err := xml.Unmarshal(body, &pr); err != nil || resp.StatusCode != http.StatusCreated || pr.Key != "oss/v1-a.txt" || pr.Bucket != bucket {
			t.Fatalf("POST: %d %s (%v)", resp.StatusCode, body, err)
		}
		if got := resp.Header.Get("x-oss-server-side-encryption"); got != "KMS" || resp.Header.Get("x-oss-server-side-encryption-key-id") != "key-1" {
			t.Errorf("response SSE %q key %q", got, resp.Header.Get("x-oss-server-side-encryption-key-id"))
		}
		if mode, key := e.headSSE(t, bucket, "oss/v1-a.txt"); mode != "aws:kms" || key != "key-1" {
			t.Errorf("stored as %q %q, want aws:kms key-1", mode, key)
		}
	})

	t.Run("oss v4, SSE-OSS", func(t *testing.T) {
		now := time.Now().UTC()
		cred := ak + "/" + now.Format("20060102") + "/cn-hangzhou/oss/aliyun_v4_request"
		policy, _ := vendorPolicy(map[string]string{"x-oss-signature-version": "OSS4-HMAC-SHA256"},
			map[string]string{"x-oss-credential": cred}, map[string]string{"x-oss-date": now.Format("20060102T150405Z")})
		k := hmacSum([]byte("aliyun_v4"+sk), now.Format("20060102"))
		for _, s := range []string{"cn-hangzhou", "oss", "aliyun_v4_request"} {
			k = hmacSum(k, s)
		}
		fields := []field{
			{"key", "oss/v4"}, {"x-oss-server-side-encryption", "AES256"},
			{"x-oss-signature-version", "OSS4-HMAC-SHA256"}, {"x-oss-credential", cred}, {"x-oss-date", now.Format("20060102T150405Z")},
			{"policy", policy}, {"x-oss-signature", hex.EncodeToString(hmacSum(k, policy))},
		}
		resp, body := post(t, e.node.Client, e.node.DialectURL["oss"], bucket, fields, "b", strings.NewReader("oss v4"))
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("x-oss-server-side-encryption") != "AES256" {
			t.Fatalf("POST: %d %v %s", resp.StatusCode, resp.Header, body)
		}
		if mode, _ := e.headSSE(t, bucket, "oss/v4"); mode != "AES256" {
			t.Errorf("stored as %q, want AES256", mode)
		}
		// A wrong signature, in OSS's error format.
		fields[len(fields)-1].value = strings.Repeat("0", 64)
		resp, body = post(t, e.node.Client, e.node.DialectURL["oss"], bucket, fields, "b", strings.NewReader("x"))
		wantRawError(t, "oss v4 wrong signature", resp, body, http.StatusForbidden, "SignatureDoesNotMatch")
		if resp.Header.Get("x-oss-request-id") == "" {
			t.Error("oss error without x-oss-request-id")
		}
	})

	t.Run("oss v1 on the main listener answers in OSS's dialect", func(t *testing.T) {
		policy, _ := vendorPolicy(map[string]string{"bucket": "other-bucket"})
		fields := []field{{"key", "oss/main"}, {"OSSAccessKeyId", ak}, {"policy", policy}, {"Signature", base64.StdEncoding.EncodeToString(hmacSHA1(sk, policy))}}
		resp, body := post(t, e.node.Client, e.node.URL, bucket, fields, "c", strings.NewReader("x"))
		wantRawError(t, "oss form for another bucket", resp, body, http.StatusForbidden, "AccessDenied")
		if resp.Header.Get("x-oss-request-id") == "" {
			t.Errorf("not answered in OSS's dialect: %v", resp.Header)
		}
	})

	t.Run("cos, SSE-COS", func(t *testing.T) {
		keyTime := fmt.Sprintf("%d;%d", time.Now().Add(-time.Minute).Unix(), time.Now().Add(time.Hour).Unix())
		policy, doc := vendorPolicy(map[string]string{"q-sign-algorithm": "sha1"}, map[string]string{"q-ak": ak}, map[string]string{"q-sign-time": keyTime})
		sum := sha1.Sum(doc)
		signKey := hex.EncodeToString(hmacSHA1(sk, keyTime))
		fields := []field{
			{"key", "cos/form"}, {"x-cos-server-side-encryption", "AES256"}, {"x-cos-meta-origin", "form"},
			{"policy", policy}, {"q-sign-algorithm", "sha1"}, {"q-ak", ak}, {"q-key-time", keyTime},
			{"q-signature", hex.EncodeToString(hmacSHA1(signKey, hex.EncodeToString(sum[:])))},
		}
		resp, body := post(t, e.node.Client, e.node.DialectURL["cos"], bucket, fields, "d", strings.NewReader("cos"))
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("x-cos-server-side-encryption") != "AES256" {
			t.Fatalf("POST: %d %v %s", resp.StatusCode, resp.Header, body)
		}
		if mode, _ := e.headSSE(t, bucket, "cos/form"); mode != "AES256" {
			t.Errorf("stored as %q, want AES256", mode)
		}
	})

	t.Run("obs sdk CreateBrowserBasedSignature, SSE-KMS", func(t *testing.T) {
		c, err := obs.New(ak, sk, e.node.DialectURL["obs"], obs.WithSignature(obs.SignatureObs))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		params := map[string]string{"x-obs-server-side-encryption": "kms", "x-obs-server-side-encryption-kms-key-id": "key-1", "x-obs-meta-origin": "form"}
		out, err := c.CreateBrowserBasedSignature(&obs.CreateBrowserBasedSignatureInput{Bucket: bucket, Key: "obs/form", Expires: 600, FormParams: params})
		if err != nil {
			t.Fatal(err)
		}
		fields := []field{{"key", "obs/form"}}
		for k, v := range params {
			fields = append(fields, field{k, v})
		}
		fields = append(fields, field{"policy", out.Policy}, field{"AccessKeyId", ak}, field{"signature", out.Signature})
		resp, body := post(t, e.node.Client, e.node.DialectURL["obs"], bucket, fields, "e", strings.NewReader("obs"))
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("x-obs-server-side-encryption") != "kms" {
			t.Fatalf("POST: %d %v %s", resp.StatusCode, resp.Header, body)
		}
		if mode, key := e.headSSE(t, bucket, "obs/form"); mode != "aws:kms" || key != "key-1" {
			t.Errorf("stored as %q %q, want aws:kms key-1", mode, key)
		}
		// OBS follows S3: a field the policy does not name is refused.
		fields = append(fields[:1], append([]field{{"x-obs-meta-extra", "1"}}, fields[1:]...)...)
		resp, body = post(t, e.node.Client, e.node.DialectURL["obs"], bucket, fields, "e", strings.NewReader("obs"))
		wantRawError(t, "obs extra field", resp, body, http.StatusForbidden, "AccessDenied")
	})
}

func hmacSum(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
