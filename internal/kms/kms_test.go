package kms

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

func TestParseKeyID(t *testing.T) {
	long := strings.Repeat("k", MaxKeyNameLen)
	tests := []struct {
		in   string
		want string // "" = invalid
	}{
		{"mykey", "mykey"},
		{"alias/mykey", "mykey"},
		{"arn:aws:kms:us-east-1:123456789012:key/mykey", "mykey"},
		{"arn:aws:kms:us-east-1:123456789012:alias/mykey", "mykey"},
		{"arn:aws-cn:kms:cn-north-1:123:alias/team/app-1", "team/app-1"},
		{"arn:aws:kms:::key/x", "x"},
		{"team/app_1-2:v.3", "team/app_1-2:v.3"},
		{"key/x", "key/x"}, // a plain name, not an ARN resource
		{long, long},
		{"alias/" + long, long},
		{"", ""},
		{"alias/", ""},
		{long + "k", ""},
		{"bad name", ""},
		{"bad!", ""},
		{"naïve", ""},
		{"a\x00b", ""},
		{"alias/alias/x", ""},
		{"alias/arn:x", ""},
		{"arn:aws:kms:r:a:key/", ""},
		{"arn:aws:kms:r:a:key/alias/x", ""},
		{"arn:aws:kms:r:a:secret/x", ""},
		{"arn:aws:s3:r:a:key/x", ""},
		{"arn::kms:r:a:key/x", ""},
		{"arn:aws:kms:r:key/x", ""},
		{"arn:aws:kms", ""},
	}
	for _, tc := range tests {
		got, err := ParseKeyID(tc.in)
		if tc.want == "" {
			if err == nil || !errors.Is(err, ErrInvalidKeyID) {
				t.Errorf("ParseKeyID(%q) = %q, %v; want ErrInvalidKeyID", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseKeyID(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestEncodeContext(t *testing.T) {
	distinct := []map[string]string{
		nil,
		{"a": "bc"},
		{"ab": "c"},
		{"a": "b", "c": ""},
		{"a": "b"},
		{"a": "", "b": "c"},
		{"": ""},
		{"": "a"},
		{"a": ""},
		{"bucket": "b", "key": "k"},
		{"bucket": "b", "key": "k2"},
		{"bucket": "b/k", "key": ""},
	}
	seen := map[string]int{}
	for i, m := range distinct {
		enc := string(EncodeContext(m))
		if j, ok := seen[enc]; ok {
			t.Errorf("contexts %d %v and %d %v encode the same", j, distinct[j], i, m)
		}
		seen[enc] = i
	}
	if !bytes.Equal(EncodeContext(nil), EncodeContext(map[string]string{})) {
		t.Error("nil and empty context differ")
	}
	// Map order must not matter; build the same map many times.
	want := EncodeContext(map[string]string{"z": "1", "a": "2", "m": "3", "b": "4"})
	for range 50 {
		m := map[string]string{}
		for _, kv := range [][2]string{{"b", "4"}, {"m", "3"}, {"z", "1"}, {"a", "2"}} {
			m[kv[0]] = kv[1]
		}
		if !bytes.Equal(EncodeContext(m), want) {
			t.Fatal("encoding depends on map order")
		}
	}
	if got := EncodeContext(map[string]string{"a": "bc"}); !bytes.Equal(got,
		[]byte{0, 0, 0, 1, 0, 0, 0, 1, 'a', 0, 0, 0, 2, 'b', 'c'}) {
		t.Errorf("encoding of {a:bc} = %x", got)
	}
}

func TestErrorIdentities(t *testing.T) {
	for _, tc := range []struct {
		err, canon error
	}{
		{notFound("x"), errs.KMSNotFound},
		{invalidID("x y"), errs.KMSNotFound},
		{disabled("x"), errs.KMSDisabled},
		{errClosed(), errs.KMSUnavailable},
	} {
		if !errors.Is(tc.err, tc.canon) {
			t.Errorf("%v is not %v", tc.err, tc.canon)
		}
		if e := errs.As(tc.err); e == nil || e.Status != tc.canon.(*errs.Error).Status {
			t.Errorf("errs.As(%v) = %v", tc.err, e)
		}
	}
	if errors.Is(ErrDecrypt, ErrNotFound) || errors.Is(notFound("x"), ErrDisabled) {
		t.Error("distinct errors match each other")
	}
}

// stubProvider is a minimal Provider (not an Encrypter) for Counting.
type stubProvider struct{}

func (stubProvider) GenerateDataKey(context.Context, string, map[string]string) (DataKey, error) {
	return DataKey{}, nil
}
func (stubProvider) Decrypt(context.Context, []byte, map[string]string) ([]byte, error) {
	return nil, ErrDecrypt
}
func (stubProvider) DescribeKey(context.Context, string) (KeyInfo, error) {
	return KeyInfo{}, notFound("x")
}

func TestCountingWrapsAnyProvider(t *testing.T) {
	ctx := context.Background()
	c := NewCounting(stubProvider{})
	c.GenerateDataKey(ctx, "", nil)
	c.Decrypt(ctx, nil, nil)
	c.Decrypt(ctx, nil, nil)
	c.DescribeKey(ctx, "x")
	if _, _, err := c.Encrypt(ctx, "", []byte("k"), nil); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Encrypt on a non-Encrypter: %v", err)
	}
	want := map[string]uint64{OpGenerateDataKey: 1, OpDecrypt: 2, OpDescribeKey: 1, OpEncrypt: 1}
	if got := c.Calls(); !maps.Equal(got, want) {
		t.Errorf("Calls() = %v, want %v", got, want)
	}
	c.Reset()
	if got := c.Calls(); !maps.Equal(got, map[string]uint64{OpGenerateDataKey: 0, OpDecrypt: 0, OpDescribeKey: 0, OpEncrypt: 0}) {
		t.Errorf("after Reset: %v", got)
	}
	if _, ok := c.Unwrap().(stubProvider); !ok {
		t.Error("Unwrap")
	}
}

// EncodeContextPair and AppendContextPair (whose value comes in parts)
// encode exactly what EncodeContext encodes for the one-entry map: a cache
// and an unwrap name an object key by one and wrap it by the other.
func TestEncodeContextPair(t *testing.T) {
	for _, tc := range []struct {
		k     string
		parts []string
	}{
		{"aws:s3:arn", []string{"arn:aws:s3:::", "bucket", "/", "some/key"}},
		{"aws:s3:arn", []string{"arn:aws:s3:::b/k"}},
		{"", nil},
		{"k", []string{"", ""}},
	} {
		v := strings.Join(tc.parts, "")
		want := EncodeContext(map[string]string{tc.k: v})
		if got := EncodeContextPair(tc.k, v); !bytes.Equal(got, want) {
			t.Errorf("EncodeContextPair(%q, %q) = %x, want %x", tc.k, v, got, want)
		}
		var buf [8]byte
		prefix := append(buf[:0], "pre"...)
		if got := AppendContextPair(prefix, tc.k, tc.parts...); !bytes.Equal(got, append([]byte("pre"), want...)) {
			t.Errorf("AppendContextPair(%q, %q) = %x, want %x after the prefix", tc.k, tc.parts, got, want)
		}
	}
}
