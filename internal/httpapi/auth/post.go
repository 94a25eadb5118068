package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
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
	SchemeOSSV1Post Scheme = "oss-v1-post"
	SchemeOSSV4Post Scheme = "oss-v4-post"
	SchemeCOSPost   Scheme = "cos-post"
	SchemeOBSPost   Scheme = "obs-post"
)

// missingField is S3's refusal of a form that lacks a field (name in S3's
// spelling), or carries it after the file where it is not read.
func missingField(name string) error {
	return errs.InvalidArgument.WithMessage("Bucket POST must contain a field named '" + name + "'.  If it is specified, please check the order of the fields.")
}

// postSignatureFields are the fields no policy can cover: the policy, the
// file, and each scheme's signature and (V2-style) access key.
var postSignatureFields = map[string]bool{
	"policy": true, "file": true, "x-amz-signature": true, "signature": true, "awsaccesskeyid": true,
	"ossaccesskeyid": true, "x-oss-signature": true, "q-signature": true, "accesskeyid": true,
}

// PostExempt reports whether a form field (lowercase name) needs no policy
// condition. S3 (and OBS, which follows it) requires one for every field
// but the signature fields and x-ignore-*; OSS and COS do not check for
// fields outside the policy. scheme is the form's (VerifyPost's Result),
// dialect the request's, which decides for an unsigned form.
func PostExempt(scheme Scheme, dialect, name string) bool {
	switch scheme {
	case SchemeOSSV1Post, SchemeOSSV4Post, SchemeCOSPost:
		return true
	case SchemeAnonymous:
		if dialect == "oss" || dialect == "cos" {
			return true
		}
	}
	return postSignatureFields[name] || strings.HasPrefix(name, "x-ignore-")
}

// PostDialect is the dialect whose clients sign forms with scheme ("" for
// S3's schemes, which every dialect accepts).
func PostDialect(scheme Scheme) string {
	switch scheme {
	case SchemeOSSV1Post, SchemeOSSV4Post:
		return "oss"
	case SchemeCOSPost:
		return "cos"
	case SchemeOBSPost:
		return "obs"
	}
	return ""
}

// PostPolicyFields adds to a form's fields (as the policy sees them) the
// names a scheme's policies use for fields the form sends under another
// name: COS policies constrain q-sign-time, which the form sends as
// q-key-time.
func PostPolicyFields(scheme Scheme, fields map[string]string) {
	if _, ok := fields["q-sign-time"]; !ok && scheme == SchemeCOSPost {
		fields["q-sign-time"] = fields["q-key-time"]
	}
}

// VerifyPost authenticates a form upload by the signature over its policy
// field. fields are the fields before the file, by lowercase name. A form
// with no signature fields is anonymous (Scheme anonymous, no error): the
// caller decides whether it may then write. Every dialect's scheme is
// accepted, as for header signatures. request is the outcome of Verify on
// the request itself: a form may not be signed when the request already
// is.
func (v *Verifier) VerifyPost(ctx context.Context, fields map[string]string, request *Result) (*Result, error) {
	has := func(ks ...string) bool {
		for _, k := range ks {
			if _, ok := fields[k]; ok {
				return true
			}
		}
		return false
	}
	schemes := map[Scheme]bool{
		SchemeSigV4Post: has("x-amz-signature", "x-amz-credential", "x-amz-algorithm"),
		SchemeOSSV4Post: has("x-oss-signature", "x-oss-credential", "x-oss-signature-version"),
		SchemeOSSV1Post: has("ossaccesskeyid"),
		SchemeCOSPost:   has("q-signature", "q-ak", "q-sign-algorithm"),
		SchemeOBSPost:   has("accesskeyid"),
	}
	schemes[SchemeSigV2Post] = has("awsaccesskeyid") || has("signature") && !schemes[SchemeOSSV1Post] && !schemes[SchemeOBSPost]
	var scheme Scheme
	for s, ok := range schemes {
		if ok {
			if scheme != "" {
				return nil, errMultipleAuth
			}
			scheme = s
		}
	}
	if scheme == "" {
		return &Result{Scheme: SchemeAnonymous}, nil
	}
	if request != nil && request.AccessKeyID != "" {
		return nil, errMultipleAuth
	}
	switch scheme {
	case SchemeSigV4Post:
		return v.verifyPostV4(ctx, fields)
	case SchemeOSSV4Post:
		return v.verifyPostOSSV4(ctx, fields)
	case SchemeCOSPost:
		return v.verifyPostCOS(ctx, fields)
	}
	// The V2-style schemes: base64(HMAC-SHA1(secret, base64 policy)).
	akField := map[Scheme]string{SchemeSigV2Post: "AWSAccessKeyId", SchemeOSSV1Post: "OSSAccessKeyId", SchemeOBSPost: "AccessKeyId"}[scheme]
	if err := requireFields(fields, akField, "Signature", "Policy"); err != nil {
		return nil, err
	}
	ak := fields[strings.ToLower(akField)]
	if err := v.checkHMACSHA1(ctx, ak, fields["policy"], fields["signature"], string(scheme)); err != nil {
		return nil, err
	}
	return &Result{AccessKeyID: ak, Scheme: scheme}, nil
}

