package ttlv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	in := Struct(0x420078,
		Int(0x42006A, -1),
		Enum(0x42005C, 0x1F),
		Long(0x420001, 1<<40),
		Bool(0x420002, true),
		Text(0x420055, "strongroom:key@v1"),
		Bytes(0x4200C2, []byte{1, 2, 3}),
		Date(0x420039, time.Unix(1700000000, 0)),
		Struct(0x420008))
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%8 != 0 {
		t.Fatalf("length %d not padded to 8", len(b))
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	in.Children()[7].Value = []Item(nil)
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("decoded %#v\nwant %#v", out, in)
	}
}

// A known encoding from the KMIP 1.4 test cases (an Integer 8 and a Text
// "Hello World").
func TestKnownEncoding(t *testing.T) {
	for _, c := range []struct {
		it   Item
		want string
	}{
		{Int(0x420020, 8), "42002002000000040000000800000000"},
		{Text(0x420020, "Hello World"), "420020070000000b48656c6c6f20576f726c640000000000"},
		{Bool(0x420020, true), "42002006000000080000000000000001"},
		{Struct(0x420020, Enum(0x420004, 254), Int(0x420005, 255)), "42002001000000204200040500000004000000fe000000004200050200000004000000ff00000000"},
	} {
		b, err := Encode(c.it)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != c.want {
			t.Errorf("encode %v = %s, want %s", c.it, got, c.want)
		}
	}
}

func TestMalformed(t *testing.T) {
	good, _ := Encode(Struct(0x420078, Text(0x420055, "x"), Int(0x42006A, 1)))
	deep := Struct(0x420001)
	for range maxDepth + 2 {
		deep = Struct(0x420001, deep)
	}
	deepB, _ := Encode(deep)
	badLen := bytes.Clone(good)
	badLen[15] = 0x20 // the text claims to run past its structure
	for name, b := range map[string][]byte{
		"empty":        nil,
		"short header": good[:5],
		"truncated":    good[:len(good)-9],
		"trailing":     append(bytes.Clone(good), make([]byte, 8)...),
		"too deep":     deepB,
		"bad int size": {0x42, 0, 1, 2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0},
		"unknown type": {0x42, 0, 1, 0x0F, 0, 0, 0, 0},
		"inner length": badLen,
	} {
		if _, err := Decode(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
