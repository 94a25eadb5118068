package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"time"

	"strongroom/internal/errs"
)

// Browser form uploads (S3 POST Object and the vendors' PostObject) carry
// their credentials as form fields: a base64 policy document and a
// signature over it. The signature proves only that the key's holder
// issued the policy; the policy (package postpolicy) says what the form
// may contain. Nothing else of the request is signed.

// Form upload schemes.
const (
	SchemeSigV4Post Scheme = "sigv4-post"
	SchemeSigV2Post Scheme = "sigv2-post"
)

// missingField is S3's refusal of a form that lacks a field (name in S3's
// spelling), or carries it after the file where it is not read.
func missingField(name string) error {
	return errs.InvalidArgument.WithMessage("Bucket POST must contain a field named '" + name + "'.  If it is specified, please check the order of the fields.")
}

// PostExempt reports whether a form field (lowercase name) of dialect
// needs no policy condition: the policy itself, the signature fields that
// cannot sign themselves, the file, and x-ignore-* fields (S3's rule).
// The credential fields of SigV4-style schemes are not exempt.
func PostExempt(dialect, name string) bool {
	switch name {
	case "policy", "file", "x-amz-signature", "signature", "awsaccesskeyid":
		return true
	}
	return len(name) >= 9 && name[:9] == "x-ignore-"
}

// VerifyPost authenticates a form upload by the signature over its policy
// field. fields are the fields before the file, by lowercase name. A form
// with no signature fields is anonymous (Scheme anonymous, no error): the
// caller decides whether it may then write. dialect is the request's
// dialect name; S3's schemes are accepted in every dialect. request is
// the outcome of Verify on the request itself: a form may not be signed
// when the request already is.
func (v *Verifier) VerifyPost(ctx context.Context, dialect string, fields map[string]string, request *Result) (*Result, error) {
	has := func(k string) bool { _, ok := fields[k]; return ok }
	v4 := has("x-amz-signature") || has("x-amz-credential") || has("x-amz-algorithm")
	v2 := has("signature") || has("awsaccesskeyid")
	switch {
	case v4 && v2, (v4 || v2) && request != nil && request.AccessKeyID != "":
		return nil, errMultipleAuth
	case v4:
		return v.verifyPostV4(ctx, fields)
	case v2:
		return v.verifyPostV2(ctx, fields)
	}
	return &Result{Scheme: SchemeAnonymous}, nil
}

// requireFields checks that each named field (S3 spelling) is present and
// not empty.
func requireFields(fields map[string]string, names ...string) error {
	for _, n := range names {
		if fields[lower(n)] == "" {
			return missingField(n)
		}
	}
	return nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// verifyPostV4: signature = hex(HMAC-SHA256(signing key of the credential
// scope, base64 policy)).
func (v *Verifier) verifyPostV4(ctx context.Context, f map[string]string) (*Result, error) {
	if err := requireFields(f, "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Signature", "Policy"); err != nil {
		return nil, err
	}
	if f["x-amz-algorithm"] != v4Algorithm {
		return nil, errs.AuthorizationQueryMalformed.WithMessage("X-Amz-Algorithm only supports \"" + v4Algorithm + "\"")
	}
	scope, ok := parseCredential(f["x-amz-credential"])
	if !ok {
		return nil, errs.AuthorizationQueryMalformed.WithMessage("Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	date := f["x-amz-date"]
	if _, err := time.Parse(iso8601Basic, date); err != nil || date[:8] != scope.date {
		return nil, errs.AuthorizationQueryMalformed.WithMessage("Invalid date format of X-Amz-Date or it does not match the credential date.")
	}
	var sig [32]byte
	if !decodeSig(&sig, f["x-amz-signature"]) {
		return nil, detail(errs.SignatureDoesNotMatch, "form x-amz-signature is not 64 hex digits")
	}
	secret, err := v.secret(ctx, scope.accessKey)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(hmacSHA256(signingKey(secret, scope), f["policy"]), sig[:]) {
		return nil, detail(errs.SignatureDoesNotMatch, "access key %s (form, sigv4)", scope.accessKey)
	}
	return &Result{AccessKeyID: scope.accessKey, Scheme: SchemeSigV4Post, Region: scope.region}, nil
}

// verifyPostV2: signature = base64(HMAC-SHA1(secret, base64 policy)).
func (v *Verifier) verifyPostV2(ctx context.Context, f map[string]string) (*Result, error) {
	if err := requireFields(f, "AWSAccessKeyId", "Signature", "Policy"); err != nil {
		return nil, err
	}
	ak := f["awsaccesskeyid"]
	if err := v.checkHMACSHA1(ctx, ak, f["policy"], f["signature"], "sigv2"); err != nil {
		return nil, err
	}
	return &Result{AccessKeyID: ak, Scheme: SchemeSigV2Post}, nil
}

// checkHMACSHA1 checks that sigB64 is base64(HMAC-SHA1(secret of ak, msg)),
// comparing in constant time.
func (v *Verifier) checkHMACSHA1(ctx context.Context, ak, msg, sigB64, scheme string) error {
	secret, err := v.secret(ctx, ak)
	if err != nil {
		return err
	}
	got, err := base64.StdEncoding.DecodeString(sigB64)
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(msg))
	if err != nil || !hmac.Equal(m.Sum(nil), got) {
		return detail(errs.SignatureDoesNotMatch, "access key %s (form, %s)", ak, scheme)
	}
	return nil
}
