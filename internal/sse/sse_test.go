package sse

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
)

func customerKey(t *testing.T) (key []byte, keyB64, md5B64 string) {
	t.Helper()
	key = make([]byte, 32)
	rand.Read(key)
	sum := md5.Sum(key)
	return key, base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(sum[:])
}

func TestCustomerSpec(t *testing.T) {
	_, k, m := customerKey(t)
	_, _, otherMD5 := customerKey(t)
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name, alg, key, md5 string
		want                *errs.Error
	}{
		{"valid", "AES256", k, m, nil},
		{"wrong algorithm", "AES128", k, m, errs.InvalidEncryptionAlgorithm},
		{"lower-case algorithm", "aes256", k, m, errs.InvalidEncryptionAlgorithm},
		{"md5 mismatch", "AES256", k, otherMD5, errs.InvalidArgument},
		{"missing md5", "AES256", k, "", errs.InvalidArgument},
		{"short key", "AES256", short, m, errs.InvalidArgument},
		{"not base64", "AES256", "!!!", m, errs.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := CustomerSpec(tt.alg, tt.key, tt.md5)
			if tt.want == nil {
				if err != nil || spec.Mode != Customer || spec.CustomerKeyMD5 != tt.md5 {
					t.Fatalf("CustomerSpec = %+v, %v", spec, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil && bytes.Contains([]byte(err.Error()), []byte(tt.key)) {
				t.Fatal("error message contains the key")
			}
		})
	}
}

func TestResolvePrecedence(t *testing.T) {
	kmsDefault := &Config{Mode: KMS, KeyID: "bucket-key", Algorithm: SM4, BucketKey: true}
	blockC := &Config{Mode: Managed, BlockedTypes: []string{"SSE-C"}}
	cust := &Spec{Mode: Customer, CustomerKey: make([]byte, 32)}
	tests := []struct {
		name    string
		req     *Spec
		def     *Config
		want    Mode
		wantAlg string
		wantKey string
		err     *errs.Error
	}{
		{"nothing", nil, nil, None, "", "", nil},
		{"default only", nil, kmsDefault, KMS, SM4, "bucket-key", nil},
		{"request overrides default", &Spec{Mode: Managed}, kmsDefault, Managed, AES256, "", nil},
		{"request KMS key overrides default key", &Spec{Mode: KMS, KeyID: "mine"}, kmsDefault, KMS, AES256, "mine", nil},
		{"SSE-C allowed by default", cust, kmsDefault, Customer, AES256, "", nil},
		{"SSE-C blocked", cust, blockC, None, "", "", errs.AccessDenied},
		{"managed default", nil, blockC, Managed, AES256, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(tt.req, tt.def)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == None {
				if got != nil {
					t.Fatalf("got %+v, want no encryption", got)
				}
				return
			}
			if got.Mode != tt.want || got.Algorithm != tt.wantAlg || got.KeyID != tt.wantKey {
				t.Fatalf("got %+v, want mode %s alg %s key %q", got, tt.want, tt.wantAlg, tt.wantKey)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		c   Config
		err *errs.Error
	}{
		{Config{Mode: Managed}, nil},
		{Config{Mode: KMS, KeyID: "k", Algorithm: SM4}, nil},
		{Config{Mode: Managed, KeyID: "k"}, errs.InvalidArgument},
		{Config{Mode: "DES"}, errs.InvalidEncryptionAlgorithm},
		{Config{Mode: KMS, Algorithm: "3DES"}, errs.InvalidEncryptionAlgorithm},
		{Config{Mode: Managed, BlockedTypes: []string{"SSE-KMS"}}, errs.InvalidArgument},
	}
	for _, tt := range tests {
		err := tt.c.Validate()
		if (tt.err == nil) != (err == nil) || (tt.err != nil && !errors.Is(err, tt.err)) {
			t.Errorf("%+v: err = %v, want %v", tt.c, err, tt.err)
		}
	}
}

func newSealer(t testing.TB) (*Sealer, *kms.Counting, *kms.Keyring) {
	t.Helper()
	root := make([]byte, 32)
	rand.Read(root)
	k, err := kms.OpenKeyring(filepath.Join(t.TempDir(), "keyring"), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	c := kms.NewCounting(k)
	return NewSealer(c), c, k
}

func TestObjectKeyRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _, k := newSealer(t)
	if _, err := k.CreateKey(ctx, "named"); err != nil {
		t.Fatal(err)
	}
	ck, kb64, km5 := customerKey(t)
	_, otherB64, otherMD5 := customerKey(t)
	cust, _ := CustomerSpec(AES256, kb64, km5)
	wrong, _ := CustomerSpec(AES256, otherB64, otherMD5)
	specs := []*Spec{
		{Mode: Managed, Algorithm: AES256},
		{Mode: KMS, Algorithm: SM4, KeyID: "named"},
		{Mode: KMS, Algorithm: AES256},
		{Mode: KMS, Algorithm: AES256, KeyID: "named", BucketKey: true},
		cust,
	}
	for _, spec := range specs {
		oek, enc, err := s.createKey(ctx, spec, "b", "k")
		if err != nil {
			t.Fatalf("%+v: %v", spec, err)
		}
		if bytes.Contains(enc.WrappedKey, oek) || bytes.Contains(enc.WrappedKey, ck) {
			t.Fatalf("%s: stored material contains a key in clear", spec.Mode)
		}
		got, err := s.readKey(ctx, enc, "b", "k", cust)
		if spec.Mode != Customer {
			got, err = s.readKey(ctx, enc, "b", "k", nil)
		}
		if err != nil || !bytes.Equal(got, oek) {
			t.Fatalf("%s: ObjectKey = %x, %v", spec.Mode, got, err)
		}
		// The wrapped key is bound to its object: another key's context
		// cannot open it.
		if spec.Mode != Customer {
			if _, err := s.readKey(ctx, enc, "b", "other", nil); err == nil {
				t.Fatalf("%s: object key opened under another object's context", spec.Mode)
			}
			continue
		}
		if _, err := s.readKey(ctx, enc, "b", "k", nil); !errors.Is(err, errs.InvalidRequest) {
			t.Fatalf("SSE-C without key: %v, want InvalidRequest", err)
		}
		if _, err := s.readKey(ctx, enc, "b", "k", wrong); !errors.Is(err, errs.AccessDenied) {
			t.Fatalf("SSE-C wrong key: %v, want AccessDenied", err)
		}
	}
}

func TestBucketKeyCache(t *testing.T) {
	ctx := context.Background()
	s, calls, k := newSealer(t)
	if _, err := k.CreateKey(ctx, "bk"); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return now }
	spec := &Spec{Mode: KMS, Algorithm: AES256, KeyID: "bk", BucketKey: true}
	put := func() ([]byte, *Encryption) {
		oek, enc, err := s.createKey(ctx, spec, "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		return oek, (*Encryption)(enc)
	}
	calls.Reset()
	oek1, enc1 := put()
	for range 50 {
		put()
	}
	if got := calls.Calls()[kms.OpGenerateDataKey]; got != 1 {
		t.Fatalf("51 PUTs under one bucket key: %d GenerateDataKey calls, want 1", got)
	}
	// Past the TTL a write takes a fresh bucket key, and a read asks the
	// KMS again: disabling the master key then takes effect.
	now = now.Add(s.bucketTTL + time.Second)
	put()
	if got := calls.Calls()[kms.OpGenerateDataKey]; got != 2 {
		t.Fatalf("after the TTL: %d GenerateDataKey calls, want 2", got)
	}
	if _, err := k.DisableKey(ctx, "bk"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(s.bucketTTL + time.Second)
	if _, err := s.readKey(ctx, enc1.meta(), "b", "k", nil); !errors.Is(err, errs.KMSDisabled) {
		t.Fatalf("read under a disabled key after the TTL: %v, want KMS.DisabledException", err)
	}
	if _, err := k.EnableKey(ctx, "bk"); err != nil {
		t.Fatal(err)
	}
	got, err := s.readKey(ctx, enc1.meta(), "b", "k", nil)
	if err != nil || !bytes.Equal(got, oek1) {
		t.Fatalf("read after re-enable: %v", err)
	}
}

// TestDisableKeyDropsBucketKeys: disabling a master key in the keyring
// refuses the next write and read under its cached bucket keys at once,
// not when the cache expires; re-enabling brings them back. A provider
// that cannot report key state changes keeps the TTL bound.
func TestDisableKeyDropsBucketKeys(t *testing.T) {
	ctx := context.Background()
	s, _, k := newSealer(t)
	if _, err := k.CreateKey(ctx, "bk"); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	s.now = func() time.Time { return now }
	for _, spec := range []*Spec{
		{Mode: KMS, Algorithm: AES256, KeyID: "bk", BucketKey: true},
		{Mode: Managed, Algorithm: AES256, BucketKey: true}, // the default key
	} {
		keyID := spec.KeyID
		if keyID == "" {
			keyID = kms.DefaultKeyName
		}
		oek, enc, err := s.createKey(ctx, spec, "b", "k")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.readKey(ctx, enc, "b", "k", nil); err != nil { // cached for reads too
			t.Fatal(err)
		}
		if _, err := k.DisableKey(ctx, keyID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.createKey(ctx, spec, "b", "k2"); !errors.Is(err, errs.KMSDisabled) {
			t.Fatalf("%s: write right after disabling: %v, want KMS.DisabledException", keyID, err)
		}
		if _, err := s.readKey(ctx, enc, "b", "k", nil); !errors.Is(err, errs.KMSDisabled) {
			t.Fatalf("%s: read right after disabling: %v, want KMS.DisabledException", keyID, err)
		}
		if _, err := k.EnableKey(ctx, keyID); err != nil {
			t.Fatal(err)
		}
		if got, err := s.readKey(ctx, enc, "b", "k", nil); err != nil || !bytes.Equal(got, oek) {
			t.Fatalf("%s: read after re-enabling: %v", keyID, err)
		}
	}

	// Without kms.StateSerial the cache cannot tell: the TTL bounds it.
	ext := NewSealer(providerOnly{k})
	ext.now = s.now
	spec := &Spec{Mode: KMS, Algorithm: AES256, KeyID: "bk", BucketKey: true}
	if _, _, err := ext.createKey(ctx, spec, "b", "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.DisableKey(ctx, "bk"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ext.createKey(ctx, spec, "b", "k"); err != nil {
		t.Fatalf("external provider, within the TTL: %v", err)
	}
	now = now.Add(ext.bucketTTL)
	if _, _, err := ext.createKey(ctx, spec, "b", "k"); !errors.Is(err, errs.KMSDisabled) {
		t.Fatalf("external provider, after the TTL: %v, want KMS.DisabledException", err)
	}
}

// providerOnly hides every method but kms.Provider's: a KMS that can't
// wrap key material it did not generate.
type providerOnly struct{ kms.Provider }

// TestWrapObjectKey: an existing object key wrapped for another mode or key
// unwraps to the same key under the new material; a KMS without Encrypt
// (directly, or behind the counting wrapper) reports ErrCannotWrap, except
// where no KMS call is needed (SSE-C, bucket keys).
func TestWrapObjectKey(t *testing.T) {
	ctx := context.Background()
	s, _, k := newSealer(t)
	if _, err := k.CreateKey(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	oek := make([]byte, ObjectKeySize)
	rand.Read(oek)
	cust := &Spec{Mode: Customer, Algorithm: AES256, CustomerKey: bytes.Repeat([]byte{7}, 32)}
	specs := []*Spec{
		{Mode: Managed, Algorithm: AES256},
		{Mode: KMS, Algorithm: AES256, KeyID: "other"},
		{Mode: KMS, Algorithm: SM4, BucketKey: true},
		cust,
	}
	for _, spec := range specs {
		enc, err := s.WrapObjectKey(ctx, spec, "b", "k", oek)
		if err != nil {
			t.Fatalf("%s: %v", spec.Mode, err)
		}
		var reader *Spec
		if spec.Mode == Customer {
			reader = cust
		}
		got, err := s.readKey(ctx, enc, "b", "k", reader)
		if err != nil || !bytes.Equal(got, oek) {
			t.Fatalf("%s: unwrapped %x, %v", spec.Mode, got, err)
		}
		if _, err := s.readKey(ctx, enc, "b", "other-key", reader); spec.Mode != Customer && err == nil {
			t.Fatalf("%s: the wrap is not bound to its object", spec.Mode)
		}
	}
	for name, p := range map[string]kms.Provider{"provider": providerOnly{k}, "counting": kms.NewCounting(providerOnly{k})} {
		weak := NewSealer(p)
		if _, err := weak.WrapObjectKey(ctx, specs[0], "b", "k", oek); !errors.Is(err, ErrCannotWrap) {
			t.Fatalf("%s without Encrypt: %v, want ErrCannotWrap", name, err)
		}
		for _, spec := range specs[2:] {
			if _, err := weak.WrapObjectKey(ctx, spec, "b", "k", oek); err != nil {
				t.Fatalf("%s, %s needs no Encrypt: %v", name, spec.Mode, err)
			}
		}
	}
}

// TestBucketKeyBindings: a bucket key is cached per bucket (an object of
// bucket b naming a's wrapped bucket key goes to the KMS, which refuses
// it); SSE-KMS under the default key records the key's id with bucket keys
// as without; and a wrapped key that does not unwrap (altered context) is
// an internal error, not a retryable "KMS unavailable".
func TestBucketKeyBindings(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newSealer(t)
	plainSpec := &Spec{Mode: KMS, Algorithm: AES256}
	_, plainEnc, err := s.createKey(ctx, plainSpec, "a", "k")
	if err != nil {
		t.Fatal(err)
	}
	bkSpec := &Spec{Mode: KMS, Algorithm: AES256, BucketKey: true}
	_, enc, err := s.createKey(ctx, bkSpec, "a", "k")
	if err != nil {
		t.Fatal(err)
	}
	if enc.KeyID == "" || enc.KeyID != plainEnc.KeyID {
		t.Fatalf("default key id with a bucket key %q, without %q", enc.KeyID, plainEnc.KeyID)
	}
	if _, err := s.readKey(ctx, enc, "a", "k", nil); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	_, err = s.readKey(ctx, enc, "b", "k", nil)
	if err == nil {
		t.Fatal("bucket a's bucket key unwrapped for bucket b")
	}
	if got := c.Calls()[kms.OpDecrypt]; got != 1 {
		t.Fatalf("%d KMS Decrypt calls for another bucket's bucket key, want 1 (not the cache)", got)
	}
	for name, e := range map[string]*meta.Encryption{"bucket key": enc, "KMS": plainEnc} {
		_, err := s.readKey(ctx, e, "b", "k", nil)
		if err == nil || errors.Is(err, errs.KMSUnavailable) || errs.As(err) != nil {
			t.Fatalf("%s: altered context gives %v, want an internal error", name, err)
		}
	}
}
