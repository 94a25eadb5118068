// Package ttlv encodes and decodes KMIP's Tag-Type-Length-Value wire
// format (KMIP 1.x and 2.x share it), the subset strongroom's KMIP client
// needs.
//
// It exists because the maintained Go KMIP libraries (ovh/kmip-go,
// gemalto/kmip-go) cannot be fetched through the module proxy this project
// builds with; the encoding is small and fully specified (KMIP 1.4 §9.1).
package ttlv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Tag identifies a field (3 bytes on the wire, 0x42xxxx for standard tags).
type Tag uint32

// Type is an item's TTLV type.
type Type byte

// Item types (KMIP 1.4 §9.1.1.2).
const (
	TypeStructure   Type = 0x01
	TypeInteger     Type = 0x02
	TypeLongInteger Type = 0x03
	TypeBigInteger  Type = 0x04
	TypeEnumeration Type = 0x05
	TypeBoolean     Type = 0x06
	TypeTextString  Type = 0x07
	TypeByteString  Type = 0x08
	TypeDateTime    Type = 0x09
	TypeInterval    Type = 0x0A
)

// Item is one decoded or to-be-encoded TTLV item. Value holds, by type:
// Structure []Item; Integer, Enumeration and Interval int64 (32-bit on the
// wire); LongInteger and DateTime int64 (DateTime as Unix seconds);
// Boolean bool; TextString string; ByteString and BigInteger []byte.
type Item struct {
	Tag   Tag
	Type  Type
	Value any
}

// Constructors.
func Struct(tag Tag, items ...Item) Item { return Item{tag, TypeStructure, items} }
func Int(tag Tag, v int32) Item          { return Item{tag, TypeInteger, int64(v)} }
func Enum(tag Tag, v uint32) Item        { return Item{tag, TypeEnumeration, int64(v)} }
func Text(tag Tag, v string) Item        { return Item{tag, TypeTextString, v} }
func Bytes(tag Tag, v []byte) Item       { return Item{tag, TypeByteString, v} }
func Bool(tag Tag, v bool) Item          { return Item{tag, TypeBoolean, v} }
func Long(tag Tag, v int64) Item         { return Item{tag, TypeLongInteger, v} }

// Date is a DateTime item.
func Date(tag Tag, t time.Time) Item { return Item{tag, TypeDateTime, t.Unix()} }

// ErrMalformed is returned for input that is not valid TTLV.
var ErrMalformed = errors.New("ttlv: malformed message")

// Append appends the encoding of it to dst.
func Append(dst []byte, it Item) ([]byte, error) {
	dst = append(dst, byte(it.Tag>>16), byte(it.Tag>>8), byte(it.Tag), byte(it.Type))
	lenAt := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	start := len(dst)
	var err error
	switch it.Type {
	case TypeStructure:
		items, _ := it.Value.([]Item)
		for _, c := range items {
			if dst, err = Append(dst, c); err != nil {
				return nil, err
			}
		}
	case TypeInteger, TypeEnumeration, TypeInterval:
		v, ok := it.Value.(int64)
		if !ok {
			return nil, fmt.Errorf("ttlv: tag %06x: want int64", uint32(it.Tag))
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(v))
	case TypeLongInteger, TypeDateTime:
		v, ok := it.Value.(int64)
		if !ok {
			return nil, fmt.Errorf("ttlv: tag %06x: want int64", uint32(it.Tag))
		}
		dst = binary.BigEndian.AppendUint64(dst, uint64(v))
	case TypeBoolean:
		var v uint64
		if b, _ := it.Value.(bool); b {
			v = 1
		}
		dst = binary.BigEndian.AppendUint64(dst, v)
	case TypeTextString:
		s, _ := it.Value.(string)
		dst = append(dst, s...)
	case TypeByteString, TypeBigInteger:
		b, _ := it.Value.([]byte)
		dst = append(dst, b...)
	default:
		return nil, fmt.Errorf("ttlv: tag %06x: unknown type %#x", uint32(it.Tag), it.Type)
	}
	n := len(dst) - start
	binary.BigEndian.PutUint32(dst[lenAt:], uint32(n))
	for n%8 != 0 {
		dst = append(dst, 0)
		n++
	}
	return dst, nil
}

// Encode returns the encoding of it.
func Encode(it Item) ([]byte, error) { return Append(nil, it) }

// HeaderLen is the size of an item's tag, type and length.
const HeaderLen = 8