// requireFields checks that each named field (S3 spelling) is present and
// not empty.
func requireFields(fields map[string]string, names ...string) error {
	for _, n := range names {
		if fields[strings.ToLower(n)] == "" {
			return missingField(n)
		}
	}
	return nil
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

// verifyPostOSSV4: x-oss-signature = hex(HMAC-SHA256(signing key of the
// x-oss-credential scope, base64 policy)).
func (v *Verifier) verifyPostOSSV4(ctx context.Context, f map[string]string) (*Result, error) {
	if err := requireFields(f, "x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-signature", "Policy"); err != nil {
		return nil, err
	}
	if f["x-oss-signature-version"] != ossV4Algorithm {
		return nil, errs.InvalidArgument.WithMessage("x-oss-signature-version must be " + ossV4Algorithm + ".")
	}
	var req ossV4Request
	if !parseOSSCredential(f["x-oss-credential"], &req) {
		return nil, errs.InvalidArgument.WithMessage("Invalid x-oss-credential.")
	}
	date := f["x-oss-date"]
	if _, err := time.Parse(iso8601Basic, date); err != nil || date[:8] != req.date {
		return nil, errs.InvalidArgument.WithMessage("Invalid x-oss-date or it does not match the credential date.")
	}
	var sig [32]byte
	if !decodeSig(&sig, f["x-oss-signature"]) {
		return nil, detail(errs.SignatureDoesNotMatch, "form x-oss-signature is not 64 hex digits")
	}
	secret, err := v.secret(ctx, req.accessKey)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(hmacSHA256(ossV4Key(secret, &req), f["policy"]), sig[:]) {
		return nil, detail(errs.SignatureDoesNotMatch, "access key %s (form, oss v4)", req.accessKey)
	}
	return &Result{AccessKeyID: req.accessKey, Scheme: SchemeOSSV4Post, Region: req.region}, nil
}

// verifyPostCOS: q-signature = hex(HMAC-SHA1(SignKey, hex(SHA1(policy
// JSON)))) with SignKey = hex(HMAC-SHA1(secret, q-key-time)); the key time
// must not have ended.
func (v *Verifier) verifyPostCOS(ctx context.Context, f map[string]string) (*Result, error) {
	if err := requireFields(f, "q-sign-algorithm", "q-ak", "q-key-time", "q-signature", "Policy"); err != nil {
		return nil, err
	}
	if f["q-sign-algorithm"] != cosAlgorithm {
		return nil, errs.InvalidArgument.WithMessage("q-sign-algorithm must be sha1.")
	}
	_, end, ok := cosTimeRange(f["q-key-time"])
	if !ok {
		return nil, errs.InvalidArgument.WithMessage("Invalid q-key-time.")
	}
	if v.now().Unix() > end {
		return nil, detail(errs.ExpiredToken, "q-key-time ended at %d", end)
	}
	doc, err := base64.StdEncoding.DecodeString(f["policy"])
	if err != nil {
		return nil, detail(errs.SignatureDoesNotMatch, "form policy is not base64")
	}
	secret, err := v.secret(ctx, f["q-ak"])
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(doc)
	want := hmacSHA1Hex(hmacSHA1Hex(secret, f["q-key-time"]), hex.EncodeToString(sum[:]))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(f["q-signature"]))) {
		return nil, detail(errs.SignatureDoesNotMatch, "access key %s (form, cos)", f["q-ak"])
	}
	return &Result{AccessKeyID: f["q-ak"], Scheme: SchemeCOSPost}, nil
}
