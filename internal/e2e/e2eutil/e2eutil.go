// Package e2eutil holds what every end-to-end test package needs: a clean
// environment for the cloud SDKs and a goroutine-safe log sink.
package e2eutil

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Main runs a test binary after clearing the environment the cloud SDKs
// read: this machine sets AWS_CA_BUNDLE (which breaks aws-sdk-go-v2's
// config loading with a custom HTTP client), and AWS_*, OSS_*,
// ALIBABA_CLOUD_* or proxy variables would send the SDKs elsewhere.
// t.Setenv cannot do this for parallel tests; unsetting once, first, can.
//
//	func TestMain(m *testing.M) { e2eutil.Main(m) }
func Main(m *testing.M) {
	CleanEnv()
	os.Exit(m.Run())
}

// CleanEnv clears the environment as Main does, for a TestMain that has
// more to set up (and tear down) around m.Run.
func CleanEnv() {
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		for _, p := range []string{"AWS_", "OSS_", "ALIBABA_CLOUD_"} {
			if strings.HasPrefix(k, p) {
				os.Unsetenv(k)
			}
		}
		if strings.EqualFold(k, "HTTP_PROXY") || strings.EqualFold(k, "HTTPS_PROXY") {
			os.Unsetenv(k)
		}
	}
}

// LogBuffer is a goroutine-safe sink for a node's logs.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Bytes returns a copy of what was logged so far.
func (l *LogBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// String returns what was logged so far.
func (l *LogBuffer) String() string { return string(l.Bytes()) }

// FormField is one field of a browser upload form.
type FormField struct{ Name, Value string }

// SignPostV4 signs a browser upload policy as the S3 documentation's
// SigV4 POST example does: the policy (expiration exp, conds plus eq
// conditions on the x-amz-algorithm, -credential and -date fields it
// returns) base64-encoded, and X-Amz-Signature = hex(HMAC-SHA256(signing
// key of the credential scope, policy)). It returns those fields, Policy
// and X-Amz-Signature, to append to a form's own fields.
func SignPostV4(ak, sk, region string, now, exp time.Time, conds []any) []FormField {
	now = now.UTC()
	amz := []FormField{
		{"x-amz-algorithm", "AWS4-HMAC-SHA256"},
		{"x-amz-credential", ak + "/" + now.Format("20060102") + "/" + region + "/s3/aws4_request"},
		{"x-amz-date", now.Format("20060102T150405Z")},
	}
	conds = append([]any(nil), conds...)
	for _, f := range amz {
		conds = append(conds, map[string]string{f.Name: f.Value})
	}
	doc, err := json.Marshal(map[string]any{"expiration": exp.UTC().Format("2006-01-02T15:04:05.000Z"), "conditions": conds})
	if err != nil {
		panic(err)
	}
	policy := base64.StdEncoding.EncodeToString(doc)
	k := hmacSHA256([]byte("AWS4"+sk), now.Format("20060102"))
	for _, s := range []string{region, "s3", "aws4_request"} {
		k = hmacSHA256(k, s)
	}
	return append(amz, FormField{"Policy", policy}, FormField{"X-Amz-Signature", hex.EncodeToString(hmacSHA256(k, policy))})
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