// Length returns the total encoded size (header, value and padding) of
// the item whose header starts b.
func Length(b []byte) (int, error) {
	if len(b) < HeaderLen {
		return 0, ErrMalformed
	}
	n := int(binary.BigEndian.Uint32(b[4:8]))
	return HeaderLen + padded(n), nil
}

func padded(n int) int { return (n + 7) &^ 7 }

// maxDepth bounds structure nesting (a hostile server cannot recurse us
// out of stack).
const maxDepth = 32

// Decode decodes exactly one item filling b.
func Decode(b []byte) (Item, error) {
	it, n, err := decode(b, 0)
	if err != nil {
		return Item{}, err
	}
	if n != len(b) {
		return Item{}, fmt.Errorf("%w: trailing bytes", ErrMalformed)
	}
	return it, nil
}

func decode(b []byte, depth int) (Item, int, error) {
	if depth > maxDepth {
		return Item{}, 0, fmt.Errorf("%w: nested too deep", ErrMalformed)
	}
	if len(b) < HeaderLen {
		return Item{}, 0, fmt.Errorf("%w: truncated header", ErrMalformed)
	}
	it := Item{Tag: Tag(uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])), Type: Type(b[3])}
	n := int(binary.BigEndian.Uint32(b[4:8]))
	if n < 0 || n > len(b)-HeaderLen {
		return Item{}, 0, fmt.Errorf("%w: length past the end", ErrMalformed)
	}
	v := b[HeaderLen : HeaderLen+n]
	total := HeaderLen + padded(n)
	if total > len(b) {
		total = len(b) // a last item without its padding is tolerated
	}
	fixed := func(size int) error {
		if n != size {
			return fmt.Errorf("%w: tag %06x: bad length %d", ErrMalformed, uint32(it.Tag), n)
		}
		return nil
	}
	switch it.Type {
	case TypeStructure:
		var items []Item
		for p := 0; p < n; {
			c, cn, err := decode(v[p:], depth+1)
			if err != nil {
				return Item{}, 0, err
			}
			items = append(items, c)
			p += cn
		}
		it.Value = items
	case TypeInteger, TypeEnumeration, TypeInterval:
		if err := fixed(4); err != nil {
			return Item{}, 0, err
		}
		if it.Type == TypeInteger {
			it.Value = int64(int32(binary.BigEndian.Uint32(v)))
		} else {
			it.Value = int64(binary.BigEndian.Uint32(v))
		}
	case TypeLongInteger, TypeDateTime:
		if err := fixed(8); err != nil {
			return Item{}, 0, err
		}
		it.Value = int64(binary.BigEndian.Uint64(v))
	case TypeBoolean:
		if err := fixed(8); err != nil {
			return Item{}, 0, err
		}
		it.Value = binary.BigEndian.Uint64(v) != 0
	case TypeTextString:
		it.Value = string(v)
	case TypeByteString, TypeBigInteger:
		it.Value = append([]byte(nil), v...)
	default:
		return Item{}, 0, fmt.Errorf("%w: tag %06x: unknown type %#x", ErrMalformed, uint32(it.Tag), it.Type)
	}
	return it, total, nil
}

// Children returns a structure's items (nil for other types).
func (it Item) Children() []Item {
	items, _ := it.Value.([]Item)
	return items
}

// Find returns the first child with the tag.
func (it Item) Find(tag Tag) (Item, bool) {
	for _, c := range it.Children() {
		if c.Tag == tag {
			return c, true
		}
	}
	return Item{}, false
}

// All returns every child with the tag.
func (it Item) All(tag Tag) []Item {
	var out []Item
	for _, c := range it.Children() {
		if c.Tag == tag {
			out = append(out, c)
		}
	}
	return out
}

// Text returns a child's text value ("" if absent or not text).
func (it Item) Text(tag Tag) string {
	c, _ := it.Find(tag)
	s, _ := c.Value.(string)
	return s
}

// Bytes returns a child's byte string value (nil if absent).
func (it Item) Bytes(tag Tag) []byte {
	c, _ := it.Find(tag)
	b, _ := c.Value.([]byte)
	return b
}

// Int returns a child's integer, enumeration, long or date value, and
// whether it was present.
func (it Item) Int(tag Tag) (int64, bool) {
	c, ok := it.Find(tag)
	v, isInt := c.Value.(int64)
	return v, ok && isInt
}
